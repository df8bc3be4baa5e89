"""Shared helpers for the end-to-end tests of `sinkhole serve`.

Standard library only. A test builds a Daemon (config and list files in a
temporary folder, free ports on 127.0.0.1), starts it, talks to it with dig,
kdig or raw sockets, reads what it logged through $SK_EVDUMP and what it
counted through data_dir/stats.json, and stops it with SIGTERM, which must
end with exit status 0. Every wait here is bounded.

A test looks like this:

    from sinkhole_harness import Daemon, dig1, run_main

    def body(res):
        d = Daemon([("megad", {"names": ["bad.example"]})]).start()
        m = dig1(d.addr, ["bad.example", "A"])           # or tool="kdig"
        res.eq(m.data("answer", "A"), ["192.0.2.10"], "answered")
        d.check_stop(res)                                 # SIGTERM, exit 0
        res.eq(len(d.events()), 1, "one event")           # via $SK_EVDUMP

    run_main("test_example", body)                        # "N passed, M failed"

Connection-sinkhole tests add listeners and rules and read the http, tls
and raw events through `sinkhole export`:

    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("web", {"sniff": "auto"})], rules="http.rules").start()
    ... talk to d.laddr("web") ...
    evs = d.wait_conn_events(lambda evs: len(evs) >= 1)

Set SK_E2E_KEEP=1 to keep the temporary folders (they are kept anyway
when a check failed).

Environment (set by ctest; defaults for a manual run from the source tree):
  SINKHOLE       the binary           (default: $SK_BUILD_DIR/sinkhole)
  SK_EVDUMP      the event printer    (default: $SK_BUILD_DIR/tests/evdump)
  SK_SOURCE_DIR  the source tree      (default: two folders above this file)
  SK_BUILD_DIR   the build tree       (default: $SK_SOURCE_DIR/build)
"""

import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SOURCE_DIR = os.environ.get("SK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
)
BUILD_DIR = os.environ.get("SK_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SINKHOLE = os.environ.get("SINKHOLE") or os.path.join(BUILD_DIR, "sinkhole")
EVDUMP = os.environ.get("SK_EVDUMP") or os.path.join(BUILD_DIR, "tests", "evdump")
# Rules files of the connection-sinkhole tests (Daemon(rules=...)).
RULES_DIR = os.path.join(SOURCE_DIR, "tests", "e2e", "rules")

# Signs that a sanitizer caught something in a process's stderr.
SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "ERROR: ThreadSanitizer",
    "WARNING: ThreadSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "SUMMARY: AddressSanitizer",
)

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


class Results:
    """Counts checks; prints each failure and a closing 'N passed, M failed'.

    check(cond, name, detail) records one check. A check that exposes a known
    daemon bug is still an ordinary check: pass bug="..." to label it in the
    output, so it keeps running and failing until the daemon is fixed."""

    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.t0 = time.monotonic()

    def check(self, cond, name, detail="", bug=None):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            label = "FAIL"
            if bug:
                label = "FAIL [DAEMON BUG: %s]" % bug
            msg = "%s: %s" % (label, name)
            if detail:
                msg += "\n    " + str(detail).replace("\n", "\n    ")
            print(msg, flush=True)
            self.failures.append(name)
        return bool(cond)

    def eq(self, got, want, name, bug=None):
        return self.check(got == want, name, "expected %r, got %r" % (want, got), bug=bug)

    def error(self, name, exc):
        self.check(False, name, "".join(traceback.format_exception(exc)).rstrip())

    def finish(self):
        took = time.monotonic() - self.t0
        print("%s: %d passed, %d failed (%.1f s)" % (self.title, self.passed, self.failed, took),
              flush=True)
        sys.exit(1 if self.failed else 0)


_TMP_DIRS = []


def make_tmp(tag):
    """A new temporary folder, removed at the end of a test that passed
    (kept after a failure, or always with SK_E2E_KEEP=1, to look into)."""
    d = tempfile.mkdtemp(prefix="sk-e2e-%s-" % tag)
    _TMP_DIRS.append(d)
    return d


