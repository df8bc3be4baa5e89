#!/usr/bin/env python3
"""End-to-end: hostile input, raw UDP and TCP packets.

Each crafted packet has the exact outcome the rules state: no answer at all
(short header, QR set, qdcount 0: dropped, counted in malformed_dropped,
logged with the noreply flag), FORMERR (question echoed when it could be
read, no OPT), NOTIMP, BADVERS, or a normal answer (trailing garbage is
ignored). Then 2,000 seeded random byte strings and 1,000 seeded mutations
of valid queries, each checked against the same rules as written out in
sinkhole_harness.expected_for(). Then TCP framing abuse. Afterwards the
daemon must still answer normally, stop with status 0, and its counters
must match what was sent."""

import os
import random
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (Daemon, WireError, build_header, build_opt,  # noqa: E402
                              build_query, decode_name, ecs_option, encode_name, expected_for,
                              frame, parse_msg, peer_closed, rand_bytes, run_main, tcp_connect,
                              tcp_read_msg, type_code, udp_query)

SEIZED = ("bad.example", "other.example")
IDLE_S = 2
SEED = 20261128


def q_section(name="bad.example", qtype=1, qclass=1):
    return encode_name(name) + struct.pack("!HH", qtype, qclass)


def rr(name="bad.example", rtype=1, rdata=b"\x01\x02\x03\x04", ttl=60):
    return encode_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def crafted_cases():
    """(name, packet, expected) with expected ("drop",) or
    ("reply", rcode, qdcount, has_opt) as the rules state."""
    H = build_header
    Q = q_section()
    valid = build_query("bad.example", "A", qid=0x4242)
    long_name = ".".join(["a" * 63] * 3 + ["b" * 61])  # 255 bytes on the wire
    too_long = b"".join(b"\x01a" for _ in range(128)) + b"\x00"  # 257 bytes
    cases = [
        ("empty datagram", b"", ("drop",)),
        ("1-byte datagram", b"\x12", ("drop",)),
        ("11-byte header", valid[:11], ("drop",)),
        ("QR set", H(0x1001, 0x8100) + Q, ("drop",)),
        ("QR set, qdcount 2", H(0x1002, 0x8000, qd=2) + Q + Q, ("drop",)),
        ("qdcount 0, nothing else", H(0x1003, 0x0100, qd=0), ("drop",)),
        ("qdcount 0 with a question after", H(0x1004, 0x0100, qd=0) + Q, ("drop",)),
        ("qdcount 0, opcode NOTIFY", H(0x1005, 0x2000, qd=0), ("drop",)),
        ("qdcount 2", H(0x2001, 0x0100, qd=2) + Q + q_section("x.bad.example"),
         ("reply", "FORMERR", 1, False)),
        ("qdcount 2, one question present", H(0x2002, 0x0100, qd=2) + Q,
         ("reply", "FORMERR", 1, False)),
        ("ancount 1", H(0x2003, 0x0100, an=1) + Q + rr(), ("reply", "FORMERR", 1, False)),
        ("nscount 1", H(0x2004, 0x0100, ns=1) + Q + rr(), ("reply", "FORMERR", 1, False)),
        ("ancount 1 without the record", H(0x2005, 0x0100, an=1) + Q,
         ("reply", "FORMERR", 1, False)),
        ("compression loop: pointer to itself", H(0x2006) + b"\xc0\x0c" + b"\x00\x01\x00\x01",
         ("reply", "FORMERR", 0, False)),
        ("compression loop: label then pointer back to it",
         H(0x2007) + b"\x03bad\xc0\x0c" + b"\x00\x01\x00\x01", ("reply", "FORMERR", 0, False)),
        ("forward pointer", H(0x2008) + b"\xc0\x12" + b"\x00\x01\x00\x01" + encode_name("bad"),
         ("reply", "FORMERR", 0, False)),
        ("pointer past the end", H(0x2009) + b"\xc0\xff", ("reply", "FORMERR", 0, False)),
        ("label of 64", H(0x200a) + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
         ("reply", "FORMERR", 0, False)),
        ("reserved label type 0x80", H(0x200b) + b"\x80abc\x00\x00\x01\x00\x01",
         ("reply", "FORMERR", 0, False)),
        ("name of 257 bytes (128 labels)", H(0x200c) + too_long + b"\x00\x01\x00\x01",
         ("reply", "FORMERR", 0, False)),
        ("name runs past the end", H(0x200d) + b"\x07bad", ("reply", "FORMERR", 0, False)),
        ("question without type/class", H(0x200e) + encode_name("bad.example"),
         ("reply", "FORMERR", 0, False)),
        ("question with half the class", H(0x200f) + encode_name("bad.example") + b"\x00\x01\x00",
         ("reply", "FORMERR", 0, False)),
        ("name of exactly 255 bytes", H(0x2010) + encode_name(long_name) + b"\x00\x01\x00\x01",
         ("reply", "REFUSED", 1, False)),
        ("trailing garbage", valid + b"garbage-after-the-question",
         ("reply", "NOERROR", 1, False)),
        ("5000-byte datagram (trailing garbage)", valid + b"\xee" * 4971,
         ("reply", "NOERROR", 1, False)),
        ("binary label with a dot and a zero byte",
         H(0x2012) + b"\x03a\x00." + encode_name("bad.example") + b"\x00\x01\x00\x01",
         ("reply", "NOERROR", 1, False)),
        ("unknown EDNS options", build_query("bad.example", "A", qid=0x2013, edns={
            "options": struct.pack("!HH", 10, 8) + b"12345678" + struct.pack("!HH", 65001, 3)
            + b"abc" + struct.pack("!HH", 12, 0)}), ("reply", "NOERROR", 1, True)),
        ("the root name", build_query(".", "A", qid=0x2014), ("reply", "REFUSED", 1, False)),
        ("trailing garbage after an OPT",
         build_query("bad.example", "A", qid=0x2011, edns={}) + b"\x00\xff\xfe",
         ("reply", "NOERROR", 1, True)),
        ("two OPT records", H(0x3001, ar=2) + Q + build_opt() + build_opt(),
         ("reply", "FORMERR", 1, False)),
        ("OPT not owned by the root", H(0x3002, ar=1) + Q + build_opt(owner=encode_name("x")),
         ("reply", "FORMERR", 1, False)),
        ("OPT rdata runs past the end",
         H(0x3003, ar=1) + Q + b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 20) + b"\x00\x08",
         ("reply", "FORMERR", 1, False)),
        ("arcount 1 without the record", H(0x3004, ar=1) + Q, ("reply", "FORMERR", 1, False)),
        ("ECS source prefix 33 for IPv4",
         H(0x3005, ar=1) + Q + build_opt(options=struct.pack("!HHHBB", 8, 9, 1, 33, 0)
                                         + b"\x01\x02\x03\x04\x05"),
         ("reply", "FORMERR", 1, False)),
        ("ECS address longer than the prefix",
         H(0x3006, ar=1) + Q + build_opt(options=struct.pack("!HHHBB", 8, 8, 1, 8, 0)
                                         + b"\x01\x02\x03\x04"),
         ("reply", "FORMERR", 1, False)),
        ("ECS option shorter than its header",
         H(0x3007, ar=1) + Q + build_opt(options=struct.pack("!HHH", 8, 2, 1)),
         ("reply", "FORMERR", 1, False)),
        ("option length past the OPT rdata",
         H(0x3008, ar=1) + Q + build_opt(options=struct.pack("!HH", 10, 40) + b"abcd"),
         ("reply", "FORMERR", 1, False)),
        ("well-formed ECS", build_query("bad.example", "A", qid=0x3009, edns={
            "options": ecs_option("203.0.113.0", 24)}), ("reply", "NOERROR", 1, True)),
        ("EDNS version 1", build_query("bad.example", "A", qid=0x300a, edns={"version": 1}),
         ("reply", "BADVERS", 1, True)),
        ("opcode IQUERY", build_query("bad.example", "A", qid=0x4001, opcode=1),
         ("reply", "NOTIMP", None, None)),
        ("opcode STATUS", build_query("bad.example", "A", qid=0x4002, opcode=2),
         ("reply", "NOTIMP", None, None)),
        ("opcode NOTIFY", build_query("bad.example", "SOA", qid=0x4004, opcode=4, flags=0x0400),
         ("reply", "NOTIMP", None, None)),
        ("opcode UPDATE", build_query("bad.example", "SOA", qid=0x4005, opcode=5, flags=0),
         ("reply", "NOTIMP", None, None)),
        ("opcode 15", build_query("bad.example", "A", qid=0x400f, opcode=15),
         ("reply", "NOTIMP", None, None)),
        ("valid query", valid, ("reply", "NOERROR", 1, False)),
    ]
    return cases


