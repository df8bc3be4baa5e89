#!/usr/bin/env python3
"""End-to-end: every answer rule of the DNS sinkhole, asked with dig and kdig
over UDP and TCP, with and without EDNS, and with raw packets where a tool
cannot show the detail (exact letter case on the wire, exact size limits,
pipelining in one write, AXFR/IXFR).

Two daemons: A (not_seized = refuse, several lists with their own answers)
and B (not_seized = nxdomain, no global addresses, ttl below soa_minimum,
max_udp_size 512)."""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (Daemon, build_query, dig, dig1, ecs_option,  # noqa: E402
                              frame, ipv6_loopback_ok, parse_msg, run_main, tcp_connect,
                              tcp_exchange, tcp_query, tcp_read_msg, udp_exchange, udp_query)

MEGAD_A = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
MEGAD_AAAA = ["2001:db8::10", "2001:db8::11"]
CONF_A = ["198.51.100.20", "198.51.100.21"]
SIX_AAAA = ["2001:db8::66"]
MID_A = ["10.1.0.%d" % i for i in range(1, 26)]  # 25 records: 429 bytes without OPT
BIG_A = ["10.0.0.%d" % i for i in range(1, 41)]  # 40 records: 669 bytes without OPT
BIG_AAAA = ["2001:db8::1:%x" % i for i in range(64)]  # 64 records: 1792 bytes of answers
TTL = 300
NEG_TTL = 60  # min(ttl 300, soa_minimum 60)
SOA_DATA = "ns1.sinkhole.example. abuse.sinkhole.example. 2026112801 7200 1800 1209600 60"
NS_DATA = ["ns1.sinkhole.example.", "ns2.sinkhole.example."]

TOOLS = ("dig", "kdig")
TRANSPORTS = ("udp", "tcp")
EDNS_MODES = ("noedns", "edns0", "bufsize")
EDNS_ARGS = {"noedns": ["+noedns"], "edns0": ["+edns=0"], "bufsize": ["+bufsize=4096"]}


def variant_args(tool, transport, edns):
    return (["+tcp"] if transport == "tcp" else ["+notcp"]) + EDNS_ARGS[edns]


def same_name(tool, got, want):
    """dig shows names as they are on the wire; kdig shows them in lower
    case, so only dig (and raw packets) can check the letter case."""
    want = want if want.endswith(".") else want + "."
    if tool == "kdig":
        return got.lower() == want.lower()
    return got == want


