#!/usr/bin/env python3
"""End-to-end: every DNS query becomes exactly one event, with the right
fields, and the counters in stats.json agree with the log.

N queries of mixed kinds (answered, no data, refused, FORMERR, NOTIMP,
BADVERS, truncated, dropped, ECS, letter case, class CH) from raw UDP
sockets and TCP connections whose ports we know, plus dig and kdig; after
SIGTERM the log must hold exactly N events (besides the start-up probes),
each matching its query."""

import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (Daemon, build_header, build_query, dig1, ecs_option,  # noqa: E402
                              encode_name, frame, parse_ts, run_main, tcp_connect, tcp_read_msg)

BIG_A = " ".join("10.0.0.%d" % i for i in range(1, 41))


class Q:
    """One query sent and the event it must produce."""

    def __init__(self, pkt, proto, rrname, rrtype, rcode, lst=None, family=None, flags=(),
                 answers=None, ecs=None, edns_size=None, reply=True, rrclass=None, opcode=None):
        self.pkt = pkt
        self.proto = proto
        self.id = struct.unpack("!H", pkt[:2])[0] if len(pkt) >= 2 else 0
        self.rrname = rrname
        self.rrtype = rrtype
        self.rcode = rcode
        self.list = lst
        self.family = family
        self.flags = set(flags) | ({"noreply"} if not reply else set())
        self.answers = answers
        self.ecs = ecs
        self.edns_size = edns_size
        self.reply = reply
        self.rrclass = rrclass
        self.opcode = opcode
        self.src_port = None
        self.got = None


def make_queries(n):
    qs = []
    for i in range(n):
        k = i % 14
        qid = 0x1000 + i
        proto = "TCP" if i % 3 == 0 else "UDP"
        if k == 0:
            name = "Q%d.BaD.example" % i
            qs.append(Q(build_query(name, "A", qid=qid), proto, name, "A", "NOERROR", "megad",
                        "megad-fam", ("aa", "rd"), answers=1))
        elif k == 1:
            name = "q%d.C2.example" % i
            qs.append(Q(build_query(name, "AAAA", qid=qid), proto, name, "AAAA", "NOERROR",
                        "conf", "conficker", ("aa", "rd"), answers=1))
        elif k == 2:
            name = "q%d.bad.example" % i
            qs.append(Q(build_query(name, "MX", qid=qid), proto, name, "MX", "NOERROR", "megad",
                        "megad-fam", ("aa", "rd"), answers=0))
        elif k == 3:
            name = "q%d.good.example" % i
            qs.append(Q(build_query(name, "A", qid=qid), proto, name, "A", "REFUSED",
                        flags=("rd",), answers=0))
        elif k == 4:
            name = "q%d.bad.example" % i
            pkt = build_query(name, "A", qid=qid, edns={"size": 1400, "do": True, "options":
                                                        ecs_option("198.51.100.0", 24)})
            qs.append(Q(pkt, proto, name, "A", "NOERROR", "megad", "megad-fam",
                        ("aa", "rd", "do"), answers=1, ecs="198.51.100.0/24", edns_size=1400))
        elif k == 5:
            name = "q%d.bad.example" % i
            q1 = encode_name(name) + b"\x00\x01\x00\x01"
            pkt = build_header(qid, 0x0100, qd=2) + q1 + q1
            qs.append(Q(pkt, proto, name, "A", "FORMERR", flags=("rd",), answers=0))
        elif k == 6:
            name = "q%d.bad.example" % i
            qs.append(Q(build_query(name, "SOA", qid=qid, opcode=4, flags=0), proto, None, None,
                        "NOTIMP", answers=0, opcode=4))
        elif k == 7:
            name = "q%d.bad.example" % i
            qs.append(Q(build_query(name, "A", qid=qid, edns={"version": 1, "size": 1232}),
                        proto, name, "A", "BADVERS", flags=("rd",), answers=0, edns_size=1232))
        elif k == 8:
            name = "q%d.bad.example" % i
            pkt = build_query(name, "A", qid=qid, flags=0x8100)  # QR set: dropped
            qs.append(Q(pkt, proto, None, None, None, reply=False))
        elif k == 9:
            pkt = struct.pack("!H", qid) + b"\x01\x00\x00"  # 5 bytes: dropped
            qs.append(Q(pkt, proto, None, None, None, reply=False))
        elif k == 10:
            name = "q%d.bad.example" % i
            qs.append(Q(build_query(name, "ANY", qid=qid), proto, name, "ANY", "NOERROR",
                        "megad", "megad-fam", ("aa", "rd"), answers=1))
        elif k == 11:
            name = "q%d.bad.example" % i
            qs.append(Q(build_query(name, "A", qid=qid, qclass=3), proto, name, "A", "REFUSED",
                        flags=("rd",), answers=0, rrclass=3))
        elif k == 12:
            name = "q%d.big.example" % i
            # 40 addresses without EDNS: TC over UDP, all of them over TCP.
            if proto == "UDP":
                qs.append(Q(build_query(name, "A", qid=qid, flags=0), proto, name, "A",
                            "NOERROR", "big", "big", ("aa", "tc"), answers=0))
            else:
                qs.append(Q(build_query(name, "A", qid=qid, flags=0), proto, name, "A",
                            "NOERROR", "big", "big", ("aa",), answers=40))
        else:
            name = "q%d.x.y.z.bad.example" % i
            qs.append(Q(build_query(name, "TXT", qid=qid, flags=0), proto, name, "TXT",
                        "NOERROR", "megad", "megad-fam", ("aa",), answers=0, edns_size=None))
    return qs


