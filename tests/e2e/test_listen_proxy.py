#!/usr/bin/env python3
"""End-to-end: PROXY protocol on connection-sinkhole listeners.

Listeners "pp" (TCP) and "ppu" (UDP) with proxy_protocol = 127.0.0.2: the
test sends from 127.0.0.2 (trusted) and 127.0.0.3 (untrusted) by binding
its client sockets to them. From the trusted sender a v1 or v2 header names
the real client: the event's src_ip/src_port (and dest_ip/dest_port) are
the header's, proxied_by is the sender, and the request after the header
is answered as usual. A LOCAL header keeps the sender's own address. From
the trusted sender a connection without a valid header is closed, counted
and logged; from anyone else a header is not believed (docs/config.md)."""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (b64d, brief, by_src_port, by_url, default_reply, ev_get, exchange,  # noqa: E402
                            flags, http_request, lcount, proxy_v1, proxy_v2, udp_send)
from sinkhole_harness import Daemon, run_main  # noqa: E402

TRUSTED = "127.0.0.2"
UNTRUSTED = "127.0.0.3"

RULES = """
rule pp-checkin family=ppnet
    match bytes@0=hex:"c0 de" len=6-
    botid bytes=2+4 encode=hex
    reply bytes=hex:"c0 de 00" then=close
end
"""


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("pp", {"proxy_protocol": TRUSTED}),
                          ("ppu", {"transport": "udp", "proxy_protocol": TRUSTED})],
               rules=RULES, tag="lproxy").start()
    pp, ppu = d.laddr("pp"), d.laddr("ppu")
    st0 = d.stats()

    # --- Trusted: v1 (IPv4), v2 (IPv6 client), v2 LOCAL. ---
    req = http_request("GET", "/pv1", version="1.0")
    r, how, v1_port = exchange(pp, proxy_v1("198.51.100.7", 40000, "192.0.2.80", 80) + req,
                               src=TRUSTED)
    res.eq(r, default_reply(False), "trusted v1: request after the header answered")
    req = http_request("GET", "/pv2", version="1.0")
    r, how, v2_port = exchange(pp, proxy_v2("2001:db8::7", 4242, "2001:db8::80", 443) + req,
                               src=TRUSTED)
    res.eq(r, default_reply(False), "trusted v2 (IPv6 client): answered")
    req = http_request("GET", "/plocal", version="1.0")
    r, how, local_port = exchange(pp, proxy_v2(None, 0, None, 0, local=True) + req, src=TRUSTED)
    res.eq(r, default_reply(False), "trusted v2 LOCAL: answered")
    # A raw check-in behind a v2 header; rules see the bytes after it.
    r, how, raw_port = exchange(pp, proxy_v2("203.0.113.9", 5555, "192.0.2.80", 8080)
                                + b"\xc0\xde\x01\x02\x03\x04", src=TRUSTED)
    res.eq(r, b"\xc0\xde\x00", "trusted v2 + raw check-in: rule's reply")

    # --- Trusted sender, but no header / a malformed one: closed, counted. ---
    r, how, nohdr_port = exchange(pp, http_request("GET", "/nohdr", version="1.0"), src=TRUSTED)
    res.eq(r, b"", "trusted without a header: nothing answered")
    res.check(how in ("eof", "reset"), "trusted without a header: closed", how)
    bad = b"PROXY TCP4 198.51.100.300 192.0.2.80 1 80\r\n" + http_request("GET", "/bad1")
    r, how, bad1_port = exchange(pp, bad, src=TRUSTED)
    res.eq(r, b"", "trusted, malformed v1: nothing answered")
    res.check(how in ("eof", "reset"), "trusted, malformed v1: closed", how)
    bad2 = proxy_v2("198.51.100.8", 1, "192.0.2.80", 80)[:13] + b"\x99" + b"\x00" * 20
    r, how, bad2_port = exchange(pp, bad2, src=TRUSTED)
    res.eq(r, b"", "trusted, malformed v2: nothing answered")
    res.check(how in ("eof", "reset"), "trusted, malformed v2: closed", how)

    # --- Untrusted sender with a header: not believed. ---
    hdr = proxy_v1("198.51.100.66", 1, "192.0.2.80", 80)
    untrusted_bytes = hdr + http_request("GET", "/untrusted", version="1.0")
    r, how, untr_port = exchange(pp, untrusted_bytes, src=UNTRUSTED)
    res.eq(r, b"", "untrusted with a header: no HTTP answer")
    # Untrusted without a header: an ordinary client.
    r, how, plain_port = exchange(pp, http_request("GET", "/plain3", version="1.0"),
                                  src=UNTRUSTED)
    res.eq(r, default_reply(False), "untrusted without a header: answered")

    # --- UDP: trusted v2 DGRAM. ---
    dg = b"\xc0\xde\xaa\xbb\xcc\xdd"
    r, udp_port = udp_send(ppu, proxy_v2("198.51.100.20", 6000, "192.0.2.80", 9999, dgram=True)
                           + dg, src=TRUSTED)
    res.eq(r, b"\xc0\xde\x00", "UDP trusted v2: answered, without a header")
    r, udp_bad_port = udp_send(ppu, dg, src=TRUSTED)
    res.eq(r, None, "UDP trusted without a header: dropped")

    # --- Events. ---
    evs = d.wait_conn_events(lambda e: len(by_url(e, "/plain3")) == 1
                             and len(by_src_port(e, 6000)) == 1, timeout=8)

    def one(sel, what):
        res.check(len(sel) == 1, "%s: one event" % what, brief(sel))
        return sel[0] if sel else None

    e = one(by_url(evs, "/pv1"), "trusted v1")
    if e:
        res.eq((e.get("src_ip"), e.get("src_port"), e.get("dest_ip"), e.get("dest_port"),
                e.get("proxied_by")), ("198.51.100.7", 40000, "192.0.2.80", 80, TRUSTED),
               "trusted v1: addresses from the header, sender as proxied_by")
        res.eq(e.get("bytes_in"), len(http_request("GET", "/pv1", version="1.0")),
               "trusted v1: bytes_in counts the request, not the header")
    e = one(by_url(evs, "/pv2"), "trusted v2")
    if e:
        res.eq((e.get("src_ip"), e.get("src_port"), e.get("dest_ip"), e.get("dest_port"),
                e.get("proxied_by")), ("2001:db8::7", 4242, "2001:db8::80", 443, TRUSTED),
               "trusted v2: IPv6 client from the header")
    e = one(by_url(evs, "/plocal"), "trusted v2 LOCAL")
    if e:
        res.eq((e.get("src_ip"), e.get("src_port"), e.get("proxied_by")),
               (TRUSTED, local_port, None), "LOCAL: the sender's own address, no proxied_by")
    e = one(by_src_port(evs, 5555), "trusted v2 raw")
    if e:
        res.eq((e.get("event_type"), e.get("src_ip"), e.get("proxied_by"), e.get("family"),
                e.get("bot_id"), b64d(ev_get(e, "raw.data"))),
               ("raw", "203.0.113.9", TRUSTED, "ppnet", "01020304", b"\xc0\xde\x01\x02\x03\x04"),
               "trusted v2 raw: client, family, bot id, data after the header")

    e = one(by_src_port(evs, untr_port), "untrusted with a header")
    if e:
        res.eq((e.get("event_type"), e.get("src_ip"), e.get("proxied_by")),
               ("raw", UNTRUSTED, None), "untrusted: logged as raw from the sender itself")
        res.eq(b64d(ev_get(e, "raw.data")), untrusted_bytes,
               "untrusted: the header kept as data")
    e = one(by_url(evs, "/plain3"), "untrusted without a header")
    if e:
        res.eq((e.get("src_ip"), e.get("src_port"), e.get("proxied_by")),
               (UNTRUSTED, plain_port, None), "untrusted plain: own address")

    for what, port_ in (("no header", nohdr_port), ("malformed v1", bad1_port),
                        ("malformed v2", bad2_port)):
        e = one(by_src_port(evs, port_), "trusted, %s" % what)
        if e:
            res.eq((e.get("src_ip"), e.get("proxied_by"), e.get("bytes_out")),
                   (TRUSTED, None, 0), "trusted, %s: logged from the sender" % what)
            res.check("malformed" in flags(e), "trusted, %s: flag malformed" % what, e)

    e = one(by_src_port(evs, 6000), "UDP trusted v2")
    if e:
        res.eq((e.get("proto"), e.get("src_ip"), e.get("proxied_by"), e.get("family"),
                e.get("bot_id"), e.get("dest_port")),
               ("UDP", "198.51.100.20", TRUSTED, "ppnet", "aabbccdd", 9999), "UDP trusted v2")

    st = d.stats()
    res.eq(lcount(st, "proxy_bad", "pp") - (lcount(st0, "proxy_bad", "pp") or 0), 3,
           "stats: 3 bad headers from the trusted sender (TCP)")
    res.eq(lcount(st, "proxy_bad", "ppu") - (lcount(st0, "proxy_bad", "ppu") or 0), 1,
           "stats: 1 datagram without a header from the trusted sender (UDP)")
    res.eq(lcount(st, "proxy_untrusted", "pp") - (lcount(st0, "proxy_untrusted", "pp") or 0), 1,
           "stats: 1 header from an untrusted sender")
    d.check_stop(res)


run_main("test_listen_proxy", body)
