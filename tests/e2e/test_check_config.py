#!/usr/bin/env python3
"""End-to-end: `sinkhole check-config` (and `serve`) on bad configs.

Each bad config must give exit status 2 and an error line starting with the
exact FILE:LINE: of the problem (the config file, or the list file or rules
file and its line). The example etc/sinkhole.ini and a few valid variants
must pass, and the summary line counts lists, names, listeners and rules.

Mistakes in the config itself are checked with both commands; mistakes
inside a rules file with check-config only (serve's own tests cover how it
loads rules)."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SOURCE_DIR, free_port, make_tmp, run_main,  # noqa: E402
                              run_sinkhole, sanitizer_report, write_file)

BASE = """[server]
node = t1
data_dir = data

[dns]
listen = 127.0.0.1:15353
answer_a = 192.0.2.1
"""

SEIZED_A = """
[seized.a]
file = lists/a.txt
"""


def line_of(text, content, nth=1):
    """1-based number of the nth line of text equal to content (stripped)."""
    seen = 0
    for i, l in enumerate(text.splitlines(), 1):
        if l.strip() == content:
            seen += 1
            if seen == nth:
                return i
    raise ValueError("%r not in config" % content)


# (name, config text, {list name: list text}, [(where, line content or
# number, nth, message fragment)], bug) where "where" is "cfg" or a list
# name; a line given as str is found in that file. A list name holding a
# "/" is a file at that path under the config's folder (a rules file).
def cases():
    lists_a = {"a": "a.example\n"}
    out = [
        ("unknown section with a key", BASE + "\n[bogus]\nx = 1\n" + SEIZED_A, lists_a,
         [("cfg", "[bogus]", 1, "unknown section")], None),
        ("unknown empty section", BASE + "\n[bogus]\n" + SEIZED_A, lists_a,
         [("cfg", "[bogus]", 1, "bogus")], None),
        ("unknown key in [dns]", BASE + "colour = blue\n" + SEIZED_A, lists_a,
         [("cfg", "colour = blue", 1, "unknown key")], None),
        ("unknown key in [server]", BASE.replace("node = t1", "node = t1\nspeed = 3")
         + SEIZED_A, lists_a, [("cfg", "speed = 3", 1, "unknown key")], None),
        ("unknown key in [seized.a]", BASE + SEIZED_A + "colour = red\n", lists_a,
         [("cfg", "colour = red", 1, "unknown key")], None),
        ("unknown key in [log]", BASE + SEIZED_A + "\n[log]\nflush = 3\n", lists_a,
         [("cfg", "flush = 3", 1, "unknown key")], None),
        ("key outside any section", "stray = 1\n" + BASE + SEIZED_A, lists_a,
         [("cfg", "stray = 1", 1, "outside")], None),
        ("bad port", BASE.replace("127.0.0.1:15353", "127.0.0.1:99999") + SEIZED_A, lists_a,
         [("cfg", "listen = 127.0.0.1:99999", 1, "listen")], None),
        ("bad listen address", BASE.replace("127.0.0.1:15353", "300.0.0.1:53") + SEIZED_A,
         lists_a, [("cfg", "listen = 300.0.0.1:53", 1, "listen")], None),
        ("listen without a port", BASE.replace("127.0.0.1:15353", "127.0.0.1") + SEIZED_A,
         lists_a, [("cfg", "listen = 127.0.0.1", 1, "listen")], None),
        ("bad IPv4 answer", BASE.replace("192.0.2.1", "192.0.2.300") + SEIZED_A, lists_a,
         [("cfg", "answer_a = 192.0.2.300", 1, "answer_a")], None),
        ("IPv6 address in answer_a", BASE.replace("192.0.2.1", "2001:db8::1") + SEIZED_A,
         lists_a, [("cfg", "answer_a = 2001:db8::1", 1, "answer_a")], None),
        ("IPv4 address in answer_aaaa", BASE + "answer_aaaa = 192.0.2.7\n" + SEIZED_A, lists_a,
         [("cfg", "answer_aaaa = 192.0.2.7", 1, "answer_aaaa")], None),
        ("bad answer_a in a list section", BASE + SEIZED_A + "answer_a = 1.2.3\n", lists_a,
         [("cfg", "answer_a = 1.2.3", 1, "answer_a")], None),
        ("rrl_exempt with host bits", BASE + "rrl_exempt = 10.0.0.1/8\n" + SEIZED_A, lists_a,
         [("cfg", "rrl_exempt = 10.0.0.1/8", 1, "rrl_exempt")], None),
        ("ttl not a number", BASE + "ttl = abc\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = abc", 1, "ttl")], None),
        ("ttl negative", BASE + "ttl = -1\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = -1", 1, "ttl")], None),
        ("ttl too big", BASE + "ttl = 99999999999\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = 99999999999", 1, "ttl")], None),
        ("ttl with a unit", BASE + "ttl = 300s\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = 300s", 1, "ttl")], None),
        ("workers too many", BASE.replace("node = t1", "node = t1\nworkers = 257") + SEIZED_A,
         lists_a, [("cfg", "workers = 257", 1, "workers")], None),
        ("max_udp_size below 512", BASE + "max_udp_size = 100\n" + SEIZED_A, lists_a,
         [("cfg", "max_udp_size = 100", 1, "max_udp_size")], None),
        ("rrl_ipv4_prefix 33", BASE + "rrl_ipv4_prefix = 33\n" + SEIZED_A, lists_a,
         [("cfg", "rrl_ipv4_prefix = 33", 1, "rrl_ipv4_prefix")], None),
        ("stats_interval 0", BASE.replace("node = t1", "node = t1\nstats_interval = 0")
         + SEIZED_A, lists_a, [("cfg", "stats_interval = 0", 1, "stats_interval")], None),
        ("bad not_seized", BASE + "not_seized = ignore\n" + SEIZED_A, lists_a,
         [("cfg", "not_seized = ignore", 1, "not_seized")], None),
        ("bad soa_mname", BASE + "soa_mname = ns1..example\n" + SEIZED_A, lists_a,
         [("cfg", "soa_mname = ns1..example", 1, "soa_mname")], None),
        ("bad node name", BASE.replace("node = t1", "node = a/b") + SEIZED_A, lists_a,
         [("cfg", "node = a/b", 1, "node")], None),
        ("bad log_level", BASE.replace("node = t1", "node = t1\nlog_level = loud") + SEIZED_A,
         lists_a, [("cfg", "log_level = loud", 1, "log_level")], None),
        ("repeated key", BASE + "ttl = 30\nttl = 60\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = 60", 1, "repeated")], None),
        ("continuation of a key that is not a list", BASE + "ttl = 30\n    60\n" + SEIZED_A,
         lists_a, [("cfg", "60", 1, "ttl")], None),
        ("syntax error", BASE + "this line has no equals sign\n" + SEIZED_A, lists_a,
         [("cfg", "this line has no equals sign", 1, "")], None),
        ("duplicate [seized.a]", BASE + SEIZED_A + "family = one\n" + SEIZED_A, lists_a,
         [("cfg", "[seized.a]", 2, "first at line %d" % (BASE + SEIZED_A).splitlines().index(
             "[seized.a]").__add__(1))], None),
        ("missing file key", BASE + "\n[seized.b]\nfamily = bee\n" + SEIZED_A, lists_a,
         [("cfg", "[seized.b]", 1, "file")], None),
        ("bad section name", BASE + "\n[seized.a b]\nfile = lists/a.txt\n", lists_a,
         [("cfg", "[seized.a b]", 1, "")], None),
        ("list file: bad name", BASE + SEIZED_A,
         {"a": "# comment\nok.example\nbad..example\nlater.example\n"},
         [("a", 3, 1, "bad..example")], None),
        ("list file: label of 64", BASE + SEIZED_A, {"a": "ok.example\n" + "x" * 64 + ".example\n"},
         [("a", 2, 1, "")], None),
        ("list file: name over 255", BASE + SEIZED_A,
         {"a": "\n\n\n" + ".".join(["abcdefghij"] * 24) + "\n"}, [("a", 4, 1, "255")], None),
        ("list file: two names on a line", BASE + SEIZED_A,
         {"a": "ok.example\nfirst.example second.example\n"}, [("a", 2, 1, "one domain")],
         None),
        ("list file: the root", BASE + SEIZED_A, {"a": "ok.example\n.\n"}, [("a", 2, 1, "")],
         None),
        ("same domain in two lists", BASE + SEIZED_A + "\n[seized.b]\nfile = lists/b.txt\n",
         {"a": "one.example\ndup.example\n", "b": "# b\ntwo.example\nDup.Example.\n"},
         [("b", 3, 1, "seized.a")], None),
        ("nonexistent list file", BASE + SEIZED_A.replace("lists/a.txt", "lists/none.txt"),
         {}, [("cfg", "file = lists/none.txt", 1, "none.txt")], None),
        ("every error reported", BASE + "ttl = x\ncolour = blue\n" + SEIZED_A, lists_a,
         [("cfg", "ttl = x", 1, "ttl"), ("cfg", "colour = blue", 1, "colour")], None),
    ]
    out += listener_cases(lists_a)
    return out


def listener_cases(lists_a):
    """Mistakes in [listener.*] and [classify]: config errors for both commands."""
    web = "\n[listener.web]\nlisten = 127.0.0.1:18080\n"
    rules = {"a": "a.example\n", "rules/ok.rules": "rule r family=x\nend\n"}
    return [
        ("listener without listen", BASE + SEIZED_A + "\n[listener.web]\nsniff = http\n",
         lists_a, [("cfg", "[listener.web]", 1, "needs a 'listen' key")], None),
        ("listener with no keys at all", BASE + SEIZED_A + "\n[listener.web]\n", lists_a,
         [("cfg", "[listener.web]", 1, "needs a 'listen' key")], None),
        ("listener: bad listen address", BASE + SEIZED_A
         + "\n[listener.web]\nlisten = 127.0.0.1:80:80\n", lists_a,
         [("cfg", "listen = 127.0.0.1:80:80", 1, "expected ADDRESS:PORT")], None),
        ("listener: bad transport", BASE + SEIZED_A + web + "transport = quic\n", lists_a,
         [("cfg", "transport = quic", 1, "transport: expected tcp or udp, got 'quic'")], None),
        ("listener: bad sniff", BASE + SEIZED_A + web + "sniff = ssh\n", lists_a,
         [("cfg", "sniff = ssh", 1, "sniff: expected auto, http, tls or raw")], None),
        ("listener: bad proxy_protocol", BASE + SEIZED_A + web + "proxy_protocol = lb1\n",
         lists_a, [("cfg", "proxy_protocol = lb1", 1, "proxy_protocol")], None),
        ("listener: timeout 0", BASE + SEIZED_A + web + "idle_timeout_ms = 0\n", lists_a,
         [("cfg", "idle_timeout_ms = 0", 1, "idle_timeout_ms: expected a whole number from 1")],
         None),
        ("listener: capture_bytes over the event's cap", BASE + SEIZED_A + web
         + "capture_bytes = 20000\n", lists_a,
         [("cfg", "capture_bytes = 20000", 1, "from 0 to 16384")], None),
        ("listener: http_max_head too small", BASE + SEIZED_A + web + "http_max_head = 100\n",
         lists_a, [("cfg", "http_max_head = 100", 1, "from 256 to 65536")], None),
        ("listener: max_bytes with a unit", BASE + SEIZED_A + web + "max_bytes = 1MB\n",
         lists_a, [("cfg", "max_bytes = 1MB", 1, "max_bytes")], None),
        ("listener: unknown key", BASE + SEIZED_A + web + "backlog = 5\n", lists_a,
         [("cfg", "backlog = 5", 1, "unknown key 'backlog' in [listener.web]")], None),
        ("listener: repeated section", BASE + SEIZED_A + web
         + "\n[listener.web]\nlisten = 127.0.0.1:18081\n", lists_a,
         [("cfg", "[listener.web]", 2, "appears twice (first at line %d)"
           % line_of(BASE + SEIZED_A + web, "[listener.web]"))], None),
        ("listener: name over 31 characters", BASE + SEIZED_A + "\n[listener." + "x" * 32
         + "]\nlisten = 127.0.0.1:18080\n", lists_a,
         [("cfg", "[listener." + "x" * 32 + "]", 1, "1 to 31 characters")], None),
        ("listener on the DNS address", BASE + SEIZED_A
         + "\n[listener.dns2]\nlisten = 127.0.0.1:15353\ntransport = udp\n", lists_a,
         [("cfg", "listen = 127.0.0.1:15353", 2, "overlaps 127.0.0.1:")], None),
        ("two TCP listeners on one address", BASE + SEIZED_A + web
         + "\n[listener.other]\nlisten = 127.0.0.2:18081\n    0.0.0.0:18080\n", lists_a,
         [("cfg", "0.0.0.0:18080", 1, "overlaps 127.0.0.1:18080 of [listener.web]")], None),
        ("tls = terminate over UDP", BASE + SEIZED_A + web + "transport = udp\ntls = terminate\n",
         lists_a, [("cfg", "tls = terminate", 1, "needs transport = tcp")], None),
        ("tls_cert that does not exist", BASE + SEIZED_A + web
         + "tls = terminate\ntls_cert = certs/none.pem\ntls_key = certs/none.key\n", lists_a,
         [("cfg", "tls_cert = certs/none.pem", 1, "none.pem"),
          ("cfg", "tls_key = certs/none.key", 1, "none.key")], None),
        ("tls_cert without tls_key", BASE + SEIZED_A + web
         + "tls = terminate\ntls_cert = lists/a.txt\n", lists_a,
         [("cfg", "tls_cert = lists/a.txt", 1, "needs tls_key too")], None),
        ("tls_cn without tls = terminate", BASE + SEIZED_A + web + "tls_cn = sinkhole.test\n",
         lists_a, [("cfg", "tls_cn = sinkhole.test", 1, "only with tls = terminate")], None),
        ("rules file that does not exist", BASE + SEIZED_A
         + "\n[classify]\nrules = rules/none.rules\n", lists_a,
         [("cfg", "rules = rules/none.rules", 1, "none.rules")], None),
        ("unknown key in [classify]", BASE + SEIZED_A
         + "\n[classify]\nrules = rules/ok.rules\nengine = pcre\n", rules,
         [("cfg", "engine = pcre", 1, "unknown key 'engine' in [classify]")], None),
    ]


RULES_CFG = BASE + SEIZED_A + """
[listener.web]
listen = 127.0.0.1:18080