def seized(name):
    n = name.rstrip(".").lower()
    return any(n == s or n.endswith("." + s) for s in SEIZED)


def full_expectation(pkt):
    """expected_for() plus the answer for an answerable packet, for this
    daemon's lists (not_seized = refuse)."""
    e = expected_for(pkt)
    if e[0] == "drop" or e[1] != "ANSWERABLE":
        return e
    qtype, qclass = e[3], e[4]
    name, _ = decode_name(pkt, 12)
    if qclass != 1 or qtype in (251, 252) or not seized(name):
        return ("reply", "REFUSED", 1)
    return ("reply", "NOERROR", 1)


def question_of(pkt):
    try:
        name, p = decode_name(pkt, 12)
        return (name,) + struct.unpack("!HH", pkt[p:p + 4])
    except (WireError, struct.error):
        return None


def check_reply(res, ctx, pkt, data, exp):
    """Compare one reply (or None) with exp; returns True if it matched."""
    if exp[0] == "drop":
        return res.check(data is None, ctx + ": no answer", data and parse_msg(data))
    if not res.check(data is not None, ctx + ": an answer (%s)" % exp[1]):
        return False
    try:
        m = parse_msg(data)
    except WireError as e:
        return res.check(False, ctx + ": the answer parses", "%s: %r" % (e, data[:64]))
    ok = res.eq(m.rcode, exp[1], ctx + ": rcode")
    ok &= res.check("qr" in m.flags, ctx + ": QR set", m.flags)
    ok &= res.eq(m.id, struct.unpack("!H", pkt[:2])[0], ctx + ": id echoed")
    ok &= res.check("tc" not in m.flags, ctx + ": TC clear", m.flags)
    ok &= res.eq(m.opcode_num, (pkt[2] >> 3) & 15, ctx + ": opcode echoed")
    qd = exp[2] if len(exp) > 2 else None
    if qd is not None:
        ok &= res.eq(m.counts["QUERY"], qd, ctx + ": qdcount")
    if m.counts["QUERY"] == 1:
        q = question_of(pkt)
        got = m.question and (m.question[0][0], type_code(m.question[0][1]), m.question[0][2])
        ok &= res.check(q is not None and got == q, ctx + ": question echoed as sent",
                        (got, q))
    if exp[1] in ("FORMERR",):
        ok &= res.check(m.edns is None, ctx + ": no OPT in FORMERR", m.edns)
    has_opt = exp[3] if len(exp) > 3 else None
    if has_opt is not None and exp[1] != "FORMERR":
        ok &= res.eq(m.edns is not None, has_opt, ctx + ": OPT present")
    return ok


