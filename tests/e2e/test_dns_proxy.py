#!/usr/bin/env python3
"""End-to-end: PROXY protocol on the DNS listener.

[dns] proxy_protocol = 127.0.0.2: datagrams and TCP connections from that
sender carry a PROXY header (v2; v1 too on TCP) naming the real client. The
answer goes back to the sender without a header; the event names the client
as src_ip/src_port and the sender as proxied_by; rate limiting keys on the
client. From the trusted sender, a datagram or connection without a valid
header is dropped (closed) and counted in stats.json dns.proxy.bad; from
anyone else, a PROXY header is just bytes that are not a DNS query."""

import ipaddress
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (Daemon, build_query, frame, parse_msg, run_main,  # noqa: E402
                              tcp_read_msg, wait_until)

TRUSTED = "127.0.0.2"
UNTRUSTED = "127.0.0.3"
SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src, sport, dst, dport, dgram=True, local=False):
    """A PROXY v2 header (HAProxy proxy-protocol.txt 2.2)."""
    if local:
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = 0x10 if s.version == 4 else 0x20
    body = s.packed + d.packed + struct.pack("!HH", sport, dport)
    return SIG + bytes([0x21, fam | (0x02 if dgram else 0x01)]) + struct.pack(
        "!H", len(body)) + body


def udp_from(src, addr, payload, timeout=1.0):
    """Send one datagram from src; the reply or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.sendto(payload, addr)
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def tcp_from(src, addr, payload, timeout=3.0):
    """Connect from src, send payload, read one framed reply (None if the
    connection is closed first)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(addr)
        s.sendall(payload)
        try:
            return tcp_read_msg(s)
        except (ConnectionError, socket.timeout, OSError, ValueError):
            return None
    finally:
        s.close()


def answered(raw):
    m = parse_msg(raw) if raw else None
    return m is not None and m.rcode == "NOERROR" and len(m.answer) == 1


def by_name(evs, name):
    return [e for e in evs if e.get("dns", {}).get("rrname") == name]


