#!/usr/bin/env python3
"""Differential test: the sinkhole against NSD serving the same seized names.

NSD serves each seized name as its own zone (SOA and NS at the apex, the
list's addresses at the apex and at "*" below it); the sinkhole serves the
same lists. Every case of tests/e2e/diff/matrix.txt is sent to both over
UDP or TCP, and the replies are compared: reply or none, id echoed, opcode,
rcode (with the OPT's extended bits), header flags (QR AA TC RD RA Z AD CD),
the question exactly as echoed, the answer and authority sections as sets
of records (owner exactly as sent, TTL, class, type, rdata), and the OPT
record (version, UDP size, DO, options), and that nothing trails the last
record. The message id, other additional records and the order inside a
section are not compared.

Every expected difference is a line of tests/e2e/diff/exceptions.txt:
    PATTERN | DIFFERENCE | REASON
PATTERN is one or more globs over case ids (the first matching line
applies; "*" also matches "/"), and
DIFFERENCE is the exact text this test prints for the case ("<qname>"
stands for the question name as sent, "<qtype>" and "<qclass>" for the
case's type and class). A listed case must differ exactly
so, every other case must be identical, and a line that matches no case
is an error. The last line printed is "N passed, M failed"; the exit
status is non-zero on any failure.

Environment: SINKHOLE (the binary), SK_SOURCE_DIR. Options: --only GLOB
(run a subset; repeatable), --show GLOB (print both replies), --list,
--nsd-vs-nsd (check the harness by comparing NSD with a second NSD),
--sinkhole-dns KEY=VALUE (change the sinkhole's config, to see the test
fail), --jobs N, --keep (keep the temp dir).
"""

import argparse
import concurrent.futures
import fnmatch
import os
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "diff"))

import dnswire  # noqa: E402
import matrix  # noqa: E402
import servers  # noqa: E402

UDP_TIMEOUT = 1.5  # per try; a UDP query is tried twice
TCP_TIMEOUT = 3.0
FIELDS = ("reply", "id", "opcode", "rcode", "flags", "question", "answer", "authority",
          "edns", "trailing")


def ask_udp(port, pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("127.0.0.1", port))
        for _ in range(2):
            s.send(pkt)
            s.settimeout(UDP_TIMEOUT)
            try:
                return [s.recv(65535)]
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                return [None]
        return [None]
    finally:
        s.close()


def _read_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def ask_tcp(port, pkts):
    s = socket.create_connection(("127.0.0.1", port), timeout=TCP_TIMEOUT)
    try:
        s.sendall(b"".join(struct.pack("!H", len(p)) + p for p in pkts))
        deadline = time.monotonic() + TCP_TIMEOUT
        out = []
        for _ in pkts:
            head = _read_exact(s, 2, deadline)
            body = _read_exact(s, struct.unpack("!H", head)[0], deadline) if head else None
            out.append(body)
            if body is None:
                break
        return out + [None] * (len(pkts) - len(out))
    finally:
        s.close()


def ask(port, case):
    """The replies (bytes, None for none) to the case's packets; a socket
    error becomes its text for every packet."""
    try:
        if case.transport == "tcp":
            return ask_tcp(port, case.packets)
        return ask_udp(port, case.packets[0])
    except OSError as e:
        return ["socket error: %s" % e] * len(case.packets)


def summary(raw, pkt):
    """Reply bytes -> {field: text} for the comparison."""
    if raw is None:
        return {"reply": "none"}
    if isinstance(raw, str):
        return {"reply": raw}
    r = dnswire.Reply(raw)
    if r.error:
        return {"reply": r.error}
    qid = struct.unpack("!H", pkt[:2])[0] if len(pkt) >= 2 else None
    return {
        "reply": "yes",
        "id": "echoed" if r.id == qid else "0x%04x (query 0x%04x)" % (r.id, qid or 0),
        "opcode": dnswire.OPCODE_NAMES.get(r.opcode, str(r.opcode)),
        "rcode": dnswire.rcode_text(r.rcode),
        "flags": ",".join(r.flags),
        "question": "{" + ", ".join(r.question) + "}",
        "answer": "{" + ", ".join(sorted(r.answer)) + "}",
        "authority": "{" + ", ".join(sorted(r.authority)) + "}",
        "edns": r.edns or "none",
        "trailing": "%d bytes" % r.trailing,
    }