class Checker:
    def __init__(self, res, addr, max_udp=1232):
        self.res = res
        self.addr = addr
        self.max_udp = max_udp

    def ask(self, tool, transport, edns, qname, qtype, extra=(), post=()):
        args = variant_args(tool, transport, edns) + list(extra) + [qname, qtype] + list(post)
        ctx = "%s %s %s %s %s" % (tool, transport, edns, qname, qtype)
        try:
            m = dig1(self.addr, args, tool)
        except Exception as e:  # the tool printed no answer
            self.res.check(False, ctx + ": an answer", str(e))
            return None, ctx
        return m, ctx

    def common(self, m, ctx, tool, edns, qname, qtype):
        r = self.res
        r.check("qr" in m.flags, ctx + ": QR set", m)
        r.check("ra" not in m.flags, ctx + ": RA clear", m)
        r.check(not m.warnings, ctx + ": the tool saw no problem", m.warnings)
        ok_q = (len(m.question) == 1 and same_name(tool, m.question[0][0], qname)
                and m.question[0][1] == qtype)
        r.check(ok_q, ctx + ": question echoed", m.question)
        if edns == "noedns":
            r.check(m.edns is None, ctx + ": no OPT without EDNS", m.edns)
        else:
            r.check(m.edns is not None and m.edns["version"] == 0
                    and m.edns["udp"] == self.max_udp and not m.edns["do"],
                    ctx + ": OPT echoed (version 0, udp %d, no DO)" % self.max_udp, m.edns)

    def positive(self, m, ctx, tool, qname, rtype, want, ttl=TTL):
        r = self.res
        r.eq(m.rcode, "NOERROR", ctx + ": rcode")
        r.check("aa" in m.flags, ctx + ": AA set", m.flags)
        r.check("tc" not in m.flags, ctx + ": TC clear", m.flags)
        r.eq(sorted(rr["data"] for rr in m.answer), sorted(want), ctx + ": answer data")
        r.check(all(rr["type"] == rtype for rr in m.answer), ctx + ": answer types", m.answer)
        r.check(all(rr["ttl"] == ttl for rr in m.answer), ctx + ": answer TTL %d" % ttl,
                [rr["ttl"] for rr in m.answer])
        r.check(all(same_name(tool, rr["name"], qname) for rr in m.answer),
                ctx + ": answer owner = qname as asked", [rr["name"] for rr in m.answer])
        r.eq(m.counts.get("ANSWER"), len(want), ctx + ": ANSWER count")

    def nodata(self, m, ctx, apex, neg_ttl=NEG_TTL, soa=SOA_DATA):
        r = self.res
        r.eq(m.rcode, "NOERROR", ctx + ": rcode")
        r.check("aa" in m.flags, ctx + ": AA set", m.flags)
        r.eq(m.answer, [], ctx + ": empty answer")
        auth = [(rr["name"].lower(), rr["type"], rr["ttl"], rr["data"]) for rr in m.authority]
        r.eq(auth, [(apex + ".", "SOA", neg_ttl, soa)], ctx + ": SOA of the apex in authority")

    def refused(self, m, ctx):
        r = self.res
        r.eq(m.rcode, "REFUSED", ctx + ": rcode")
        r.check("aa" not in m.flags, ctx + ": AA clear", m.flags)
        r.eq(m.answer, [], ctx + ": empty answer")
        r.eq(m.authority, [], ctx + ": empty authority")

    def matrix(self, qname, qtype, expect):
        """Ask qname/qtype in every tool x transport x EDNS mode and apply
        expect(checker, msg, ctx, tool)."""
        for tool in TOOLS:
            for transport in TRANSPORTS:
                for edns in EDNS_MODES:
                    m, ctx = self.ask(tool, transport, edns, qname, qtype)
                    if m is None:
                        continue
                    self.common(m, ctx, tool, edns, qname, qtype)
                    expect(self, m, ctx, tool)


def pos(rtype, want, ttl=TTL):
    def f(c, m, ctx, tool):
        qname = m.question[0][0] if m.question else ""
        c.positive(m, ctx, tool, qname, rtype, want, ttl)
    return f


def nod(apex, neg_ttl=NEG_TTL, soa=SOA_DATA):
    return lambda c, m, ctx, tool: c.nodata(m, ctx, apex, neg_ttl, soa)


def refused(c, m, ctx, tool):
    c.refused(m, ctx)


def soa_at_apex(c, m, ctx, tool):
    r = c.res
    r.eq(m.rcode, "NOERROR", ctx + ": rcode")
    r.check("aa" in m.flags, ctx + ": AA set", m.flags)
    r.eq([(rr["type"], rr["ttl"], rr["data"]) for rr in m.answer], [("SOA", TTL, SOA_DATA)],
         ctx + ": the SOA (config fields, TTL = ttl)")
    r.check(all(same_name(tool, rr["name"], "bad.example") for rr in m.answer),
            ctx + ": SOA owner", m.answer)


def ns_at_apex(c, m, ctx, tool):
    r = c.res
    r.eq(m.rcode, "NOERROR", ctx + ": rcode")
    r.check("aa" in m.flags, ctx + ": AA set", m.flags)
    r.eq(sorted((rr["type"], rr["ttl"], rr["data"]) for rr in m.answer),
         [("NS", TTL, n) for n in NS_DATA], ctx + ": the NS set (TTL = ttl)")