[classify]
rules = rules/families.rules
"""


def rules_cases():
    """Mistakes inside the rules file: reported as RULESFILE:LINE by check-config."""
    good = "rule ok family=megad\n    match port=80\nend\n"
    return [
        ("rules: bad regex", RULES_CFG, {"a": "a.example\n", "rules/families.rules": good
                                         + "\nrule bad family=megad\n"
                                         + "    match http.path~\"(a\"\nend\n"},
         [("rules/families.rules", 6, 1, "http.path: bad regex")], None),
        ("rules: every error, and the list's too", RULES_CFG,
         {"a": "a.example\nbad..example\n", "rules/families.rules": good
          + "rule x family=megad\n    botid bytes=zz\nend\nrule ok family=y\nend\n"},
         [("a", 2, 1, "bad..example"), ("rules/families.rules", 5, 1, "botid"),
          ("rules/families.rules", 7, 1, "already defined at line 1")], None),
        ("rules: reply file missing", RULES_CFG,
         {"a": "a.example\n", "rules/families.rules": good
          + "rule page family=megad\n    match proto=http\n"
          + "    reply http status=200 body=@pages/none.html\nend\n"},
         [("rules/families.rules", 6, 1, "none.html")], None),
        ("rules: unknown directive", RULES_CFG,
         {"a": "a.example\n", "rules/families.rules": "\n\nrule r family=x\n    answer 1\nend\n"},
         [("rules/families.rules", 4, 1, "")], None),
    ]


def file_path(tmp, name):
    """Where a list (or, with a "/", any file) of a case is written."""
    if "/" in name:
        return os.path.join(tmp, name)
    return os.path.join(tmp, "lists", name + ".txt")


def run_case(res, name, text, lists, expect, bug, cmds=("check-config", "serve")):
    # A port of our own, in case serve takes a config it should not.
    # (Lines are found in the text as written: the port does not move them.)
    orig, text = text, text.replace("127.0.0.1:15353", "127.0.0.1:%d" % free_port())
    tmp = make_tmp("cc")
    cfg = os.path.join(tmp, "sinkhole.ini")
    write_file(cfg, text)
    for ln, body in lists.items():
        write_file(file_path(tmp, ln), body)
    wants = []
    for where, line, nth, frag in expect:
        if where == "cfg":
            path = cfg
            n = line if isinstance(line, int) else line_of(orig, line, nth)
        else:
            path = file_path(tmp, where)
            n = line if isinstance(line, int) else line_of(lists[where], line, nth)
        wants.append(("%s:%d: " % (path, n), frag))
    for cmd in cmds:
        ctx = "%s: %s" % (cmd, name)
        try:
            p = run_sinkhole([cmd, "-c", cfg], timeout=5)
        except subprocess.TimeoutExpired:
            # serve took the config and started (killed by run()).
            res.check(False, ctx + ": exit status", "still running after 5 s", bug=bug)
            continue
        res.eq(p.returncode, 2, ctx + ": exit status", bug=bug)
        res.check("OK" not in p.stdout, ctx + ": no OK line", p.stdout)
        lines = p.stderr.splitlines()
        for prefix, frag in wants:
            hit = [l for l in lines if l.startswith(prefix) and frag in l]
            res.check(hit, ctx + ": stderr has '%s...%s'" % (prefix, frag), p.stderr[-800:],
                      bug=bug)
        rep = sanitizer_report(p.stderr)
        res.check(rep == "", ctx + ": no sanitizer report", rep)


def body(res):
    for c in cases():
        run_case(res, *c)
    for c in rules_cases():
        run_case(res, *c, cmds=("check-config",))

    # The example config is valid, as shipped, rules and all.
    example = os.path.join(SOURCE_DIR, "etc", "sinkhole.ini")
    p = run_sinkhole(["check-config", "-c", example])
    res.check(p.returncode == 0 and p.stderr == "" and p.stdout == (
        "%s: OK: 2 seized lists, 5 names, 3 listeners, 7 rules\n" % example),
        "etc/sinkhole.ini is valid: lists, names, listeners and rules counted",
        (p.returncode, p.stdout, p.stderr))
    p = run_sinkhole(["check-config", "-q", "-c", example])
    res.check(p.returncode == 0 and p.stdout == "", "check-config -q: silent when valid",
              (p.returncode, p.stdout, p.stderr))
    # Valid variants: long lists continued on indented lines, comments,
    # an answer override, IPv6 listen, defaults everywhere else.
    tmp = make_tmp("cc-ok")
    cfg = os.path.join(tmp, "ok.ini")
    addrs = ["10.9.%d.%d" % (i // 200, i % 200) for i in range(64)]
    write_file(cfg, "; comment\n# comment too\n[dns]\nlisten = 127.0.0.1:15353, [::1]:15353\n"
               "answer_a = " + " ".join(addrs[:12]) + "\n    " + " ".join(addrs[12:24])
               + "\n\t" + ", ".join(addrs[24:36]) + "\n"
               "ttl = 300 ; inline comment\n\n[seized.x]\nfile = x.txt\n"
               "answer_aaaa = 2001:db8::1\n")
    write_file(os.path.join(tmp, "x.txt"), "\ufeffa.example\n  b.example  \n# c\n\nD.Example.\n")
    p = run_sinkhole(["check-config", "-c", cfg])
    res.check(p.returncode == 0 and "3 names" in p.stdout,
              "valid variant (continued list, BOM, comments, trailing dot): OK, 3 names",
              (p.returncode, p.stdout, p.stderr))
    # 65 addresses are one too many.
    chunks = [" ".join(addrs[i:i + 12]) for i in range(0, 64, 12)]
    write_file(cfg, "[dns]\nlisten = 127.0.0.1:15353\nanswer_a = " + "\n    ".join(chunks)
               + "\n    10.10.10.10\n[seized.x]\nfile = x.txt\n")
    p = run_sinkhole(["check-config", "-c", cfg])
    res.check(p.returncode == 2 and ("%s:9: " % cfg) in p.stderr,
              "65 answer_a addresses: exit 2 at the line of the 65th", (p.returncode, p.stderr))
    # Listeners and rules that load: TCP and UDP on one port, IPv6, every
    # key given once; the counts in the summary.
    tmp = make_tmp("cc-listen")
    cfg = os.path.join(tmp, "ok.ini")
    # A real certificate and key (check-config loads them as serve does).
    os.makedirs(os.path.join(tmp, "certs"), exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=cc.test",
                    "-keyout", os.path.join(tmp, "certs", "s.key"),
                    "-out", os.path.join(tmp, "certs", "s.pem")],
                   check=True, capture_output=True, timeout=30)
    write_file(os.path.join(tmp, "r", "f.rules"),
               "rule a family=megad\n  match port=18080\nend\n"
               "rule b family=-\n  reply close\nend\n")
    write_file(cfg, "[dns]\nlisten = 127.0.0.1:15353\n\n"
               "[listener.web]\nlisten = 127.0.0.1:18080 [::1]:18080\nsniff = auto\n"
               "proxy_protocol = 127.0.0.2 10.0.0.0/8\nsniff_timeout_ms = 60000\n"
               "header_timeout_ms = 3000\nidle_timeout_ms = 30000\ntotal_timeout_ms = 1500\n"
               "max_connections = 6\nmax_per_source = 0\nmax_bytes = 4194304\n"
               "capture_bytes = 16384\nhttp_body_bytes = 0\nhttp_max_head = 1024\n\n"
               "[listener.web-udp]\nlisten = 127.0.0.1:18080\ntransport = udp\n\n"
               "[listener.tls]\nlisten = 127.0.0.1:18443\ntls = terminate\n"
               "tls_cert = certs/s.pem\ntls_key = certs/s.key\n\n"
               "[listener.tls2]\nlisten = 127.0.0.1:18444\ntls = terminate\nsniff = tls\n"
               "tls_cn = sinkhole.test\n\n"
               "[classify]\nrules = r/f.rules\n")
    p = run_sinkhole(["check-config", "-c", cfg])
    res.check(p.returncode == 0 and p.stderr == ""
              and p.stdout == "%s: OK: 0 seized lists, 0 names, 4 listeners, 2 rules\n" % cfg,
              "listeners and rules that load: OK with their counts",
              (p.returncode, p.stdout, p.stderr))
    # The same files swapped (a key where the certificate belongs): the
    # listener's line and the reason.
    text = open(cfg).read().replace("tls_cert = certs/s.pem\ntls_key = certs/s.key",
                                    "tls_cert = certs/s.key\ntls_key = certs/s.pem")
    write_file(cfg, text)
    tls_line = text.split("\n").index("[listener.tls]") + 1
    p = run_sinkhole(["check-config", "-c", cfg])
    res.check(p.returncode == 2 and ("%s:%d: listener tls: TLS: " % (cfg, tls_line)) in p.stderr
              and "s.key" in p.stderr and p.stdout == "",
              "certificate and key swapped: exit 2 at the listener, naming the file",
              (p.returncode, p.stdout, p.stderr))
    write_file(cfg, "[listener.one]\nlisten = 127.0.0.1:18080\n")
    p = run_sinkhole(["check-config", "-c", cfg])
    res.check(p.returncode == 0
              and p.stdout == "%s: OK: 0 seized lists, 0 names, 1 listener, 0 rules\n" % cfg,
              "one listener, no rules: singular, 0 rules", (p.returncode, p.stdout, p.stderr))

    # A config that cannot be opened: exit 2 (or 1) and the path named.
    p = run_sinkhole(["check-config", "-c", os.path.join(tmp, "missing.ini")])
    res.check(p.returncode in (1, 2) and "missing.ini" in p.stderr,
              "missing config file: an error naming it", (p.returncode, p.stderr))


if __name__ == "__main__":
    run_main("test_check_config", body)