def brief(s):
    if s["reply"] != "yes":
        return s["reply"]
    return "%s %s" % (s["rcode"], s["flags"])


def difference(nsd, sink):
    """The text of every differing field, '' when identical."""
    if nsd["reply"] != "yes" or sink["reply"] != "yes":
        if nsd == sink:
            return ""
        return "reply: nsd=%s / sinkhole=%s" % (brief(nsd), brief(sink))
    out = []
    for f in FIELDS:
        if nsd.get(f) != sink.get(f):
            out.append("%s: nsd=%s / sinkhole=%s" % (f, nsd.get(f), sink.get(f)))
    return "; ".join(out)


def case_difference(case, nsd_raw, sink_raw):
    parts = []
    for i, pkt in enumerate(case.packets):
        d = difference(summary(nsd_raw[i], pkt), summary(sink_raw[i], pkt))
        if d:
            parts.append(d if len(case.packets) == 1 else "#%d %s" % (i + 1, d))
    return " ;; ".join(parts)


def expand(text, case):
    """Fill in the placeholders of an exceptions.txt difference."""
    if case.qname is not None:
        text = text.replace("<qname>", case.qname.rstrip(".") + ".")
    parts = case.id.split("/")
    if len(parts) == 8:
        text = text.replace("<qtype>", parts[2]).replace("<qclass>", parts[3])
    return text


def load_exceptions(path):
    out = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = [c.strip() for c in line.rstrip("\n").split(" | ")]
            if len(cols) != 3 or not all(cols):
                raise SystemExit("%s:%d: expected PATTERN | DIFFERENCE | REASON" % (path, lineno))
            out.append({"line": lineno, "pattern": cols[0], "diff": cols[1], "reason": cols[2],
                        "hits": 0})
    return out