def send_all(d, qs):
    """UDP from 4 sockets, TCP over 2 connections; waits for each reply (or
    0.3 s for a drop) so the order and the ports are known."""
    udps = []
    for _ in range(4):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(2.0)
        udps.append(s)
    tcps = [tcp_connect(d.addr) for _ in range(2)]
    try:
        for i, q in enumerate(qs):
            if q.proto == "UDP":
                s = udps[i % 4]
                q.src_port = s.getsockname()[1]
                s.sendto(q.pkt, d.addr)
                s.settimeout(2.0 if q.reply else 0.3)
                try:
                    q.got = s.recv(65535)
                except socket.timeout:
                    q.got = None
            else:
                s = tcps[i % 2]
                q.src_port = s.getsockname()[1]
                s.sendall(frame(q.pkt))
                if q.reply:
                    q.got = tcp_read_msg(s)
        # Drops on TCP leave no trace on the wire: one last query per
        # connection proves the daemon read past them.
        for j, s in enumerate(tcps):
            q = Q(build_query("last%d.bad.example" % j, "A", qid=0xFF00 + j), "TCP",
                  "last%d.bad.example" % j, "A", "NOERROR", "megad", "megad-fam", ("aa", "rd"),
                  answers=1)
            q.src_port = s.getsockname()[1]
            s.sendall(frame(q.pkt))
            q.got = tcp_read_msg(s)
            qs.append(q)
    finally:
        for s in udps + tcps:
            s.close()


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"], "family": "megad-fam"}),
                ("conf", {"names": ["c2.example"], "family": "conficker",
                          "answer_aaaa": "2001:db8::c2"}),
                ("big", {"names": ["big.example"], "answer_a": BIG_A})],
               dns={"answer_a": "192.0.2.10", "answer_aaaa": "2001:db8::10"},
               log={"flush_ms": "200"}, tag="events").start()
    t_start = time.time()
    qs = make_queries(280)
    send_all(d, qs)
    answered = [q for q in qs if q.reply]
    res.check(all(q.got is not None for q in answered), "every answerable query answered",
              [q.rrname for q in answered if q.got is None][:5])
    res.check(all(q.got is None for q in qs if not q.reply and q.proto == "UDP"),
              "dropped UDP queries got no reply")

    # dig and kdig: their ports are theirs, so match by the (unique) name.
    tool_qs = []
    for tool in ("dig", "kdig"):
        for transport in ("udp", "tcp"):
            name = "%s-%s.c2.example" % (tool, transport)
            args = (["+tcp"] if transport == "tcp" else ["+notcp"]) + [name, "AAAA"]
            m = dig1(d.addr, args, tool)
            res.check(m.answer and m.answer[0]["data"] == "2001:db8::c2",
                      "%s %s answered" % (tool, transport), m)
            tool_qs.append((name, transport.upper()))
    t_end = time.time()
    n = len(qs) + len(tool_qs)

    # Before the stop: with flush_ms = 200 the events reach the file soon.
    seen = []

    def enough():
        seen[:] = d.events(strict=False)
        return len(seen) >= n

    res.check(_wait(enough, 5.0), "events on disk within 5 s at flush_ms=200 (before stop)",
              "%d of %d" % (len(seen), n))
    st_live = d.stats()
    d.check_stop(res, "events daemon")
    fin = d.final_stats()

    all_evs = d.events(include_probes=True)
    evs = [e for e in all_evs if e.get("dns", {}).get("rrname", "").lower()
           != "ready-probe.invalid"]
    res.eq(len(evs), n, "exactly one event per query (N = %d)" % n)
    ids = [e["event_id"] for e in all_evs]
    res.eq(len(set(ids)), len(ids), "event_id unique")
    res.check(all(e["event_id"].startswith("e2e-node-") for e in all_evs),
              "event_id carries the node", ids[:3])
    res.check(all(e["event_type"] == "dns" and e["node"] == "e2e-node" for e in all_evs),
              "event_type dns, node e2e-node")
    res.check(all(t_start - 2 <= parse_ts(e["timestamp"]) <= t_end + 2 for e in evs),
              "timestamps within the run", [e["timestamp"] for e in evs[:2]])

    index = {}
    for e in evs:
        index.setdefault((e["proto"], e["src_port"], e["dns"]["id"]), []).append(e)
    bad = 0
    for q in qs:
        key = (q.proto, q.src_port, q.id)
        es = index.get(key, [])
        ctx = "event of %s %s id %#x" % (q.proto, q.rrname or "(no question)", q.id)
        if not res.eq(len(es), 1, ctx + ": one event"):
            bad += 1
            continue
        e = es[0]
        dd = e["dns"]
        want = {"src_ip": "127.0.0.1", "dest_ip": "127.0.0.1", "dest_port": d.port}
        got = {k: e.get(k) for k in want}
        errs = []
        if got != want:
            errs.append("addresses %r" % got)
        if q.rrname is not None and dd.get("rrname") != q.rrname:
            errs.append("rrname %r != %r" % (dd.get("rrname"), q.rrname))
        if q.rrtype is not None and dd.get("rrtype") != q.rrtype:
            errs.append("rrtype %r" % dd.get("rrtype"))
        if q.rcode is not None and dd.get("rcode") != q.rcode:
            errs.append("rcode %r != %r" % (dd.get("rcode"), q.rcode))
        if e.get("list") != q.list or e.get("family") != q.family:
            errs.append("list/family %r/%r" % (e.get("list"), e.get("family")))
        flags = set(dd.get("flags", []))
        if q.reply:
            if flags != q.flags:
                errs.append("flags %s != %s" % (sorted(flags), sorted(q.flags)))
        elif "noreply" not in flags:
            errs.append("no noreply flag: %s" % sorted(flags))
        if q.answers is not None and dd.get("answers") != q.answers:
            errs.append("answers %r != %r" % (dd.get("answers"), q.answers))
        if dd.get("ecs") != q.ecs:
            errs.append("ecs %r" % dd.get("ecs"))
        if q.ecs is not None and dd.get("ecs_scope") != 0:
            errs.append("ecs_scope %r" % dd.get("ecs_scope"))
        if q.edns_size is not None and dd.get("edns_size") != q.edns_size:
            errs.append("edns_size %r" % dd.get("edns_size"))
        if q.rrclass is not None and dd.get("rrclass") != q.rrclass:
            errs.append("rrclass %r" % dd.get("rrclass"))
        if q.opcode is not None and dd.get("opcode") != q.opcode:
            errs.append("opcode %r" % dd.get("opcode"))
        want_len = len(q.got) if q.got is not None else 0
        if dd.get("resp_len") != want_len:
            errs.append("resp_len %r != %d" % (dd.get("resp_len"), want_len))
        if dd.get("rrl") != "pass":
            errs.append("rrl %r" % dd.get("rrl"))
        if errs:
            bad += 1
            res.check(False, ctx + ": fields", "; ".join(errs) + "\n" + str(e))
    res.eq(bad, 0, "every raw query's event has the right fields")
    for name, proto in tool_qs:
        es = [e for e in evs if e["dns"].get("rrname") == name]
        res.check(len(es) == 1 and es[0]["proto"] == proto and es[0]["dns"]["rcode"] == "NOERROR"
                  and es[0].get("list") == "conf" and es[0]["dns"]["rrtype"] == "AAAA",
                  "event of %s over %s" % (name, proto), es)

    # Counters against the log (probes included on both sides).
    drops = [e for e in all_evs if "noreply" in e["dns"]["flags"]]
    replied = [e for e in all_evs if "noreply" not in e["dns"]["flags"]]
    for st, when in ((fin, "after stop"),):
        if not res.check(st is not None, "stats.json written at exit"):
            break
        dns, ev = st["dns"], st["events"]
        res.eq(dns["queries"] + dns["malformed_dropped"], ev["appended"],
               "%s: queries + malformed_dropped = events appended" % when)
        res.eq(ev["appended"], len(all_evs), "%s: events appended = events in the log" % when)
        res.eq(ev["written"], ev["appended"], "%s: events written = appended" % when)
        res.eq(ev["dropped"], 0, "%s: no event dropped" % when)
        res.eq(dns["malformed_dropped"], len(drops), "%s: malformed_dropped = noreply events"
               % when)
        res.eq(dns["queries"], len(replied), "%s: queries = answered events" % when)
        res.eq(dns["udp"], sum(1 for e in replied if e["proto"] == "UDP"), when + ": dns.udp")
        res.eq(dns["tcp"], sum(1 for e in replied if e["proto"] == "TCP"), when + ": dns.tcp")
        res.eq(dns["responses"], len(replied), when + ": dns.responses")
        res.eq(dns["truncated"], sum(1 for e in replied if "tc" in e["dns"]["flags"]),
               when + ": dns.truncated")
        res.eq(dns["seized_hits"], sum(1 for e in replied if e.get("list")),
               when + ": dns.seized_hits")
        rc = {}
        for e in replied:
            rc[e["dns"]["rcode"]] = rc.get(e["dns"]["rcode"], 0) + 1
        got = {k: v for k, v in dns["rcode"].items() if v}
        res.eq(got, rc, when + ": dns.rcode counters = rcodes in the log")
        res.eq(st["dns"]["rrl"], {"slipped": 0, "dropped": 0, "exempt": 0}, when + ": no RRL")
    res.check(st_live["events"]["appended"] >= n, "stats.json before stop counts the events",
              st_live["events"])


def _wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


if __name__ == "__main__":
    run_main("test_dns_events", body)