class UdpProber:
    """Sends a packet, then a known-good probe query, on one socket; every
    reply that arrives before the probe's is the packet's. Exact and fast:
    a worker answers one socket's packets in order."""

    def __init__(self, addr):
        self.addr = addr
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.n = 0
        self.probes = 0

    def send(self, pkt, timeout=3.0):
        self.n += 1
        pid = (0xA000 + self.n) & 0xFFFF
        while len(pkt) >= 2 and pkt[:2] == struct.pack("!H", pid):
            pid = (pid + 1) & 0xFFFF
        probe = build_query("probe.bad.example", "A", qid=pid)
        self.s.sendto(pkt, self.addr)
        self.s.sendto(probe, self.addr)
        self.probes += 1
        got = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no probe reply within %s s" % timeout)
            self.s.settimeout(left)
            data = self.s.recv(65535)
            if len(data) >= 12 and data[:2] == probe[:2] and data[12:12 + len(probe) - 12] == \
                    probe[12:]:
                return got
            got.append(data)


def test_udp_crafted(res, d, counts):
    cases = crafted_cases()
    for name, pkt, exp in cases:
        ref = full_expectation(pkt)
        # The reference reading of the rules must agree with the table.
        res.check(ref[:3] == exp[:3] or (exp[1] == "NOTIMP" and ref[1] == "NOTIMP"),
                  "reference agrees on: " + name, (ref, exp))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3 if exp[0] == "drop" else 2.0)
        s.sendto(pkt, d.addr)
        try:
            data = s.recv(65535)
        except socket.timeout:
            data = None
        s.close()
        check_reply(res, "UDP " + name, pkt, data, exp)
        if exp[0] == "drop":
            counts["dropped"] += 1
        counts["sent"] += 1