def main_daemon():
    return Daemon(
        [("megad", {"names": ["# Mega-D fallback domains", "Bad.Example", "",
                              "other.megad.example   # a trailing comment"],
                    "family": "megad-fam"}),
         ("conficker", {"names": ["conf.example", "sub.bad.example"],
                        "answer_a": " ".join(CONF_A)}),
         ("v6only", {"names": ["six.example"], "answer_aaaa": " ".join(SIX_AAAA)}),
         ("mid", {"names": ["mid.example"], "answer_a": " ".join(MID_A)}),
         ("big", {"names": ["big.example"], "answer_a": " ".join(BIG_A),
                  "answer_aaaa": " ".join(BIG_AAAA)})],
        dns={"answer_a": " ".join(MEGAD_A), "answer_aaaa": " ".join(MEGAD_AAAA)},
        listen_v6=ipv6_loopback_ok(), tag="answers")


def test_matrix(res, d):
    c = Checker(res, d.addr)
    c.matrix("bad.example", "A", pos("A", MEGAD_A))
    c.matrix("www.x.bad.example", "A", pos("A", MEGAD_A))
    c.matrix("bad.example", "AAAA", pos("AAAA", MEGAD_AAAA))
    c.matrix("deep.Other.Megad.Example", "AAAA", pos("AAAA", MEGAD_AAAA))
    c.matrix("bad.example", "SOA", soa_at_apex)
    c.matrix("bad.example", "NS", ns_at_apex)
    c.matrix("bad.example", "MX", nod("bad.example"))
    c.matrix("x.bad.example", "TXT", nod("bad.example"))
    c.matrix("x.bad.example", "SOA", nod("bad.example"))
    c.matrix("x.bad.example", "NS", nod("bad.example"))
    c.matrix("bad.example", "ANY", pos("A", MEGAD_A))
    c.matrix("w.bad.example", "ANY", pos("A", MEGAD_A))
    # Longest seized name wins; per-list answers; an override of A only
    # leaves the list without AAAA (docs/config.md).
    c.matrix("sub.bad.example", "A", pos("A", CONF_A))
    c.matrix("x.sub.bad.example", "A", pos("A", CONF_A))
    c.matrix("sub.bad.example", "AAAA", nod("sub.bad.example"))
    c.matrix("sub2.bad.example", "A", pos("A", MEGAD_A))
    c.matrix("conf.example", "A", pos("A", CONF_A))
    c.matrix("six.example", "A", nod("six.example"))
    c.matrix("six.example", "ANY", pos("AAAA", SIX_AAAA))
    c.matrix("w.six.example", "ANY", pos("AAAA", SIX_AAAA))
    c.matrix("mid.example", "A", pos("A", MID_A))
    # Outside every list: beside, above, and a string suffix that is not a
    # label suffix.
    for name in ("good.example", "notbad.example", "ad.example", "example", "bad.example.org"):
        c.matrix(name, "A", refused)