def body(res):
    d = Daemon([("a", {"names": ["a.example"]})],
               dns={"proxy_protocol": TRUSTED + " 2001:db8:ffff::/48",
                    "rrl_ratelimit": "5", "rrl_slip": "0"}, tag="dnsproxy").start()
    st0 = d.stats()

    # Trusted, v2 over UDP, IPv4 and IPv6 clients inside.
    r = udp_from(TRUSTED, d.addr, v2("198.51.100.7", 40000, "192.0.2.53", 53)
                 + build_query("u4.a.example", "A"))
    res.check(answered(r), "trusted v2/UDP (IPv4 client): answered", r)
    res.check(r is not None and not r.startswith(SIG), "the answer carries no PROXY header")
    r = udp_from(TRUSTED, d.addr, v2("2001:db8::7", 4242, "2001:db8::53", 53)
                 + build_query("u6.a.example", "AAAA"))
    res.check(r is not None and parse_msg(r).rcode == "NOERROR",
              "trusted v2/UDP (IPv6 client): answered", r)
    # LOCAL (a health check): answered as from the sender itself.
    r = udp_from(TRUSTED, d.addr, v2(None, 0, None, 0, local=True)
                 + build_query("local.a.example", "A"))
    res.check(answered(r), "trusted v2 LOCAL/UDP: answered", r)
    # Trusted, over TCP: v2 and v1, then two pipelined queries.
    r = tcp_from(TRUSTED, d.addr, v2("198.51.100.8", 5555, "192.0.2.53", 53, dgram=False)
                 + frame(build_query("t2.a.example", "A")))
    res.check(answered(r), "trusted v2/TCP: answered", r)
    r = tcp_from(TRUSTED, d.addr, b"PROXY TCP4 198.51.100.9 192.0.2.53 6666 53\r\n"
                 + frame(build_query("t1.a.example", "A")))
    res.check(answered(r), "trusted v1/TCP: answered", r)

    # Trusted sender without a header: dropped, counted.
    r = udp_from(TRUSTED, d.addr, build_query("nohdr.a.example", "A"))
    res.check(r is None, "trusted UDP without a header: no answer", r)
    r = udp_from(TRUSTED, d.addr, b"PROXY TCP4 198.51.100.9 192.0.2.53 6666 53\r\n"
                 + build_query("v1udp.a.example", "A"))
    res.check(r is None, "trusted UDP with a v1 header: no answer", r)
    r = tcp_from(TRUSTED, d.addr, frame(build_query("nohdr-tcp.a.example", "A")))
    res.check(r is None, "trusted TCP without a header: closed, no answer", r)

    # Untrusted sender with a header: not a DNS query; never proxied.
    udp_from(UNTRUSTED, d.addr, v2("198.51.100.66", 1, "192.0.2.53", 53)
             + build_query("untrusted.a.example", "A"), timeout=0.5)
    r = udp_from(UNTRUSTED, d.addr, build_query("plain.a.example", "A"))
    res.check(answered(r), "untrusted sender, plain query: answered", r)

    # RRL keys on the client inside the header: client X is limited after
    # a burst; client Y (another /24, same sender) is not.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((TRUSTED, 0))
    for i in range(30):
        s.sendto(v2("203.0.113.10", 1000 + i, "192.0.2.53", 53)
                 + build_query("rrl.a.example", "A", qid=i), d.addr)
    for i in range(3):
        s.sendto(v2("192.0.2.200", 2000 + i, "192.0.2.53", 53)
                 + build_query("rrl.a.example", "A", qid=100 + i), d.addr)
    time.sleep(0.3)
    s.close()

    st = d.stats()
    dd, d0 = st["dns"]["proxy"], st0["dns"]["proxy"]
    res.eq(dd["bad"] - d0["bad"], 3, "stats: dns.proxy.bad counts the 3 bad ones")
    res.eq(dd["proxied"] - d0["proxied"], 4 + 33, "stats: dns.proxy.proxied")

    evs = wait_until(lambda: (lambda e: e if len(by_name(e, "rrl.a.example")) == 33 else None)(
        d.events(strict=False)), 5) or d.events()
    e = by_name(evs, "u4.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == "198.51.100.7" and e[0]["src_port"] == 40000
              and e[0].get("proxied_by") == TRUSTED and e[0]["dest_ip"] == "192.0.2.53"
              and e[0]["proto"] == "UDP", "event: v2/UDP client, sender as proxied_by", e)
    e = by_name(evs, "u6.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == "2001:db8::7" and e[0]["src_port"] == 4242
              and e[0].get("proxied_by") == TRUSTED, "event: IPv6 client inside IPv4 sender", e)
    e = by_name(evs, "local.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == TRUSTED and "proxied_by" not in e[0],
              "event: LOCAL keeps the sender, no proxied_by", e)
    e = by_name(evs, "t2.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == "198.51.100.8" and e[0]["src_port"] == 5555
              and e[0].get("proxied_by") == TRUSTED and e[0]["proto"] == "TCP",
              "event: v2/TCP client", e)
    e = by_name(evs, "t1.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == "198.51.100.9" and e[0]["src_port"] == 6666,
              "event: v1/TCP client", e)
    for n in ("nohdr.a.example", "v1udp.a.example", "nohdr-tcp.a.example",
              "untrusted.a.example"):
        res.eq(by_name(evs, n), [], "no event for the dropped %s" % n)
    res.check(not any(e.get("src_ip") == "198.51.100.66" for e in evs),
              "an untrusted sender's header is never believed")
    e = by_name(evs, "plain.a.example")
    res.check(len(e) == 1 and e[0]["src_ip"] == UNTRUSTED and "proxied_by" not in e[0],
              "event: untrusted plain query from its own address", e)
    rx = [e for e in by_name(evs, "rrl.a.example") if e["src_ip"] == "203.0.113.10"]
    ry = [e for e in by_name(evs, "rrl.a.example") if e["src_ip"] == "192.0.2.200"]
    res.eq(len(rx), 30, "RRL: 30 events of client X")
    res.check(sum(1 for e in rx if e["dns"]["rrl"] in ("drop", "slip")) >= 20,
              "RRL: client X limited after its burst", [e["dns"]["rrl"] for e in rx])
    res.check(len(ry) == 3 and all(e["dns"]["rrl"] == "pass" for e in ry),
              "RRL: client Y behind the same sender not limited by X's burst",
              [e["dns"]["rrl"] for e in ry])
    d.check_stop(res, "proxy daemon")


if __name__ == "__main__":
    run_main("test_dns_proxy", body)
