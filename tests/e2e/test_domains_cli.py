#!/usr/bin/env python3
"""End-to-end: the `sinkhole domains` and `sinkhole blocklist` commands.

Runs the real binary and checks: fixtures reproduced through the CLI; date
ranges (sets written once, first/last day); every output format; errors
for bad input (exit 2, message listing the valid choices); static families
from a file; --match attributing names in a resolver log to the right
family and day; a seized list accepted by `sinkhole check-config`; and the
blocklist formats and FILE:LINE errors.
"""

import os
import shutil
import subprocess
import sys
import tempfile

SOURCE_DIR = os.environ.get("SK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD_DIR = os.environ.get("SK_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SINKHOLE = os.environ.get("SINKHOLE") or os.path.join(BUILD_DIR, "sinkhole")
FIXTURES = os.path.join(SOURCE_DIR, "tests", "data", "domains")

passed = failed = 0


def check(cond, name, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (name, (": " + str(detail)[:2000]) if detail else ""))


def sk(*args, stdin=None):
    p = subprocess.run([SINKHOLE] + list(args), capture_output=True, text=True, timeout=120,
                       input=stdin)
    return p.returncode, p.stdout, p.stderr


def lines(fname):
    with open(os.path.join(FIXTURES, fname)) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def test_fixtures():
    # (fixture, args); the published list's prefix must equal our first lines.
    cases = [
        ("necurs_2015-08-28.txt", ["necurs", "--date", "2015-08-28"]),
        ("qakbot_2016-02-21.txt", ["qakbot", "--date", "2016-02-29"]),
        ("symmi_2015-08-16.txt", ["symmi", "--date", "2015-08-31"]),
        ("ramnit_79159c10.txt", ["ramnit", "--seed", "79159C10", "--date", "2015-01-01"]),
        ("locky_config1_2016-02-28.txt", ["locky", "--variant", "config1", "--date",
                                          "2016-02-29"]),
    ]
    for fx, args in cases:
        rc, out, err = sk("domains", *args)
        want = lines(fx)
        got = out.splitlines()[:len(want)]
        check(rc == 0 and got == want, "fixture %s via CLI" % fx, err)


def test_ranges():
    rc, out, _ = sk("domains", "necurs", "--from", "2015-08-28", "--to", "2015-09-03")
    names = out.splitlines()
    # 28..31 is one set; 1..3 another: each written once.
    check(rc == 0 and len(names) == 2 * 2048, "necurs range: two sets", len(names))
    rc, out, _ = sk("domains", "necurs", "--from", "2015-08-28", "--to", "2015-09-03",
                    "--format", "csv")
    rows = out.splitlines()
    check(rows[0] == "domain,tld,family,first_day,last_day", "csv header", rows[:1])
    check(rows[1] == "nccojqvabqvkiwhj.mx,mx,necurs,2015-08-28,2015-08-31", "csv row", rows[1])
    check(rows[2049].endswith(",necurs,2015-09-01,2015-09-03"), "csv second set", rows[2049])
    # Pushdo queries 45 day-sets; a one-day run has 45 * 30 names.
    rc, out, _ = sk("domains", "pushdo", "--date", "2019-12-06")
    check(len(out.splitlines()) == 45 * 30, "pushdo 45 sets a day", len(out.splitlines()))
    want = lines("pushdo_kz_v1_2019-12-06.txt")
    check(out.splitlines()[:len(want)] == want, "pushdo fixture via CLI")
    # Date-independent families: one set whatever the range.
    rc, out, _ = sk("domains", "banjori", "--from", "2015-01-01", "--to", "2015-12-31",
                    "--format", "csv")
    rows = out.splitlines()
    check(len(rows) == 1001 and rows[1] == "earnestnessbiophysicalohax.com,com,banjori,"
          "2015-01-01,2015-12-31", "banjori one set over the range", rows[:2])
    rc, out, _ = sk("domains", "all", "--date", "2016-02-28")
    check(rc == 0 and "gegjiimqmlgtdmk.tf" in out.split(), "'all' includes locky")


def test_formats(tmp):
    rc, out, _ = sk("domains", "locky", "--date", "2016-02-28", "--format", "hosts")
    check(rc == 0 and "0.0.0.0 gegjiimqmlgtdmk.tf" in out.splitlines(), "hosts default", out)
    rc, out, _ = sk("domains", "locky", "--date", "2016-02-28", "--format", "hosts", "--a",
                    "192.0.2.1", "--aaaa", "2001:db8::1")
    check("192.0.2.1 gegjiimqmlgtdmk.tf" in out and "2001:db8::1 gegjiimqmlgtdmk.tf" in out,
          "hosts with addresses", out)
    rc, out, _ = sk("domains", "locky", "--date", "2016-02-28", "--format", "rpz", "--serial",
                    "42", "--cname", "sinkhole.example.net")
    ls = out.splitlines()
    check("@\tIN\tSOA\tns1.sinkhole.invalid. hostmaster.sinkhole.invalid. 42 3600 900 604800 300"
          in ls, "rpz SOA with serial", out)
    check("$ORIGIN rpz.sinkhole.invalid." in ls and "@\tIN\tNS\tlocalhost." in ls,
          "rpz origin and NS", out)
    check("gegjiimqmlgtdmk.tf\tCNAME\tsinkhole.example.net." in ls and
          "*.gegjiimqmlgtdmk.tf\tCNAME\tsinkhole.example.net." in ls, "rpz CNAME redirect", out)
    rc, out, _ = sk("domains", "locky", "--date", "2016-02-28", "--format", "rpz")
    check("gegjiimqmlgtdmk.tf\tCNAME\t." in out.splitlines(), "rpz NXDOMAIN default", out)
    rc, out, err = sk("domains", "locky", "--date", "2016-02-28", "--format", "zone", "--a",
                      "192.0.2.10", "--origin", "tf", "--serial", "3")
    check(rc == 0 and "gegjiimqmlgtdmk.tf.\tIN\tA\t192.0.2.10" in out and
          "pccibcjncnhjn.yt" not in out and "left out" in err, "zone origin filters names",
          out + err)
    rc, out, _ = sk("domains", "locky", "--date", "2016-02-28", "--format", "seized")
    ls = out.splitlines()
    check(ls[0].startswith("#") and ls[2:] == lines("locky_config1_2016-02-28.txt"),
          "seized format", out)
    path = os.path.join(tmp, "out.txt")
    rc, out, _ = sk("domains", "symmi", "--date", "2015-08-16", "-o", path)
    check(rc == 0 and out == "" and open(path).read().splitlines() ==
          lines("symmi_2015-08-16.txt"), "-o writes the file")
    check(sorted(os.listdir(tmp)) == ["out.txt"], "-o leaves no temporary file",
          os.listdir(tmp))


def test_errors():
    rc, out, err = sk("domains", "nosuch", "--date", "2015-01-01")
    check(rc == 2 and "valid families:" in err and "necurs" in err and "qakbot" in err,
          "unknown family lists families", err)
    rc, out, err = sk("domains", "necurs", "--date", "2015-13-01")
    check(rc == 2 and "bad date" in err and "YYYY-MM-DD" in err, "bad date", err)
    rc, out, err = sk("domains", "necurs", "--from", "2015-02-29")
    check(rc == 2 and "bad date" in err, "no Feb 29 in 2015", err)
    rc, out, err = sk("domains", "necurs", "--from", "2015-03-02", "--to", "2015-03-01")
    check(rc == 2 and "before" in err, "to before from", err)
    rc, out, err = sk("domains", "ramnit", "--seed", "0xZZ")
    check(rc == 2 and "known seeds:" in err and "0x79159C10" in err, "bad seed lists seeds", err)
    rc, out, err = sk("domains", "ranbyus", "--seed", "123456789")
    check(rc == 2 and "32-bit hex" in err, "seed too large", err)
    rc, out, err = sk("domains", "locky", "--variant", "config9")
    check(rc == 2 and "valid variants:" in err and "config7" in err, "bad variant", err)
    rc, out, err = sk("domains", "necurs", "--format", "json")
    check(rc == 2 and "valid formats:" in err and "rpz" in err, "bad format", err)
    rc, out, err = sk("domains", "newgoz", "--seed", "1")
    check(rc == 2 and "takes no seed" in err, "seed for a seedless family", err)
    rc, out, err = sk("domains", "necurs", "--count", "0")
    check(rc == 2, "count 0", err)
    rc, out, err = sk("domains", "necurs", "--format", "zone")
    check(rc == 2 and "--a" in err, "zone needs an address", err)
    rc, out, err = sk("domains", "necurs", "--a", "2001:db8::1")
    check(rc == 2 and "IPv4" in err, "--a needs IPv4", err)
    rc, out, err = sk("domains", "necurs", "--from", "2000-01-01", "--to", "2020-01-01")
    check(rc == 2 and "too long" in err, "range limit", err)
    rc, out, err = sk("domains")
    check(rc == 2, "no arguments", err)
    rc, out, err = sk("domains", "--help")
    check(rc == 0 and "Usage: sinkhole domains" in out and "Exit status" in out, "--help", err)
    rc, out, err = sk("domains", "--list")
    fams = [l.split()[0] for l in out.splitlines() if l and not l.startswith(" ")]
    check(rc == 0 and len(fams) == 12 and "source:" in out, "--list", out)


def test_static(tmp):
    ff = os.path.join(FIXTURES, "megad-example.list")
    rc, out, err = sk("domains", "megad-example", "--family-file", ff, "--from", "2009-11-10",
                      "--to", "2009-11-20", "--format", "csv")
    want = ["domain,tld,family,first_day,last_day",
            "fallback-one.example,example,megad-example,2009-11-10,2009-11-20",
            "fallback-two.example,example,megad-example,2009-11-10,2009-11-15",
            "fallback-three.example,example,megad-example,2009-11-10,2009-11-20"]
    check(rc == 0 and out.splitlines() == want, "static family with day windows", out + err)
    rc, out, err = sk("domains", "megad-example", "--family-file", ff, "--date", "2009-10-01")
    check(rc == 0 and out.split() == ["fallback-one.example"], "static family before windows",
          out)
    rc, out, err = sk("domains", "--list", "--family-file", ff)
    check("megad-example (aliases: megad-test) -- static list" in out and "names: 3" in out,
          "--list shows static family", out)
    bad = os.path.join(tmp, "bad.list")
    with open(bad, "w") as f:
        f.write("# family: x\nok.example\nbad..example\n")
    rc, out, err = sk("domains", "x", "--family-file", bad)
    check(rc == 2 and bad + ":3:" in err, "static file FILE:LINE error", err)


def test_match(tmp):
    log = os.path.join(tmp, "queries.log")
    with open(log, "w") as f:
        f.write("\n".join([
            "[1440720000] unbound[1:0] info: 10.0.0.5 www.google.com. A IN",
            "[1440720001] unbound[1:0] info: 10.0.0.5 nccojqvabqvkiwhj.mx. A IN",
            "[1440720002] unbound[1:0] info: 10.0.0.6 www.ogovugtuipawi.ddns.net. A IN",
            "10.0.0.7 BQKRTXGKMRIWSIWCNGTIVPX.INFO AAAA",
            "xzz3ug32bale1uo60y7xj6rge.com",
            "2015-09-03 query cmqvvxtppnibli.biz from 10.0.0.8",
            "giywswshrgxcvoqgvrkthmfa.ru",
            "gegjiimqmlgtdmk.tf",
            "kwtoestnessbiophysicalohax.com",
            "fallback-one.example",
            "not.a.dga.example",
            "",
        ]))
    rc, out, err = sk("domains", "--match", log, "--from", "2015-08-01", "--to", "2016-03-31",
                      "--family-file", os.path.join(FIXTURES, "megad-example.list"))
    got = [l for l in out.splitlines() if not l.startswith("#")]
    want = [
        "nccojqvabqvkiwhj.mx necurs default 2015-08-28 2015-08-31 nccojqvabqvkiwhj.mx 2",
        "ogovugtuipawi.ddns.net symmi ddns 2015-08-16 2015-08-31 www.ogovugtuipawi.ddns.net 3",
        "bqkrtxgkmriwsiwcngtivpx.info qakbot default 2016-02-21 2016-02-29 "
        "bqkrtxgkmriwsiwcngtivpx.info 4",
        "xzz3ug32bale1uo60y7xj6rge.com newgoz default 2015-08-31 2015-08-31 "
        "xzz3ug32bale1uo60y7xj6rge.com 5",
        "cmqvvxtppnibli.biz murofet2 nokey 2015-09-03 2015-09-03 cmqvvxtppnibli.biz 6",
        "giywswshrgxcvoqgvrkthmfa.ru murofet v1 2015-09-01 2015-09-06 "
        "giywswshrgxcvoqgvrkthmfa.ru 7",
        "gegjiimqmlgtdmk.tf locky config1 2016-02-28 2016-02-29 gegjiimqmlgtdmk.tf 8",
        "kwtoestnessbiophysicalohax.com banjori default 2015-08-01 2016-03-31 "
        "kwtoestnessbiophysicalohax.com 9",
        "fallback-one.example megad-example list 2015-08-01 2016-03-31 fallback-one.example 10",
    ]
    check(rc == 0 and got == want, "match attributes family and days",
          "\n".join(got) + "\n" + err)
    # The same log over a month without those days: no Necurs or Qakbot hit.
    rc, out, err = sk("domains", "--match", log, "--from", "2015-10-01", "--to", "2015-10-31",
                      "--family", "necurs", "--family", "qbot")
    got = [l for l in out.splitlines() if not l.startswith("#")]
    check(rc == 0 and got == [], "match outside the days finds nothing", out)
    rc, out, err = sk("domains", "--match", "-", "--date", "2016-02-28", stdin="gegjiimqmlgtdmk.tf\n")
    check(rc == 0 and "gegjiimqmlgtdmk.tf locky config1" in out, "match from stdin", out + err)
    rc, out, err = sk("domains", "--match", log, "--family", "nosuch")
    check(rc == 2 and "valid families" in err, "match unknown family", err)


def test_seized_in_config(tmp):
    lst = os.path.join(tmp, "dga.txt")
    rc, _, err = sk("domains", "necurs", "qakbot", "--from", "2015-08-28", "--to", "2015-08-31",
                    "--format", "seized", "-o", lst)
    check(rc == 0, "seized export", err)
    ini = os.path.join(tmp, "sinkhole.ini")
    with open(ini, "w") as f:
        f.write("[server]\ndata_dir = data\n[dns]\nlisten = 127.0.0.1:15399\n"
                "answer_a = 192.0.2.10\n[seized.dga]\nfile = dga.txt\nfamily = necurs\n")
    rc, out, err = sk("check-config", "-c", ini)
    check(rc == 0 and "7048 names" in out + err, "check-config loads the seized list",
          out + err)


def test_blocklist(tmp):
    src = os.path.join(tmp, "c2.txt")
    with open(src, "w") as f:
        f.write("# C&C\n198.51.100.0/24\n198.51.100.7   # inside the /24\n192.0.2.1\n\n"
                "2001:db8::/32\n2001:db8:1::5\n::1\n4:3::1 ; comment\n192.0.2.1\n")
    rc, out, err = sk("blocklist", src)
    got = [l for l in out.splitlines() if not l.startswith("#")]
    check(rc == 0 and got == ["192.0.2.1/32", "198.51.100.0/24", "::1/128", "2001:db8::/32",
                              "4:3::1/128"] or
          got == ["192.0.2.1/32", "198.51.100.0/24", "::1/128", "4:3::1/128", "2001:db8::/32"],
          "cidr: sorted, covered and duplicates dropped", out + err)
    rc, out, err = sk("blocklist", src, "--format", "rpz-ip", "--serial", "9")
    ls = out.splitlines()
    for owner in ("32.1.2.0.192.rpz-ip", "24.0.100.51.198.rpz-ip", "128.1.zz.rpz-ip",
                  "32.zz.db8.2001.rpz-ip", "128.1.zz.3.4.rpz-ip"):
        check(owner + "\tCNAME\t." in ls, "rpz-ip owner " + owner, out)
    check("@\tIN\tSOA\tns1.sinkhole.invalid. hostmaster.sinkhole.invalid. 9 3600 900 604800 300"
          in ls, "rpz-ip SOA", out)
    rc, out, err = sk("blocklist", src, "--format", "nftables", "--table", "c2")
    check(rc == 0 and "table inet c2 {" in out and "type ipv4_addr" in out and
          "192.0.2.1, 198.51.100.0/24" in out and "ip6 daddr @c2_v6 counter drop" in out,
          "nftables", out)
    bad = os.path.join(tmp, "bad.txt")
    for text, lineno, why in (("192.0.2.1\n10.0.0.1/8\n", 2, "host bits"),
                              ("# x\n\n192.0.2.300\n", 3, "not an IPv4/IPv6"),
                              ("192.0.2.1 192.0.2.2\n", 1, "one address"),
                              ("2001:db8::/129\n", 1, "not an IPv4/IPv6")):
        with open(bad, "w") as f:
            f.write(text)
        rc, out, err = sk("blocklist", bad)
        check(rc == 2 and ("%s:%d:" % (bad, lineno)) in err and why in err and out == "",
              "blocklist error %r" % text, err)
    rc, out, err = sk("blocklist", "-", stdin="203.0.113.9\n")
    check(rc == 0 and "203.0.113.9/32" in out, "blocklist from stdin", out + err)
    rc, out, err = sk("blocklist", "-", stdin="x\n")
    check(rc == 2 and err.startswith("sinkhole blocklist: -:1:"), "stdin error names -", err)
    rc, out, err = sk("blocklist", src, "--format", "bgp")
    check(rc == 2 and "valid formats" in err, "blocklist bad format", err)
    rc, out, err = sk("blocklist", os.path.join(tmp, "missing.txt"))
    check(rc == 1, "blocklist missing file", err)
    rc, out, err = sk("blocklist", "--help")
    check(rc == 0 and "rpz-ip" in out and "Exit status" in out, "blocklist --help")


def main():
    tmp = tempfile.mkdtemp(prefix="sk-domains-cli-")
    try:
        test_fixtures()
        test_ranges()
        for name, fn in (("formats", test_formats), ("static", test_static),
                         ("match", test_match), ("seized", test_seized_in_config),
                         ("blocklist", test_blocklist)):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            fn(d)
        test_errors()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