def test_big(res, d):
    """TC when the answer does not fit; the full answer over TCP."""
    c = Checker(res, d.addr)
    for tool in TOOLS:
        for edns, tc in (("noedns", True), ("edns0", False), ("bufsize", False)):
            # dig and kdig ask with 1232 for +edns=0: 680 bytes fit.
            m, ctx = c.ask(tool, "udp", edns, "big.example", "A")
            if m is None:
                continue
            c.common(m, ctx, tool, edns, "big.example", "A")
            if tc:
                res.check("tc" in m.flags, ctx + ": TC set", m.flags)
                res.eq(m.answer, [], ctx + ": empty answer with TC")
                res.eq(m.rcode, "NOERROR", ctx + ": rcode with TC")
                res.check("aa" in m.flags, ctx + ": AA with TC", m.flags)
            else:
                c.positive(m, ctx, tool, "big.example", "A", BIG_A)
        for edns in EDNS_MODES:
            m, ctx = c.ask(tool, "tcp", edns, "big.example", "A")
            if m is not None:
                c.common(m, ctx, tool, edns, "big.example", "A")
                c.positive(m, ctx, tool, "big.example", "A", BIG_A)
            # 64 AAAA (1803 bytes) never fit in UDP: 1232 is the ceiling.
            m, ctx = c.ask(tool, "udp", edns, "big.example", "AAAA")
            if m is not None:
                c.common(m, ctx, tool, edns, "big.example", "AAAA")
                res.check("tc" in m.flags and m.answer == [], ctx + ": TC, no answer",
                          m.flags)
            m, ctx = c.ask(tool, "tcp", edns, "big.example", "AAAA")
            if m is not None:
                c.common(m, ctx, tool, edns, "big.example", "AAAA")
                c.positive(m, ctx, tool, "big.example", "AAAA", BIG_AAAA)
        # Small client sizes: 600 < 680 -> TC; below 512 counts as 512, so
        # the 440-byte mid.example answer fits even with +bufsize=100.
        m, ctx = c.ask(tool, "udp", "edns0", "big.example", "A", ["+bufsize=600"])
        if m is not None:
            res.check("tc" in m.flags and m.answer == [], ctx + " +bufsize=600: TC", m)
        m, ctx = c.ask(tool, "udp", "edns0", "mid.example", "A", ["+bufsize=100"])
        if m is not None:
            c.positive(m, ctx + " +bufsize=100", tool, "mid.example", "A", MID_A)

    # Exact limits with raw packets: the reply with OPT is 12 + 17 + 40*16
    # + 11 = 680 bytes.
    for size, fits in ((680, True), (679, False), (511, False), (0, False)):
        data = udp_exchange(d.addr, build_query("big.example", "A", edns={"size": size}))
        ctx = "raw UDP big.example A bufsize %d" % size
        if not res.check(data is not None, ctx + ": a reply"):
            continue
        m = parse_msg(data)
        if fits:
            res.eq(len(data), 680, ctx + ": reply length")
            res.eq(len(m.answer), 40, ctx + ": 40 answers")
            res.check("tc" not in m.flags, ctx + ": TC clear", m.flags)
        else:
            res.check("tc" in m.flags, ctx + ": TC set", m.flags)
            res.eq((m.counts["ANSWER"], m.counts["AUTHORITY"]), (0, 0), ctx + ": no records")
            res.eq(m.counts["QUERY"], 1, ctx + ": question echoed")
            res.check(m.edns is not None and m.edns["udp"] == 1232, ctx + ": OPT kept", m.edns)
            res.check(len(data) <= 512, ctx + ": within 512 bytes", len(data))
    # 64 AAAA with the largest client size: still TC (ceiling 1232).
    data = udp_exchange(d.addr, build_query("big.example", "AAAA", edns={"size": 65535}))
    m = parse_msg(data) if data else None
    res.check(m is not None and "tc" in m.flags and len(data) <= 1232,
              "raw UDP AAAA x64 bufsize 65535: TC within 1232 bytes", m)


def test_case_echo(res, d):
    """0x20: the question and the owner names come back with the letter case
    exactly as asked (dig prints names as they are on the wire)."""
    c = Checker(res, d.addr)
    for name, want in (("wWw.BaD.eXaMpLe", MEGAD_A), ("BAD.EXAMPLE", MEGAD_A),
                       ("sUb.BaD.ExAmPlE", CONF_A)):
        for transport in TRANSPORTS:
            m, ctx = c.ask("dig", transport, "edns0", name, "A")
            if m is None:
                continue
            c.common(m, ctx, "dig", "edns0", name, "A")
            c.positive(m, ctx, "dig", name, "A", want)
    for name in ("wWw.BaD.eXaMpLe", "gOoD.ExAmPlE", "X.bAd.ExAmPlE"):
        q = build_query(name, "A" if "bAd" not in name else "MX", qid=0x2020)
        qsec = q[12:]
        for transport in TRANSPORTS:
            data = (udp_exchange(d.addr, q) if transport == "udp"
                    else (tcp_exchange(d.addr, [q]) or [None])[0])
            ctx = "raw %s %s" % (transport, name)
            if not res.check(data is not None, ctx + ": a reply"):
                continue
            res.eq(data[:2], b"\x20\x20", ctx + ": id echoed")
            res.eq(data[12:12 + len(qsec)], qsec, ctx + ": question bytes echoed exactly")
            m = parse_msg(data)
            res.check(all(rr["name"] == name + "." for rr in m.answer),
                      ctx + ": owners as asked", m.answer)
            if name.startswith("X."):
                # The SOA owner is the apex, in the case it has in the query.
                res.eq([rr["name"] for rr in m.authority], ["bAd.ExAmPlE."],
                       ctx + ": SOA owner = apex as asked")