def test_udp_random(res, d, counts):
    rng = random.Random(SEED)
    prober = UdpProber(d.addr)
    bad = 0
    tally = {}
    for i in range(2000):
        n = rng.choice((rng.randrange(0, 12), rng.randrange(12, 40), rng.randrange(12, 300)))
        pkt = rand_bytes(rng, n)
        if i % 4 == 0 and n >= 12:
            # A plausible header (query, opcode 0, one question) over random
            # bytes, so the question parser gets exercised too.
            pkt = build_header(rng.randrange(65536), rng.choice((0, 0x0100)), 1, 0, 0,
                               rng.choice((0, 0, 1))) + pkt[12:]
        bad += _one(res, prober, "random #%d" % i, pkt, counts, tally)
    base = [build_query("bad.example", "A", qid=1), build_query("x.other.example", "MX", qid=2,
                                                                edns={}),
            build_query("good.example", "AAAA", qid=3, edns={"options": ecs_option(
                "198.51.100.0", 24)})]
    for i in range(1000):
        pkt = bytearray(rng.choice(base))
        for _ in range(rng.randrange(1, 4)):
            k = rng.randrange(4) if len(pkt) > 1 else 2
            if k == 0:
                pkt[rng.randrange(len(pkt))] = rng.randrange(256)
            elif k == 1:
                del pkt[rng.randrange(len(pkt)):]
            elif k == 2:
                pkt += rand_bytes(rng, rng.randrange(1, 16))
            else:
                p = rng.randrange(len(pkt))
                pkt[p:p] = bytes([rng.choice((0xC0, 0x3F, 0x40, 0x00, 0xFF))])
        bad += _one(res, prober, "mutated #%d" % i, bytes(pkt), counts, tally)
    counts["probes"] += prober.probes
    res.check(bad == 0, "random and mutated packets: every outcome as the rules say",
              "%d mismatches" % bad)
    print("random/mutated outcomes: %s" % sorted(tally.items()), flush=True)


def _one(res, prober, ctx, pkt, counts, tally):
    exp = full_expectation(pkt)
    replies = prober.send(pkt)
    counts["sent"] += 1
    if exp[0] == "drop":
        counts["dropped"] += 1
    key = exp[0] if exp[0] == "drop" else exp[1]
    tally[key] = tally.get(key, 0) + 1
    ok = res.check(len(replies) <= 1, ctx + ": at most one reply", len(replies))
    if not ok:
        return 1
    # Only the first mismatch per packet is printed (check_reply prints).
    before = res.failed
    check_reply(res, ctx + " " + pkt[:48].hex(), pkt, replies[0] if replies else None, exp)
    return 1 if res.failed != before else 0