def dig_command(case, port):
    """A dig command line for a block case (raw cases: the hex bytes)."""
    parts = case.id.split("/")
    if len(parts) != 8:
        return "query bytes: " + " ".join(p.hex() for p in case.packets)
    _, _, qtype, qclass, tr, ed, _, fl = parts
    cmd = ["dig", "@127.0.0.1", "-p", str(port), "'%s'" % case.qname, qtype, "-c", qclass,
           "+noadflag", "+nocookie", "+tcp" if tr == "tcp" else "+notcp", "+ignore"]
    ednsmap = {"none": ["+noedns"], "edns": ["+edns=0", "+bufsize=1232"],
               "do": ["+edns=0", "+bufsize=1232", "+dnssec"], "e512": ["+bufsize=512"],
               "e0": ["+bufsize=0"], "e700": ["+bufsize=700"],
               "e1400": ["+bufsize=1400", "+dnssec"], "e4096": ["+bufsize=4096"],
               "e65535": ["+bufsize=65535"], "cookie": ["+cookie=0102030405060708"],
               "ecs": ["+subnet=192.0.2.0/24"], "nsid": ["+nsid"],
               "unknown": ["+ednsopt=65001:abcd"]}
    flagmap = {"rd": [], "nord": ["+norecurse"], "cd": ["+cdflag"], "ad": ["+adflag"],
               "z": ["+zflag"], "aatcra": ["+aaflag", "+tcflag", "+raflag"],
               "all": ["+aaflag", "+tcflag", "+raflag", "+zflag", "+adflag", "+cdflag"]}
    cmd += ednsmap.get(ed, []) + flagmap.get(fl, [])
    return " ".join(cmd) + "   # query bytes: " + case.packets[0].hex()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--show", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--nsd-vs-nsd", action="store_true")
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sinkhole-dns", action="append", default=[], metavar="KEY=VALUE",
                    help="override a [dns] key of the sinkhole only (to see the test fail)")
    args = ap.parse_args()

    diffdir = os.path.join(HERE, "diff")
    m = matrix.Matrix(os.path.join(diffdir, "matrix.txt"))
    cases = m.cases()
    total_cases = len(cases)
    if args.only:
        cases = [c for c in cases if any(fnmatch.fnmatchcase(c.id, g) for g in args.only)]
    if args.list:
        for c in cases:
            print(c.id)
        return 0
    exceptions = [] if args.nsd_vs_nsd else load_exceptions(os.path.join(diffdir,
                                                                         "exceptions.txt"))

    binary = os.environ.get("SINKHOLE")
    if not args.nsd_vs_nsd and not binary:
        src = os.environ.get("SK_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
        binary = os.path.join(src, "build", "sinkhole")
    if not servers.sbin("nsd"):
        print("nsd is not installed (Debian package nsd)")
        print("0 passed, 1 failed")
        return 1

    tmp = tempfile.mkdtemp(prefix="sk-diff-nsd-")
    os.makedirs(os.path.join(tmp, "nsd"))
    os.makedirs(os.path.join(tmp, "other"))
    nsd = servers.Nsd(os.path.join(tmp, "nsd"), servers.free_port(), m.zone, m.lists)
    if args.nsd_vs_nsd:
        other = servers.Nsd(os.path.join(tmp, "other"), servers.free_port(), m.zone, m.lists)
    else:
        other = servers.Sinkhole(os.path.join(tmp, "other"), servers.free_port(), m.zone,
                                 m.lists, m.defaults, binary, args.sinkhole_dns)
    probe_name = m.lists[0]["names"][0]
    failed_start = None
    started = time.monotonic()
    try:
        nsd.check()
        other.check()
        nsd.start()
        other.start()
        nsd.wait_ready(probe_name)
        other.wait_ready(probe_name)
    except (RuntimeError, OSError) as e:
        failed_start = str(e)
    if failed_start:
        nsd.stop()
        other.stop()
        print("setup failed: " + failed_start)
        print("0 passed, 1 failed")
        return 1
    print("nsd on 127.0.0.1:%d, %s on 127.0.0.1:%d, %d of %d cases, temp dir %s" % (
        nsd.port, other.label, other.port, len(cases), total_cases, tmp))

    def run(case):
        return ask(nsd.port, case), ask(other.port, case)

    results = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for case, res in zip(cases, pool.map(run, cases)):
                results[case.id] = res
    finally:
        nsd_rc = nsd.stop()
        other_rc = other.stop()
    elapsed = time.monotonic() - started

    passed, failed = 0, 0
    queries = sum(2 * len(c.packets) for c in cases)
    for case in cases:
        nsd_raw, sink_raw = results[case.id]
        diff = case_difference(case, nsd_raw, sink_raw)
        exc = next((e for e in exceptions
                    if any(fnmatch.fnmatchcase(case.id, g) for g in e["pattern"].split())), None)
        expected = ""
        if exc:
            exc["hits"] += 1
            expected = expand(exc["diff"], case)
        ok = diff == expected
        if any(fnmatch.fnmatchcase(case.id, g) for g in args.show) or not ok:
            print("%s %s" % ("ok  " if ok else "FAIL", case.id))
            if not ok:
                print("   expected: %s" % (expected or "identical replies"))
                if exc:
                    print("   (exceptions.txt:%d)" % exc["line"])
                print("   got:      %s" % (diff or "identical replies"))
                print("   repro:    %s" % dig_command(case, other.port))
            for i, pkt in enumerate(case.packets):
                for who, raw in (("nsd", nsd_raw[i]), (other.label, sink_raw[i])):
                    print("   %-8s %s" % (who, summary(raw, pkt)))
                    print("            %s" % (raw.hex() if isinstance(raw, bytes) else "-"))
        if ok:
            passed += 1
        else:
            failed += 1
    if not args.only:
        for e in exceptions:
            if e["hits"] == 0:
                print("FAIL exceptions.txt:%d: pattern %s matches no case" % (e["line"],
                                                                             e["pattern"]))
                failed += 1
    for who, rc in (("nsd", nsd_rc), (other.label, other_rc)):
        if rc != 0:
            print("FAIL %s exited with %s after SIGTERM; log tail:\n%s" % (
                who, rc, (nsd if who == "nsd" else other).log_tail()))
            failed += 1
    print("%d queries in %.1fs" % (queries, elapsed))
    if args.keep or failed:
        print("temp dir kept: %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