def test_flags_classes(res, d):
    c = Checker(res, d.addr)
    for tool in TOOLS:
        for transport in TRANSPORTS:
            # RD is copied, never RA.
            m, ctx = c.ask(tool, transport, "edns0", "bad.example", "A", ["+norecurse"])
            if m is not None:
                res.check("rd" not in m.flags and "ra" not in m.flags, ctx + " +norec: no RD/RA",
                          m.flags)
            m, ctx = c.ask(tool, transport, "edns0", "bad.example", "A", ["+recurse"])
            if m is not None:
                res.check("rd" in m.flags and "ra" not in m.flags, ctx + " +rec: RD, no RA",
                          m.flags)
            # DO is echoed; the answer is the same (the zones are unsigned).
            m, ctx = c.ask(tool, transport, "edns0", "bad.example", "A", ["+dnssec"])
            if m is not None:
                res.check(m.edns is not None and m.edns["do"], ctx + " +dnssec: DO echoed",
                          m.edns)
                c.positive(m, ctx + " +dnssec", tool, "bad.example", "A", MEGAD_A)
            # A class other than IN: REFUSED.
            for cls in ("CH", "CLASS4"):
                m, ctx = c.ask(tool, transport, "edns0", "bad.example", "A", post=[cls])
                if m is not None:
                    c.refused(m, ctx + " class " + cls)
            # OPT also on REFUSED.
            m, ctx = c.ask(tool, transport, "edns0", "good.example", "A")
            if m is not None:
                c.common(m, ctx, tool, "edns0", "good.example", "A")
            # EDNS version 1: BADVERS with an OPT of version 0, nothing else.
            extra = ["+edns=1"] + (["+noednsnegotiation"] if tool == "dig" else [])
            m, ctx = c.ask(tool, transport, "edns0", "bad.example", "A", extra)
            if m is not None:
                res.eq(m.rcode, "BADVERS", ctx + " +edns=1: rcode")
                res.check(m.edns is not None and m.edns["version"] == 0,
                          ctx + " +edns=1: OPT version 0", m.edns)
                res.eq(m.answer + m.authority, [], ctx + " +edns=1: no records")
    # Raw: the class, AXFR and IXFR rules, BADVERS on the wire.
    for transport in TRANSPORTS:
        ask = udp_query if transport == "udp" else tcp_query
        for qtype, qclass in (("AXFR", 1), ("IXFR", 1), ("A", 3), ("A", 255), ("A", 254)):
            m = ask(d.addr, "bad.example", qtype, qclass=qclass)
            ctx = "raw %s bad.example %s class %d" % (transport, qtype, qclass)
            if res.check(m is not None, ctx + ": a reply"):
                res.eq((m.rcode, m.counts["ANSWER"], "aa" in m.flags), ("REFUSED", 0, False), ctx)
        m = ask(d.addr, "bad.example", "A", edns={"version": 1, "size": 4096})
        ctx = "raw %s EDNS version 1" % transport
        if res.check(m is not None, ctx + ": a reply"):
            res.eq(m.raw[3] & 15, 0, ctx + ": header rcode bits 0")
            res.eq(m.rcode, "BADVERS", ctx + ": extended rcode 16")
            res.eq(m.edns and (m.edns["version"], m.edns["udp"]), (0, 1232), ctx + ": our OPT")
        # Id and opcode: the id is echoed on every reply.
        for qid in (0, 1, 0xFFFF):
            m = ask(d.addr, "bad.example", "A", qid=qid)
            if res.check(m is not None, "raw %s id %d: a reply" % (transport, qid)):
                res.eq(m.id, qid, "raw %s id echoed" % transport)
    # dig's own AXFR client sees the refusal.
    _, text = dig(d.addr, ["+tcp", "bad.example", "AXFR"])
    res.check("Transfer failed" in text, "dig AXFR: refused", text[-500:])