def test_tcp(res, d, counts):
    valid = build_query("bad.example", "A", qid=0x5151)

    # The crafted cases over TCP, each followed by a valid query on the
    # same connection: a dropped message gets no reply, the connection stays.
    for name, pkt, exp in crafted_cases():
        if len(pkt) == 0:
            continue  # a zero-length message is the 1-byte-message case below
        if len(pkt) > 4096:
            continue  # over TCP the daemon takes at most 4096 bytes (see 0xFFFF below)
        s = tcp_connect(d.addr)
        try:
            s.sendall(frame(pkt) + frame(valid))
            first = tcp_read_msg(s)
            second = tcp_read_msg(s) if exp[0] != "drop" else None
        except OSError as e:
            first = second = None
            res.check(False, "TCP " + name + ": connection kept", str(e))
        finally:
            s.close()
        ctx = "TCP " + name
        counts["sent"] += 2
        if exp[0] == "drop":
            counts["dropped"] += 1
            res.check(first is not None and first[:2] == valid[:2],
                      ctx + ": no answer, then the next query answered", first and first[:16])
        else:
            check_reply(res, ctx, pkt, first, exp)
            res.check(second is not None and second[:2] == valid[:2],
                      ctx + ": next query on the connection answered")

    # A zero- and a 1-byte message: dropped, the connection stays usable.
    for body in (b"", b"\x00"):
        s = tcp_connect(d.addr)
        try:
            s.sendall(frame(body))
            time.sleep(0.2)
            s.sendall(frame(valid))
            r = tcp_read_msg(s)
            res.check(r is not None and r[:2] == valid[:2],
                      "TCP %d-byte message: no answer, next query answered" % len(body),
                      r and r[:16])
        finally:
            s.close()
        counts["sent"] += 2
        counts["dropped"] += 1

    # Length prefix bigger than the data, then the client closes its side.
    s = tcp_connect(d.addr)
    try:
        s.sendall(struct.pack("!H", 64) + valid[:20])
        s.shutdown(socket.SHUT_WR)
        res.check(peer_closed(s, 3.0), "TCP: short message then EOF -> server closes")
    finally:
        s.close()

    # A query, then the client closes its side: answered, then closed.
    s = tcp_connect(d.addr)
    try:
        s.sendall(frame(valid))
        s.shutdown(socket.SHUT_WR)
        r = tcp_read_msg(s)
        res.check(r is not None and r[:2] == valid[:2], "TCP: query then EOF -> answered")
        res.check(peer_closed(s, 2.0), "TCP: query then EOF -> then closed")
        counts["sent"] += 1
    finally:
        s.close()

    # One query split across several writes with pauses.
    s = tcp_connect(d.addr)
    try:
        data = frame(build_query("Split.Bad.Example", "AAAA", qid=0x5252)) + frame(valid)
        for piece in (data[:1], data[1:2], data[2:9], data[9:30], data[30:]):
            s.sendall(piece)
            time.sleep(0.15)
        r1, r2 = tcp_read_msg(s), tcp_read_msg(s)
        m1 = parse_msg(r1) if r1 else None
        res.check(m1 is not None and m1.id == 0x5252 and m1.question[0][0] == "Split.Bad.Example."
                  and len(m1.answer) == 1, "TCP: a query in 5 writes with pauses answered", m1)
        res.check(r2 is not None and r2[:2] == valid[:2], "TCP: and the one after it")
        counts["sent"] += 2
    finally:
        s.close()

    # Garbage length prefix 0xFFFF with more data than any query: closed.
    s = tcp_connect(d.addr)
    try:
        t0 = time.monotonic()
        try:
            s.sendall(b"\xff\xff" + b"\x00" * 4200)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed = peer_closed(s, IDLE_S - 0.5)
        res.check(closed, "TCP: length 0xFFFF + 4200 bytes -> closed before the idle timeout",
                  "%.2f s" % (time.monotonic() - t0))
    finally:
        s.close()
    # 0xFFFF and a few bytes: closed at the latest by the idle timeout.
    s = tcp_connect(d.addr)
    try:
        s.sendall(b"\xff\xff" + b"abcdefgh")
        res.check(peer_closed(s, IDLE_S + 2.0), "TCP: length 0xFFFF + 8 bytes -> closed")
    finally:
        s.close()

    # tcp_idle_timeout: an idle connection is closed after about IDLE_S.
    s = tcp_connect(d.addr)
    try:
        t0 = time.monotonic()
        closed = peer_closed(s, IDLE_S + 2.0)
        took = time.monotonic() - t0
        res.check(closed and IDLE_S - 0.3 <= took <= IDLE_S + 1.5,
                  "TCP: idle connection closed after tcp_idle_timeout=%d s" % IDLE_S,
                  "closed=%s after %.2f s" % (closed, took))
    finally:
        s.close()
    # Activity keeps it open: a query at 1.2 s, then no close before 2.7 s.
    s = tcp_connect(d.addr)
    try:
        time.sleep(IDLE_S * 0.6)
        s.sendall(frame(valid))
        r = tcp_read_msg(s)
        res.check(r is not None, "TCP: query on a connection idle for %.1f s answered"
                  % (IDLE_S * 0.6))
        counts["sent"] += 1
        t0 = time.monotonic()
        closed = peer_closed(s, IDLE_S + 2.0)
        took = time.monotonic() - t0
        res.check(closed and took >= IDLE_S - 0.3,
                  "TCP: idle timer restarts after activity", "closed after %.2f s" % took)
    finally:
        s.close()


