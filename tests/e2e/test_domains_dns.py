#!/usr/bin/env python3
"""End-to-end: `sinkhole domains` and `sinkhole blocklist` output in real DNS servers.

Generates a zone (`--format zone`) and serves it with NSD on 127.0.0.1,
then puts Unbound in front of that NSD with three policy zones made by the
binary: an RPZ that answers NXDOMAIN for one family's names, an RPZ that
redirects another family's names to a sinkhole address, and an rpz-ip zone
from `sinkhole blocklist` (IPv4 and IPv6 prefixes). Queries through Unbound
must be refused (NXDOMAIN), redirected, or passed through as intended.

Both servers run in the foreground from a temporary folder on free high
ports and are stopped by PID; every wait is bounded. Needs nsd, unbound and
dig (scripts/deps.sh test installs them); prints a 'skipped' line and
exits 0 only when one of them is missing.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

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
        print("FAIL: %s%s" % (name, (": " + detail) if detail else ""))


def which(prog):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, prog)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(prog)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
            t.close()
    raise RuntimeError("no free port")


def run(args, timeout=60):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def sinkhole(*args):
    return run([SINKHOLE] + list(args))


def dig(port, name, qtype="A"):
    """(status, [answer rdata]) of one query, or (None, []) on no answer."""
    rc, out, _ = run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2",
                      "+norecurse" if qtype.startswith("norec:") else "+recurse",
                      name, qtype.replace("norec:", "")], timeout=15)
    status = None
    answers = []
    for line in out.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        elif line and not line.startswith(";"):
            f = line.split()
            if len(f) >= 5 and f[3] in ("A", "AAAA", "CNAME"):
                answers.append(f[4])
    return status, answers


def wait_answering(port, name, limit=15.0):
    end = time.time() + limit
    while time.time() < end:
        st, _ = dig(port, name)
        if st is not None:
            return True
        time.sleep(0.2)
    return False


def fixture_names(fname, n):
    with open(os.path.join(FIXTURES, fname)) as f:
        return [l.strip() for l in f if l.strip()][:n]


def start(args, log):
    out = open(log, "w")
    return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def tail(path, n=20):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def main():
    for prog in ("nsd", "nsd-checkzone", "unbound", "unbound-checkconf", "dig"):
        if which(prog) is None:
            print("skipped: %s not installed (scripts/deps.sh test)" % prog)
            print("0 passed, 0 failed")
            return 0
    tmp = tempfile.mkdtemp(prefix="sk-domains-dns-")
    try:
        return run_body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_body(tmp):
    procs = []
    try:
        body(tmp, procs)
    finally:
        for p in procs:
            stop(p)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def body(tmp, procs):
    day = "2015-08-28"  # Necurs, newGOZ and Symmi lists published for this period
    zone = os.path.join(tmp, "root.zone")
    rc, _, err = sinkhole("domains", "necurs", "symmi", "tinba", "--date", day,
                          "--format", "zone", "--a", "192.0.2.10", "--aaaa", "2001:db8::10",
                          "--serial", "2015082801", "-o", zone)
    check(rc == 0, "zone export", err)
    # Two records the rpz-ip policy is tested with (test data, not generated).
    with open(zone, "a") as f:
        f.write("c2.example.\tIN\tA\t203.0.113.5\nok.example.\tIN\tA\t198.51.100.65\n")
    rc, out, err = run([which("nsd-checkzone"), ".", zone])
    check(rc == 0 and "ok" in out, "nsd-checkzone accepts the zone", out + err)

    necurs = fixture_names("necurs_2015-08-28.txt", 3)
    symmi = fixture_names("symmi_2015-08-16.txt", 3)
    tinba = fixture_names("tinba_jc74.txt", 3)

    # ---- NSD serves the zone ----
    nsd_dir = os.path.join(tmp, "nsd")
    os.makedirs(nsd_dir)
    nsd_port = free_port()
    conf = os.path.join(nsd_dir, "nsd.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "server:",
            "    ip-address: 127.0.0.1@%d" % nsd_port,
            "    port: %d" % nsd_port,
            "    do-ip4: yes",
            "    do-ip6: no",
            "    server-count: 1",
            '    username: ""',
            '    chroot: ""',
            '    database: ""',
            '    zonesdir: "%s"' % nsd_dir,
            '    zonelistfile: "%s/zone.list"' % nsd_dir,
            '    xfrdfile: "%s/xfrd.state"' % nsd_dir,
            '    xfrdir: "%s"' % nsd_dir,
            '    pidfile: "%s/nsd.pid"' % nsd_dir,
            '    logfile: "%s/nsd.log"' % nsd_dir,
            "    zonefiles-write: 0",
            "    verbosity: 1",
            "    rrl-ratelimit: 0",
            "remote-control:",
            "    control-enable: no",
            "zone:",
            '    name: "."',
            '    zonefile: "%s"' % zone,
            "",
        ]))
    nsd = start([which("nsd"), "-d", "-c", conf], os.path.join(nsd_dir, "stdout.log"))
    procs.append(nsd)
    up = wait_answering(nsd_port, necurs[0])
    check(up, "nsd answers", tail(os.path.join(nsd_dir, "nsd.log")) +
          tail(os.path.join(nsd_dir, "stdout.log")))
    if not up:
        return
    for name in necurs + symmi:
        st, ans = dig(nsd_port, name, "norec:A")
        check(st == "NOERROR" and ans == ["192.0.2.10"], "nsd A %s" % name, "%s %s" % (st, ans))
    st, ans = dig(nsd_port, necurs[1], "norec:AAAA")
    check(st == "NOERROR" and ans == ["2001:db8::10"], "nsd AAAA", "%s %s" % (st, ans))
    st, ans = dig(nsd_port, "www." + symmi[0], "norec:A")
    check(st == "NOERROR" and ans == ["192.0.2.10"], "nsd wildcard below a name",
          "%s %s" % (st, ans))
    st, ans = dig(nsd_port, "not-generated-name.com", "norec:A")
    check(st == "NXDOMAIN", "nsd NXDOMAIN for other names", "%s %s" % (st, ans))

    # ---- Unbound in front of NSD, with the policy zones ----
    ub_dir = os.path.join(tmp, "unbound")
    os.makedirs(ub_dir)
    rpz_nx = os.path.join(ub_dir, "necurs.rpz")
    rc, _, err = sinkhole("domains", "necurs", "--date", day, "--format", "rpz", "--nxdomain",
                          "--origin", "necurs.rpz.test", "--serial", "7", "-o", rpz_nx)
    check(rc == 0, "rpz export (nxdomain)", err)
    rpz_redir = os.path.join(ub_dir, "symmi.rpz")
    rc, _, err = sinkhole("domains", "symmi", "--date", day, "--format", "rpz",
                          "--a", "192.0.2.99", "--origin", "symmi.rpz.test", "--serial", "7",
                          "-o", rpz_redir)
    check(rc == 0, "rpz export (redirect)", err)
    bl = os.path.join(ub_dir, "c2.txt")
    with open(bl, "w") as f:
        f.write("# C&C addresses\n203.0.113.0/24\n198.51.100.66\n2001:db8::/32  # v6 range\n")
    rpz_ip = os.path.join(ub_dir, "c2.rpz")
    rc, _, err = sinkhole("blocklist", bl, "--format", "rpz-ip", "--origin", "c2.rpz.test",
                          "--serial", "7", "-o", rpz_ip)
    check(rc == 0, "blocklist rpz-ip export", err)
    with open(rpz_ip) as f:
        text = f.read()
    check("32.zz.db8.2001.rpz-ip\tCNAME\t." in text, "rpz-ip IPv6 owner uses zz", text)
    check("24.0.113.0.203.rpz-ip\tCNAME\t." in text, "rpz-ip IPv4 owner", text)

    ub_port = free_port()
    ub_conf = os.path.join(ub_dir, "unbound.conf")
    with open(ub_conf, "w") as f:
        f.write("\n".join([
            "server:",
            "    interface: 127.0.0.1",
            "    port: %d" % ub_port,
            "    do-ip6: no",
            "    do-daemonize: no",
            '    chroot: ""',
            '    username: ""',
            '    directory: "%s"' % ub_dir,
            '    pidfile: ""',
            "    use-syslog: no",
            '    logfile: ""',
            "    verbosity: 1",
            "    num-threads: 1",
            "    do-not-query-localhost: no",
            "    qname-minimisation: no",
            "    cache-max-ttl: 0",
            '    module-config: "respip iterator"',
            "stub-zone:",
            '    name: "."',
            "    stub-addr: 127.0.0.1@%d" % nsd_port,
            "rpz:",
            "    name: necurs.rpz.test",
            '    zonefile: "%s"' % rpz_nx,
            "rpz:",
            "    name: symmi.rpz.test",
            '    zonefile: "%s"' % rpz_redir,
            "rpz:",
            "    name: c2.rpz.test",
            '    zonefile: "%s"' % rpz_ip,
            "",
        ]))
    rc, out, err = run([which("unbound-checkconf"), ub_conf])
    check(rc == 0, "unbound-checkconf", out + err)
    ub_log = os.path.join(ub_dir, "unbound.log")
    unbound = start([which("unbound"), "-d", "-c", ub_conf], ub_log)
    procs.append(unbound)
    up = wait_answering(ub_port, tinba[0])
    check(up, "unbound answers", tail(ub_log))
    if not up:
        return
    for name in necurs:
        st, ans = dig(ub_port, name)
        check(st == "NXDOMAIN" and ans == [], "rpz refuses %s" % name, "%s %s" % (st, ans))
        st, ans = dig(ub_port, "sub." + name)
        check(st == "NXDOMAIN", "rpz refuses below %s" % name, "%s %s" % (st, ans))
    for name in symmi:
        st, ans = dig(ub_port, name)
        check(st == "NOERROR" and ans == ["192.0.2.99"], "rpz redirects %s" % name,
              "%s %s" % (st, ans))
    for name in tinba:
        st, ans = dig(ub_port, name)
        check(st == "NOERROR" and ans == ["192.0.2.10"], "no policy: %s resolves" % name,
              "%s %s" % (st, ans))
    st, ans = dig(ub_port, tinba[0], "AAAA")
    check(st == "NXDOMAIN", "rpz-ip (IPv6 prefix, zz) refuses the AAAA answer",
          "%s %s" % (st, ans))
    st, ans = dig(ub_port, "c2.example")
    check(st == "NXDOMAIN", "rpz-ip (IPv4 prefix) refuses 203.0.113.5", "%s %s" % (st, ans))
    st, ans = dig(ub_port, "ok.example")
    check(st == "NOERROR" and ans == ["198.51.100.65"], "rpz-ip leaves 198.51.100.65",
          "%s %s" % (st, ans))
    if failed:
        print(tail(ub_log, 40))


if __name__ == "__main__":
    sys.exit(main())