def test_pipelining(res, d):
    qs = [build_query("bad.example", "A", qid=101), build_query("big.example", "AAAA", qid=102),
          build_query("good.example", "A", qid=103), build_query("sub.bad.example", "A", qid=104)]
    replies = tcp_exchange(d.addr, qs)
    res.eq(len(replies), 4, "TCP: 4 queries in one write -> 4 replies")
    ms = [parse_msg(r) for r in replies]
    res.eq([m.id for m in ms], [101, 102, 103, 104], "TCP pipelining: replies in order")
    if len(ms) == 4:
        res.eq(ms[0].data("answer"), sorted(MEGAD_A), "pipelined #1 answer")
        res.eq(len(ms[1].answer), 64, "pipelined #2: 64 AAAA over TCP")
        res.eq(ms[2].rcode, "REFUSED", "pipelined #3 rcode")
        res.eq(ms[3].data("answer"), sorted(CONF_A), "pipelined #4 answer")
    # Several queries on one connection, one after the other.
    s = tcp_connect(d.addr)
    try:
        for i in range(5):
            s.sendall(frame(build_query("n%d.bad.example" % i, "A", qid=200 + i)))
            r = tcp_read_msg(s)
            m = parse_msg(r) if r else None
            res.check(m is not None and m.id == 200 + i and len(m.answer) == 3,
                      "TCP keep-open query %d" % i, m)
    finally:
        s.close()
    for tool in TOOLS:
        msgs, text = dig(d.addr, ["+tcp", "+keepopen", "bad.example", "A", "six.example", "AAAA",
                                  "x.bad.example", "MX", "good.example", "A"], tool)
        got = [(m.question[0][0].lower() if m.question else None, m.rcode, len(m.answer))
               for m in msgs]
        res.eq(got, [("bad.example.", "NOERROR", 3), ("six.example.", "NOERROR", 1),
                     ("x.bad.example.", "NOERROR", 0), ("good.example.", "REFUSED", 0)],
               "%s +tcp +keepopen: 4 queries on one connection" % tool)


def test_ecs_and_v6(res, d):
    for tool in TOOLS:
        for transport in TRANSPORTS:
            m = dig1(d.addr, variant_args(tool, transport, "edns0")
                     + ["+subnet=198.51.100.0/24", "ecs-%s-%s.bad.example" % (tool, transport),
                        "A"], tool)
            ctx = "%s %s +subnet" % (tool, transport)
            Checker(res, d.addr).positive(m, ctx, tool, m.question[0][0], "A", MEGAD_A)
    m = udp_query(d.addr, "ecs6.bad.example", "A",
                  edns={"options": ecs_option("2001:db8:1::", 48)})
    res.check(m is not None and m.rcode == "NOERROR", "raw ECS IPv6 /48: answered", m)
    if d.listen_v6:
        m = udp_query(("::1", d.port), "v6.bad.example", "AAAA")
        res.check(m is not None and m.data("answer") == sorted(MEGAD_AAAA),
                  "query over [::1] UDP answered", m)
        m = dig1(("::1", d.port), ["+tcp", "v6tcp.bad.example", "A"])
        res.eq(m.data("answer"), sorted(MEGAD_A), "dig over [::1] TCP answered")