def body(res):
    d = Daemon([("bad", {"names": ["bad.example"]}), ("other", {"names": ["other.example"]})],
               dns={"tcp_idle_timeout": str(IDLE_S)}, tag="hostile").start()
    counts = {"sent": 0, "dropped": 0, "probes": 0}
    test_udp_crafted(res, d, counts)
    test_udp_random(res, d, counts)
    test_tcp(res, d, counts)
    # Still answering normally.
    for i in range(20):
        m = udp_query(d.addr, "after%d.bad.example" % i, "A")
        res.check(m is not None and m.rcode == "NOERROR" and m.data("answer") == ["192.0.2.10"],
                  "UDP query %d after the abuse answered" % i, m)
    st = d.stats_wait(lambda s: s["dns"]["malformed_dropped"] >= counts["dropped"])
    res.eq(st["dns"]["malformed_dropped"], counts["dropped"],
           "stats.json dns.malformed_dropped = drop cases sent")
    d.check_stop(res, "hostile daemon")
    fin = d.final_stats()
    evs = d.events()
    noreply = [e for e in evs if "noreply" in e["dns"]["flags"]]
    res.eq(len(noreply), counts["dropped"], "events with flag noreply = drop cases")
    if fin:
        res.eq(fin["dns"]["malformed_dropped"], counts["dropped"], "final malformed_dropped")
        res.eq(fin["events"]["dropped"], 0, "no event dropped")
        res.eq(fin["events"]["written"], fin["events"]["appended"], "every event written")
        res.eq(fin["dns"]["queries"] + fin["dns"]["malformed_dropped"], fin["events"]["appended"],
               "queries + malformed_dropped = events appended")
    print("sent %d packets (%d drop cases, %d probes)" % (counts["sent"], counts["dropped"],
                                                          counts["probes"]), flush=True)


if __name__ == "__main__":
    run_main("test_dns_hostile", body)