def run_main(title, body, limit_s=170):
    """Run body(results) with an overall time limit; any exception is a
    failure. Daemons registered with the harness are killed on the way out;
    their folders are removed if everything passed."""
    res = Results(title)

    def on_alarm(signum, frame):
        raise TimeoutError("test exceeded its %d s limit" % limit_s)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit_s)
    try:
        for tool in (SINKHOLE, EVDUMP):
            if not os.access(tool, os.X_OK):
                raise RuntimeError("not executable: %s (build first, or set SINKHOLE/SK_EVDUMP)"
                                   % tool)
        body(res)
    except BaseException as e:  # noqa: B902 - report everything, then clean up
        res.error("unexpected exception", e)
    finally:
        signal.alarm(0)
        Daemon.kill_all()
    if res.failed == 0 and not os.environ.get("SK_E2E_KEEP"):
        for d in _TMP_DIRS:
            shutil.rmtree(d, ignore_errors=True)
    elif _TMP_DIRS:
        print("files kept in: %s" % " ".join(_TMP_DIRS[:8])
              + (" ..." if len(_TMP_DIRS) > 8 else ""), flush=True)
    res.finish()


# ---------------------------------------------------------------------------
# Ports and files
# ---------------------------------------------------------------------------


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def ipv6_loopback_ok():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def wait_until(pred, timeout, interval=0.02):
    """Poll pred() until it returns a true value or timeout seconds pass;
    returns the last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def sanitizer_report(text):
    """The lines of text that look like sanitizer output (empty if none)."""
    lines = text.splitlines()
    hits = [i for i, l in enumerate(lines) if any(p in l for p in SANITIZER_PATTERNS)]
    if not hits:
        return ""
    i = hits[0]
    return "\n".join(lines[max(0, i - 2):i + 40])


# ---------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------


class Daemon:
    """One `sinkhole serve` in its own temporary folder.

    lists: list of (name, dict) in config order; the dict holds
      names:   the lines of the list file (a list of str) or text: the file
      family, answer_a, answer_aaaa: written as keys when present
      file:    override the file key (e.g. a path that does not exist)
    dns, server, log: extra keys for those sections (str values), written
      after the defaults here so a test can replace any of them.

    The connection sinkhole:
    listeners: list of (name, dict) in config order, one [listener.NAME]
      each; the dict holds its keys (str values). Each listener gets a free
      port of its own at start (d.ports[name], d.laddr(name)); without a
      "listen" key it listens on 127.0.0.1 at that port, and "{port}" in
      any value is replaced by it. A value of None leaves a key out.
    rules: the [classify] rules file: the name of a file in
      tests/e2e/rules/ or, if it holds a newline, the rules text itself.
      The folder tests/e2e/rules/ is copied next to the config (reply files
      named by @path are found there) and "{port:NAME}" in the rules is
      replaced by listener NAME's port.
    classify: extra keys for [classify].
    sections: list of (section, dict) written as they are, last."""

    _all = []

    def __init__(self, lists, dns=None, server=None, log=None, listen_v6=False, tag="sk",
                 listeners=None, rules=None, classify=None, sections=None):
        self.tmp = make_tmp(tag)
        self.lists = list(lists)
        self.dns_extra = dict(dns or {})
        self.server_extra = dict(server or {})
        self.log_extra = dict(log or {})
        self.listen_v6 = listen_v6
        self.listeners = [(n, dict(spec)) for n, spec in (listeners or [])]
        self.rules = rules
        self.classify_extra = dict(classify or {})
        self.sections = [(n, dict(spec)) for n, spec in (sections or [])]
        self.ports = {}
        self.cfg_path = os.path.join(self.tmp, "sinkhole.ini")
        self.data_dir = os.path.join(self.tmp, "data")
        self.events_dir = os.path.join(self.data_dir, "events")
        self.stdout_path = os.path.join(self.tmp, "stdout.txt")
        self.stderr_path = os.path.join(self.tmp, "stderr.txt")
        self.proc = None
        self.port = None
        self.returncode = None
        self.probes_sent = 0
        Daemon._all.append(self)

    # -- files --

    def list_path(self, name):
        return os.path.join(self.tmp, "lists", name + ".txt")

    def write_list(self, name, names=None, text=None):
        if text is None:
            text = "".join(n + "\n" for n in names)
        write_file(self.list_path(name), text)

    def config_text(self):
        server = {"node": "e2e-node", "data_dir": "data", "workers": "2",
                  "log_level": "info", "stats_interval": "3600"}
        server.update(self.server_extra)
        listen = "127.0.0.1:%d" % self.port
        if self.listen_v6:
            listen += " [::1]:%d" % self.port6
        dns = {"listen": listen, "answer_a": "192.0.2.10", "answer_aaaa": "2001:db8::10",
               "ttl": "300", "not_seized": "refuse", "soa_mname": "ns1.sinkhole.example",
               "soa_rname": "abuse.sinkhole.example", "soa_serial": "2026112801",
               "soa_refresh": "7200", "soa_retry": "1800", "soa_expire": "1209600",
               "soa_minimum": "60", "ns": "ns1.sinkhole.example ns2.sinkhole.example",
               "rrl_ratelimit": "0"}
        dns.update(self.dns_extra)
        out = ["; written by tests/e2e/sinkhole_harness.py", "[server]"]
        out += [kv_line(k, v) for k, v in server.items() if v is not None]
        out += ["", "[dns]"]
        out += [kv_line(k, v) for k, v in dns.items() if v is not None]
        for name, spec in self.lists:
            out += ["", "[seized.%s]" % name]
            if "dga" not in spec:
                out.append("file = %s" % spec.get("file", "lists/%s.txt" % name))
            for k in ("dga", "seed", "variant", "days_before", "days_after",
                      "family", "answer_a", "answer_aaaa"):
                if k in spec:
                    out.append(kv_line(k, spec[k]))
        for name, spec in self.listeners:
            port = self.ports.get(name, 0)
            keys = {"listen": "127.0.0.1:{port}"}
            keys.update(spec)
            out += ["", "[listener.%s]" % name]
            out += [kv_line(k, str(v).replace("{port}", str(port)))
                    for k, v in keys.items() if v is not None]
        if self.rules is not None or self.classify_extra:
            out += ["", "[classify]"]
            keys = {}
            if self.rules is not None:
                keys["rules"] = "rules/" + self.rules_name()
            keys.update(self.classify_extra)
            out += [kv_line(k, v) for k, v in keys.items() if v is not None]
        if self.log_extra:
            out += ["", "[log]"]
            out += [kv_line(k, v) for k, v in self.log_extra.items()]
        for name, spec in self.sections:
            out += ["", "[%s]" % name]
            out += [kv_line(k, v) for k, v in spec.items() if v is not None]
        return "\n".join(out) + "\n"

    def rules_name(self):
        if self.rules is None or "\n" in self.rules:
            return "test.rules"
        return self.rules

    def rules_text(self):
        """The rules as written for this run (ports filled in)."""
        if "\n" in self.rules:
            text = self.rules
        else:
            with open(os.path.join(RULES_DIR, self.rules)) as f:
                text = f.read()
        for name, port in self.ports.items():
            text = text.replace("{port:%s}" % name, str(port))
        return text

    def write_files(self):
        for name, spec in self.lists:
            if "file" in spec or "dga" in spec:
                continue
            self.write_list(name, spec.get("names"), spec.get("text"))
        if self.rules is not None:
            dst = os.path.join(self.tmp, "rules")
            if os.path.isdir(RULES_DIR):
                shutil.copytree(RULES_DIR, dst, dirs_exist_ok=True)
            write_file(os.path.join(dst, self.rules_name()), self.rules_text())
        write_file(self.cfg_path, self.config_text())

    # -- process --

    def start(self, ready_timeout=15):
        """Write the files, start the daemon and wait until it answers.
        Retries with new ports if the first ones were taken meanwhile."""
        last = ""
        for attempt in range(3):
            self.port = free_port()
            if self.listen_v6:
                self.port6 = self.port
            self.ports = {}
            for name, _ in self.listeners:
                p = free_port()
                while p == self.port or p in self.ports.values():
                    p = free_port()
                self.ports[name] = p
            self.write_files()
            self.out_f = open(self.stdout_path, "w")
            self.err_f = open(self.stderr_path, "w")
            self.proc = subprocess.Popen([SINKHOLE, "serve", "-c", self.cfg_path],
                                         stdout=self.out_f, stderr=self.err_f,
                                         stdin=subprocess.DEVNULL, cwd=self.tmp)
            if self.wait_ready(ready_timeout):
                return self
            last = self.stderr()
            self.kill()
            if "cannot listen" not in last:
                break
        raise RuntimeError("daemon did not start; stderr:\n" + last)

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def laddr(self, name):
        """(address, port) of listener NAME on 127.0.0.1."""
        return ("127.0.0.1", self.ports[name])

    def wait_ready(self, timeout):
        """Poll with a UDP query for ready-probe.invalid until any reply
        comes back. Tests leave these probes out (see is_probe())."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    return False
                qid = random.randrange(65536)
                s.sendto(build_query("ready-probe.invalid", "A", qid=qid), self.addr)
                self.probes_sent += 1
                try:
                    while True:
                        data = s.recv(4096)
                        if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == qid:
                            return True
                except (socket.timeout, ConnectionRefusedError):
                    pass
        finally:
            s.close()
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status (None if it had to be
        killed). The caller asserts it is 0."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self.returncode = None
                self._close_files()
                return None
        self.returncode = self.proc.returncode
        self._close_files()
        return self.returncode

    def _close_files(self):
        for f in (getattr(self, "out_f", None), getattr(self, "err_f", None)):
            if f and not f.closed:
                f.close()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()

    @classmethod
    def kill_all(cls):
        for d in cls._all:
            d.kill()

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_report(self):
        return sanitizer_report(self.stderr())

    def check_stop(self, res, what="daemon"):
        """Stop with SIGTERM; check exit 0 and no sanitizer report."""
        rc = self.stop()
        res.eq(rc, 0, "%s: exit status after SIGTERM" % what)
        rep = self.sanitizer_report()
        res.check(rep == "", "%s: no sanitizer report on stderr" % what, rep)
        return rc

    # -- stats.json --

    def read_stats(self):
        try:
            with open(os.path.join(self.data_dir, "stats.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def stats(self, timeout=5):
        """SIGUSR1, then the stats.json written after the signal."""
        # seq counts the daemon's writes: a clock comparison could take the
        # write from before the signal for a fresh one.
        old = self.read_stats()
        seq0 = old.get("seq", 0) if old else 0
        self.signal(signal.SIGUSR1)

        def fresh():
            st = self.read_stats()
            if st and st.get("seq", 0) > seq0:
                return st
            return None

        st = wait_until(fresh, timeout)
        if st is None:
            raise RuntimeError("stats.json was not rewritten within %s s of SIGUSR1" % timeout)
        return st

    def stats_wait(self, pred, timeout=5):
        """Ask for stats until pred(stats) holds; returns the last stats."""
        end = time.monotonic() + timeout
        while True:
            st = self.stats()
            if pred(st) or time.monotonic() >= end:
                return st
            time.sleep(0.05)

    def final_stats(self):
        """stats.json as written at exit (call after stop())."""
        return self.read_stats()

    # -- events --

    def events(self, include_probes=False, strict=True):
        """Every event logged so far, as dicts (evdump's JSON lines). strict:
        raise if evdump reports damage (not strict: for a log still being
        written, take what it could read)."""
        if not os.path.isdir(self.events_dir):
            return []
        p = subprocess.run([EVDUMP, self.events_dir], capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0 and strict:
            raise RuntimeError("evdump exit %d: %s" % (p.returncode, p.stderr[:2000]))
        evs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        if not include_probes:
            evs = [e for e in evs if not is_probe(e)]
        return evs

    # -- connection events (sinkhole export) --

    def export(self, kinds=None, strict=False):
        """Every event logged so far, read with `sinkhole export DATA_DIR
        --format jsonl`, as dicts (names as in docs/events.md). kinds: a
        list of event types to keep. strict: raise if export reports
        damage (not strict: a segment still being written may end in a torn
        record; take what could be read)."""
        if not os.path.isdir(self.events_dir):
            return []
        args = [SINKHOLE, "export", self.data_dir, "--format", "jsonl", "-q"]
        if kinds:
            args += ["--kind", ",".join(kinds)]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0 and (strict or p.returncode != 1):
            raise RuntimeError("sinkhole export exit %d: %s" % (p.returncode, p.stderr[:2000]))
        evs = []
        for line in p.stdout.splitlines():
            if line.strip():
                evs.append(json.loads(line))
        return [e for e in evs if not is_probe(e)]

    def conn_events(self, strict=False):
        """The http, tls and raw events logged so far."""
        return self.export(["http", "tls", "raw"], strict=strict)

    def wait_conn_events(self, pred, timeout=5):
        """Read connection events until pred(events) holds or timeout
        seconds pass; returns the last list read."""
        end = time.monotonic() + timeout
        while True:
            evs = self.conn_events()
            if pred(evs) or time.monotonic() >= end:
                return evs
            time.sleep(0.05)

    # -- reload --

    def reload(self, timeout=10):
        """SIGHUP and wait until stats.json shows the reload (done or
        failed). Returns the stats."""
        st0 = self.stats()
        n0 = st0["lists"]["reloads"] + st0["lists"]["reload_failures"]
        self.signal(signal.SIGHUP)
        st = self.stats_wait(
            lambda s: s["lists"]["reloads"] + s["lists"]["reload_failures"] > n0, timeout)
        if st["lists"]["reloads"] + st["lists"]["reload_failures"] <= n0:
            raise RuntimeError("reload not seen in stats.json within %s s" % timeout)
        return st


def kv_line(key, value, width=150):
    """key = value; a long list of values continues on indented lines (inih
    reads lines of at most 200 characters)."""
    words = str(value).split()
    lines = []
    cur = "%s = " % key
    for w in words:
        if len(cur) + len(w) + 1 > width and not cur.endswith("= "):
            lines.append(cur.rstrip())
            cur = "    "
        cur += w + " "
    lines.append(cur.rstrip())
    return "\n".join(lines)


def is_probe(ev):
    return ev.get("dns", {}).get("rrname", "").lower() == "ready-probe.invalid"


def parse_ts(s):
    """'2026-01-02T03:04:05.123456Z' -> seconds since the epoch (0.0 if bad)."""
    try:
        dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return 0.0
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def run_sinkhole(args, timeout=20):
    """Run the binary with args; returns CompletedProcess (text)."""
    return subprocess.run([SINKHOLE] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------------------
# DNS wire format (our own, for raw-socket tests)
# ---------------------------------------------------------------------------

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41, "DS": 43, "RRSIG": 46, "DNSKEY": 48, "HTTPS": 65, "CAA": 257,
         "IXFR": 251, "AXFR": 252, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5,
          "BADVERS": 16}
RCODE_NAMES = {v: k for k, v in RCODES.items()}
OP_QUERY, OP_NOTIFY, OP_UPDATE = 0, 4, 5


def type_code(t):
    if isinstance(t, int):
        return t
    if t.upper().startswith("TYPE"):
        return int(t[4:])
    return TYPES[t.upper()]


def encode_name(name):
    """Presentation name (str, case kept, trailing dot optional) -> wire."""
    if isinstance(name, bytes):
        return name
    if name in ("", "."):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        if not b or len(b) > 63:
            raise ValueError("bad label in %r" % name)
        out += bytes([len(b)]) + b
    return out + b"\x00"


def build_header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def build_opt(size=1232, version=0, do=False, options=b"", ext_rcode=0, owner=b"\x00"):
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack("!HHIH", 41, size, ttl, len(options)) + options


def ecs_option(prefix, source, scope=0, family=None):
    """EDNS Client Subnet option (code 8) for 'ADDR' with source bits."""
    if family is None:
        family = 2 if ":" in prefix else 1
    raw = socket.inet_pton(socket.AF_INET6 if family == 2 else socket.AF_INET, prefix)
    raw = raw[:(source + 7) // 8]
    data = struct.pack("!HBB", family, source, scope) + raw
    return struct.pack("!HH", 8, len(data)) + data


def build_query(qname, qtype="A", qclass=1, qid=None, flags=0x0100, edns=None, opcode=0):
    """A query. edns: None (no OPT) or a dict of build_opt() arguments."""
    if qid is None:
        qid = random.randrange(65536)
    flags = (flags & ~0x7800) | (opcode << 11)
    body = encode_name(qname) + struct.pack("!HH", type_code(qtype), qclass)
    ar = 0
    if edns is not None:
        body += build_opt(**edns)
        ar = 1
    return build_header(qid, flags, 1, 0, 0, ar) + body


class WireError(Exception):
    pass


def decode_name(buf, pos):
    """-> (presentation name with trailing dot, case kept, position after the
    name where it appears). Raises WireError on anything malformed."""
    labels = []
    end = None
    run_start = pos  # a pointer must point strictly before the run it ends
    total = 0
    while True:
        if pos >= len(buf):
            raise WireError("name runs past the end")
        n = buf[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(buf):
                raise WireError("truncated pointer")
            ptr = ((n & 0x3F) << 8) | buf[pos + 1]
            if end is None:
                end = pos + 2
            if ptr >= run_start:
                raise WireError("compression pointer not strictly backwards")
            pos = run_start = ptr
            continue
        if n & 0xC0:
            raise WireError("reserved label type")
        pos += 1
        if n == 0:
            break
        lab = buf[pos:pos + n]
        if len(lab) < n:
            raise WireError("label runs past the end")
        total += n + 1
        if total + 1 > 255:
            raise WireError("name over 255")
        labels.append(lab)
        pos += n
    if end is None:
        end = pos
    text = "".join(_label_text(l) + "." for l in labels) or "."
    return text, end


def _label_text(lab):
    out = []
    for b in lab:
        c = chr(b)
        if c.isalnum() and b < 128 or c in "-_":
            out.append(c)
        elif c in ".\\":
            out.append("\\" + c)
        else:
            out.append("\\%03d" % b)
    return "".join(out)


class Msg:
    """A parsed DNS message (from raw bytes, dig or kdig).

    rcode is the full rcode name (with the OPT's extended bits when an OPT is
    present); flags a set of "qr", "aa", "tc", "rd", "ra", "ad", "cd";
    question a list of (name, type, class); answer, authority, additional
    lists of RR dicts {name, ttl, class, type, data} where data is a str as
    dig prints it (addresses, names with trailing dots, SOA as 7 fields);
    edns None or {version, do, udp}."""

    def __init__(self):
        self.id = None
        self.opcode = "QUERY"
        self.rcode = None
        self.flags = set()
        self.counts = {}
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.edns = None
        self.raw = None
        self.text = ""

    def __repr__(self):
        return ("Msg(id=%r rcode=%r flags=%s counts=%r q=%r an=%r ns=%r ar=%r edns=%r)" % (
            self.id, self.rcode, sorted(self.flags), self.counts, self.question, self.answer,
            self.authority, self.additional, self.edns))

    def rrs(self, section, rtype=None):
        return [r for r in getattr(self, section) if rtype is None or r["type"] == rtype]

    def data(self, section, rtype=None):
        return sorted(r["data"] for r in self.rrs(section, rtype))


FLAG_BITS = (("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100), ("ra", 0x0080),
             ("ad", 0x0020), ("cd", 0x0010))


def parse_msg(buf):
    """Raw DNS message -> Msg. Raises WireError if it cannot be parsed."""
    if len(buf) < 12:
        raise WireError("short header")
    m = Msg()
    m.raw = buf
    qid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", buf[:12])
    m.id = qid
    m.hflags = fl
    m.opcode = {0: "QUERY", 4: "NOTIFY", 5: "UPDATE"}.get((fl >> 11) & 15, str((fl >> 11) & 15))
    m.opcode_num = (fl >> 11) & 15
    m.flags = {n for n, b in FLAG_BITS if fl & b}
    m.counts = {"QUERY": qd, "ANSWER": an, "AUTHORITY": ns, "ADDITIONAL": ar}
    pos = 12
    for _ in range(qd):
        name, pos = decode_name(buf, pos)
        if pos + 4 > len(buf):
            raise WireError("question truncated")
        t, c = struct.unpack("!HH", buf[pos:pos + 4])
        pos += 4
        m.question.append((name, TYPE_NAMES.get(t, "TYPE%d" % t), c))
    ext = 0
    for sect, n in (("answer", an), ("authority", ns), ("additional", ar)):
        for _ in range(n):
            name, pos = decode_name(buf, pos)
            if pos + 10 > len(buf):
                raise WireError("RR truncated")
            t, c, ttl, rdlen = struct.unpack("!HHIH", buf[pos:pos + 10])
            pos += 10
            rd = buf[pos:pos + rdlen]
            if len(rd) < rdlen:
                raise WireError("rdata truncated")
            rr = {"name": name, "ttl": ttl, "class": c, "type": TYPE_NAMES.get(t, "TYPE%d" % t),
                  "rdata": rd}
            if t == 41:
                if m.edns is not None:
                    raise WireError("two OPT records")
                m.edns = {"version": (ttl >> 16) & 0xFF, "do": bool(ttl & 0x8000), "udp": c,
                          "options": rd, "owner": name}
                ext = ttl >> 24
            else:
                rr["data"] = _rdata_text(buf, pos, t, rd)
                getattr(m, sect).append(rr)
            pos += rdlen
    m.trailing = len(buf) - pos
    code = (ext << 4) | (fl & 15)
    m.rcode = RCODE_NAMES.get(code, "RCODE%d" % code)
    return m


def _rdata_text(buf, pos, t, rd):
    if t == 1 and len(rd) == 4:
        return socket.inet_ntop(socket.AF_INET, rd)
    if t == 28 and len(rd) == 16:
        return socket.inet_ntop(socket.AF_INET6, rd)
    if t in (2, 5, 12):
        return decode_name(buf, pos)[0]
    if t == 6:
        mname, p = decode_name(buf, pos)
        rname, p = decode_name(buf, p)
        nums = struct.unpack("!IIIII", buf[p:p + 20])
        return " ".join([mname, rname] + [str(x) for x in nums])
    return rd.hex()


# ---------------------------------------------------------------------------
# Raw sockets
# ---------------------------------------------------------------------------


def udp_exchange(addr, pkt, timeout=2.0, sock=None):
    """Send one UDP packet, return the first reply with the same id (bytes),
    or None on timeout. Replies with other ids are skipped."""
    own = sock is None
    if own:
        sock = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET,
                             socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(pkt, addr)
        qid = pkt[:2] if len(pkt) >= 2 else None
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                data = sock.recv(65535)
            except socket.timeout:
                return None
            if qid is None or data[:2] == qid:
                return data
    finally:
        if own:
            sock.close()


def udp_query(addr, qname, qtype="A", timeout=2.0, **kw):
    """Build, send and parse one UDP query; returns Msg or None."""
    data = udp_exchange(addr, build_query(qname, qtype, **kw), timeout)
    return parse_msg(data) if data is not None else None


def tcp_connect(addr, timeout=3.0):
    s = socket.create_connection(addr, timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(sock, n):
    """n bytes, or fewer if the peer closed first."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_read_msg(sock):
    """One length-prefixed message (bytes), or None if the peer closed."""
    hdr = recv_exact(sock, 2)
    if len(hdr) < 2:
        return None
    n = struct.unpack("!H", hdr)[0]
    body = recv_exact(sock, n)
    if len(body) < n:
        return None
    return body


def frame(pkt):
    return struct.pack("!H", len(pkt)) + pkt


def tcp_exchange(addr, pkts, timeout=3.0):
    """Send the packets (each framed) in one write on one connection and read
    as many replies; returns a list of bytes (shorter if the peer closed)."""
    s = tcp_connect(addr, timeout)
    try:
        s.sendall(b"".join(frame(p) for p in pkts))
        out = []
        for _ in pkts:
            m = tcp_read_msg(s)
            if m is None:
                break
            out.append(m)
        return out
    finally:
        s.close()


def tcp_query(addr, qname, qtype="A", timeout=3.0, **kw):
    r = tcp_exchange(addr, [build_query(qname, qtype, **kw)], timeout)
    return parse_msg(r[0]) if r else None


def peer_closed(sock, timeout):
    """True if the peer closes (EOF or reset) within timeout seconds; any
    data that arrives first is read and discarded."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not d:
            return True


# ---------------------------------------------------------------------------
# dig and kdig
# ---------------------------------------------------------------------------


def dig(addr, args, tool="dig", timeout=20):
    """Run dig or kdig against addr with args (a list); returns the parsed
    messages (one per query in the invocation) and the raw output.

    Defaults: one try, a 2 s wait, no automatic retry over TCP after TC, no
    DNS cookie (dig). Any of them can be overridden in args."""
    host, port = addr
    if tool == "dig":
        cmd = ["dig", "@" + host, "-p", str(port), "+time=2", "+tries=1", "+nocookie",
               "+ignore", "+nostats"]
    else:
        cmd = ["kdig", "@" + host, "-p", str(port), "+timeout=2", "+retry=0", "+ignore",
               "+nostats"]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    text = p.stdout
    msgs = parse_dig_output(text)
    for m in msgs:
        m.cmd = " ".join(cmd + list(args))
    return msgs, text + p.stderr


def dig1(addr, args, tool="dig"):
    """One query; returns its Msg, or raises with the tool's output."""
    msgs, text = dig(addr, args, tool)
    if len(msgs) != 1:
        raise RuntimeError("%s %s: expected one answer, got %d:\n%s" % (
            tool, " ".join(args), len(msgs), text[-3000:]))
    return msgs[0]


_HDR_RE = re.compile(r"->>HEADER<<- opcode: (\w+)[,;] status: (\w+)[,;] id: (\d+)")
_FLAGS_RE = re.compile(r"^;; [Ff]lags: ([a-z ]*);\s*(.*)$")
_COUNT_RE = re.compile(r"(QUERY|ANSWER|AUTHORITY|ADDITIONAL): (\d+)")
_DIG_EDNS_RE = re.compile(r"^; EDNS: version: (\d+), flags: ?([a-z ]*); udp: (\d+)")
_KDIG_EDNS_RE = re.compile(r"^;; Version: (\d+); flags: ?([a-z ]*); UDP size: (\d+) B")
_SECTIONS = {"QUESTION": "question", "ANSWER": "answer", "AUTHORITY": "authority",
             "ADDITIONAL": "additional"}


def parse_dig_output(text):
    """dig and kdig presentation output -> list of Msg. Also records any
    warning the tool printed about the reply in Msg.warnings."""
    msgs = []
    cur = None
    sect = None
    for line in text.splitlines():
        s = line.strip()
        mh = _HDR_RE.search(s)
        if mh:
            cur = Msg()
            cur.warnings = []
            cur.opcode, cur.rcode, cur.id = mh.group(1), mh.group(2), int(mh.group(3))
            msgs.append(cur)
            sect = None
            continue
        if cur is None:
            continue
        cur.text += line + "\n"
        mf = _FLAGS_RE.match(s)
        if mf:
            cur.flags = set(mf.group(1).split())
            cur.counts = {k: int(v) for k, v in _COUNT_RE.findall(mf.group(2))}
            continue
        me = _DIG_EDNS_RE.match(s) or _KDIG_EDNS_RE.match(s)
        if me:
            cur.edns = {"version": int(me.group(1)), "do": "do" in me.group(2).split(),
                        "udp": int(me.group(3))}
            continue
        ms = re.match(r"^;; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", s)
        if ms:
            sect = _SECTIONS[ms.group(1)]
            continue
        if re.search(r"(?i)warning|malformed|mismatch|error", s) and "recursion" not in s:
            cur.warnings.append(s)
        if not s:
            if sect != "question":
                sect = None
            continue
        if sect == "question":
            if s.startswith(";"):
                f = s.lstrip(";").split()
                if len(f) >= 3:
                    cur.question.append((f[0], f[2], f[1]))
            else:
                sect = None
            continue
        if sect in ("answer", "authority", "additional") and not s.startswith(";"):
            f = s.split()
            if len(f) >= 5:
                cur_rr = {"name": f[0], "ttl": _ttl(f[1]), "class": f[2], "type": f[3],
                          "data": " ".join(f[4:])}
                getattr(cur, sect).append(cur_rr)
    return msgs


def _ttl(s):
    try:
        return int(s)
    except ValueError:
        total = 0
        for num, unit in re.findall(r"(\d+)([wdhms])", s):
            total += int(num) * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
        return total


# ---------------------------------------------------------------------------
# A hostile-input reference: what the rules say the daemon must do with a
# packet. Returns ("drop",) or ("reply", rcode, qdcount).
# ---------------------------------------------------------------------------


def expected_for(pkt):
    """The rules of the daemon spec, applied to one UDP packet."""
    if len(pkt) < 12:
        return ("drop",)
    qid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", pkt[:12])
    if fl & 0x8000 or qd == 0:
        return ("drop",)
    opcode = (fl >> 11) & 15
    if opcode != 0:
        return ("reply", "NOTIMP", None)  # qdcount not constrained by the rules
    # Try to read the first question.
    try:
        _, pos = decode_name(pkt, 12)
        if pos + 4 > len(pkt):
            raise WireError("question truncated")
        qtype, qclass = struct.unpack("!HH", pkt[pos:pos + 4])
        pos += 4
        have_q = True
    except WireError:
        return ("reply", "FORMERR", 0)
    if qd != 1 or an != 0 or ns != 0:
        return ("reply", "FORMERR", 1)
    # Additional section: at most one OPT, owned by the root.
    opt = None
    try:
        for _ in range(ar):
            owner, pos = decode_name(pkt, pos)
            if pos + 10 > len(pkt):
                raise WireError("RR truncated")
            t, c, ttl, rdlen = struct.unpack("!HHIH", pkt[pos:pos + 10])
            pos += 10
            if pos + rdlen > len(pkt):
                raise WireError("rdata truncated")
            if t == 41:
                if opt is not None or owner != ".":
                    raise WireError("bad OPT")
                opt = (c, ttl, pkt[pos:pos + rdlen])
            pos += rdlen
        if opt is not None:
            _check_opt_options(opt[2])
    except WireError:
        return ("reply", "FORMERR", 1)
    if opt is not None and (opt[1] >> 16) & 0xFF != 0:
        return ("reply", "BADVERS", 1)
    return ("reply", "ANSWERABLE", 1, qtype, qclass)


def _check_opt_options(rd):
    p = 0
    while p < len(rd):
        if p + 4 > len(rd):
            raise WireError("option header truncated")
        code, olen = struct.unpack("!HH", rd[p:p + 4])
        p += 4
        if p + olen > len(rd):
            raise WireError("option truncated")
        if code == 8:
            _check_ecs(rd[p:p + olen])
        p += olen


def _check_ecs(d):
    if len(d) < 4:
        raise WireError("ECS too short")
    fam, src, scope = struct.unpack("!HBB", d[:4])
    addr = d[4:]
    if fam not in (1, 2):
        raise WireError("ECS family")
    maxbits = 32 if fam == 1 else 128
    if src > maxbits:
        raise WireError("ECS prefix too long")
    if len(addr) != (src + 7) // 8:
        raise WireError("ECS address length")
    if src % 8 and addr and addr[-1] & (0xFF >> (src % 8)):
        raise WireError("ECS host bits set")


def rand_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))