def test_events(res, d):
    """The events of the queries above: ECS, list and family tags."""
    evs = d.events()
    by_name = {}
    for e in evs:
        by_name.setdefault(e["dns"].get("rrname", ""), []).append(e)
    for tool in TOOLS:
        for transport in TRANSPORTS:
            name = "ecs-%s-%s.bad.example" % (tool, transport)
            es = by_name.get(name, [])
            res.eq([(e["dns"].get("ecs"), e["dns"].get("ecs_scope"), e["proto"]) for e in es],
                   [("198.51.100.0/24", 0, transport.upper())], "event ECS of " + name)
    es = by_name.get("ecs6.bad.example", [])
    res.eq([e["dns"].get("ecs") for e in es], ["2001:db8:1::/48"], "event ECS IPv6")
    es = [e for e in evs if e["dns"].get("rrname") == "sub.bad.example"
          and e["dns"].get("rrtype") == "A"]
    res.check(es and all(e.get("list") == "conficker" and e.get("family") == "conficker"
                         for e in es), "events: sub.bad.example -> list/family conficker",
              es[:2])
    es = [e for e in evs if e["dns"].get("rrname") == "deep.Other.Megad.Example"]
    res.check(es and all(e.get("list") == "megad" and e.get("family") == "megad-fam"
                         for e in es), "events: megad list with its own family tag", es[:2])
    es = by_name.get("good.example", [])
    res.check(es and all("list" not in e and "family" not in e and
                         e["dns"]["rcode"] == "REFUSED" for e in es),
              "events: no list/family outside the lists", es[:2])
    es = by_name.get("wWw.BaD.eXaMpLe", [])
    res.check(len(es) >= 4, "events: rrname kept in the case asked", len(es))
    if d.listen_v6:
        es = by_name.get("v6.bad.example", [])
        res.check(es and es[0]["src_ip"] == "::1" and es[0]["dest_ip"] == "::1",
                  "events: IPv6 addresses", es[:1])


def test_nxdomain_daemon(res):
    """Daemon B: not_seized = nxdomain, no addresses at all, ttl 30 below
    soa_minimum 600, max_udp_size 512."""
    soa_b = "ns1.sinkhole.example. abuse.sinkhole.example. 2026112801 7200 1800 1209600 600"
    d = Daemon([("noaddr", {"names": ["noaddr.example"]}),
                ("big40", {"names": ["big.example"], "answer_a": " ".join(BIG_A)})],
               dns={"not_seized": "nxdomain", "answer_a": None, "answer_aaaa": None,
                    "ttl": "30", "soa_minimum": "600", "max_udp_size": "512"},
               tag="nxdomain").start()
    c = Checker(res, d.addr, max_udp=512)

    def nx(c_, m, ctx, tool):
        res.eq(m.rcode, "NXDOMAIN", ctx + ": rcode")
        res.eq((m.answer, m.authority), ([], []), ctx + ": no records (no SOA)")

    def soa_b_apex(c_, m, ctx, tool):
        res.eq(m.rcode, "NOERROR", ctx + ": rcode")
        res.eq([(rr["type"], rr["ttl"], rr["data"]) for rr in m.answer], [("SOA", 30, soa_b)],
               ctx + ": ANY at the apex without addresses -> the SOA")

    c.matrix("good.example", "A", nx)
    c.matrix("noaddr.example", "A", nod("noaddr.example", 30, soa_b))
    c.matrix("x.noaddr.example", "AAAA", nod("noaddr.example", 30, soa_b))
    c.matrix("noaddr.example", "ANY", soa_b_apex)
    c.matrix("x.noaddr.example", "ANY", nod("noaddr.example", 30, soa_b))
    for tool in TOOLS:
        m, ctx = c.ask(tool, "udp", "bufsize", "big.example", "A")
        if m is not None:
            c.common(m, ctx, tool, "bufsize", "big.example", "A")
            res.check("tc" in m.flags and m.answer == [],
                      ctx + ": TC (max_udp_size 512 caps the client's 4096)", m)
        m, ctx = c.ask(tool, "tcp", "bufsize", "big.example", "A")
        if m is not None:
            c.positive(m, ctx, tool, "big.example", "A", BIG_A, ttl=30)
    d.check_stop(res, "daemon B")


def body(res):
    d = main_daemon().start()
    test_matrix(res, d)
    test_big(res, d)
    test_case_echo(res, d)
    test_flags_classes(res, d)
    test_pipelining(res, d)
    test_ecs_and_v6(res, d)
    d.check_stop(res, "daemon A")
    test_events(res, d)
    test_nxdomain_daemon(res)


if __name__ == "__main__":
    run_main("test_dns_answers", body)
