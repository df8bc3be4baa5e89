#!/usr/bin/env python3
"""End-to-end: raw contacts on connection-sinkhole listeners.

Rules: rules/raw.rules. Listeners: "bin" (a binary check-in matched by
bytes at an offset, the bot id taken by offset and length as hex), "banner"
(a 300 ms sniff timeout: a silent client gets the rule's banner, and what
it sends afterwards is classified in turn), "udp" (one event per datagram;
a reply is never longer than the datagram it answers) and "tarpit" (held
open until total_timeout_ms). Each case asserts the exact bytes sent back
and the raw event logged: family, bot_id, rule, raw.data, sizes, flags and
close reason."""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (ABSENT, b64, b64d, brief, by_src_port, check_fields, connect,  # noqa: E402
                            ev_get, exchange, flags, one, read_for, read_until_close,
                            udp_send)
from sinkhole_harness import Daemon, run_main  # noqa: E402

TOTAL_MS = 1500


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("bin", {"sniff": "auto"}),
                          ("banner", {"sniff": "auto", "sniff_timeout_ms": "300"}),
                          ("udp", {"transport": "udp"}),
                          ("tarpit", {"total_timeout_ms": str(TOTAL_MS),
                                      "idle_timeout_ms": "30000"})],
               rules="raw.rules", tag="lraw").start()
    tcp = {"proto": "TCP", "src_ip": "127.0.0.1", "dest_ip": "127.0.0.1", "event_type": "raw"}

    # --- A binary check-in. ---
    bot = bytes.fromhex("0102030405a0b0c0")
    checkin = b"\xde\xad\x01\x07" + bot + b"\x00\x11\x22\x33\x44\x55\x66\x77"
    reply, how, ck_port = exchange(d.laddr("bin"), checkin)
    res.eq(reply, b"\xde\xad\x81\x00\xca\xfe", "check-in: reply bytes")
    res.eq(how, "eof", "check-in: closed after the reply (then=close)")
    # One byte short of the rule's len=20-: no rule, default reply (close).
    short = checkin[:19]
    reply, how, short_port = exchange(d.laddr("bin"), short)
    res.eq((reply, how), (b"", "eof"), "short check-in: nothing sent, closed")

    # --- A silent client: banner after the sniff timeout, then a command. ---
    s = connect(d.laddr("banner"))
    banner_port = s.getsockname()[1]
    got = b""
    end = time.monotonic() + 5
    while len(got) < 16 and time.monotonic() < end:
        chunk, how = read_for(s, 0.2)
        got += chunk
        if how != "timeout":
            break
    res.eq(got, b"220 sink ESMTP\r\n", "silent client: banner")
    s.sendall(b"QUIT\r\n")
    rest, how = read_until_close(s, 5)
    s.close()
    res.eq((rest, how), (b"221 bye\r\n", "eof"), "after the banner: QUIT classified, answered")
    # A silent client that hangs up after the banner.
    s = connect(d.laddr("banner"))
    mute_port = s.getsockname()[1]
    got, how = read_for(s, 2.0)
    s.close()
    res.eq(got, b"220 sink ESMTP\r\n", "mute client: banner")

    # --- UDP. ---
    u = d.laddr("udp")
    dgram = b"\x4d\x44\x02\x00" + bot
    r, udp_port = udp_send(u, dgram)
    res.eq(r, b"\x4d\x44\x82", "UDP check-in: reply datagram")
    r, short_udp_port = udp_send(u, b"\x55\x01")
    res.eq(r, None, "UDP: a 4-byte reply to a 2-byte datagram is not sent")
    r, big_udp_port = udp_send(u, b"\x55\x01\x02\x03")
    res.eq(r, b"\x55\x66\x77\x88", "UDP: the same reply to a 4-byte datagram is sent")
    r, other_udp_port = udp_send(u, b"hello there")
    res.eq(r, None, "UDP: unmatched datagram, no answer")

    # --- Tarpit: held open, nothing sent, until total_timeout_ms. ---
    s = connect(d.laddr("tarpit"))
    tp_port = s.getsockname()[1]
    t0 = time.monotonic()
    # (not "TARPIT x": an upper-case word, a space and a letter sniff as HTTP)
    s.sendall(b"TARPIT\x00please")
    early, how_early = read_for(s, 0.5)
    s.sendall(b"more")
    early2, how_early2 = read_for(s, max(0.0, TOTAL_MS / 1000.0 - 0.5 - (time.monotonic() - t0)
                                         - 0.2))
    late, how_late = read_until_close(s, 15)
    held = time.monotonic() - t0
    s.close()
    res.eq((early + early2, how_early, how_early2), (b"", "timeout", "timeout"),
           "tarpit: nothing sent and still open before total_timeout_ms")
    res.eq((late, how_late), (b"", "eof"), "tarpit: closed (without a byte) after the total time")
    res.check(held >= TOTAL_MS / 1000.0, "tarpit: held at least total_timeout_ms", held)

    # --- Events. ---
    evs = d.wait_conn_events(lambda e: len(e) >= 9, timeout=8)

    e = one(res, by_src_port(evs, ck_port), "check-in")
    check_fields(res, e, dict(tcp, **{
        "family": "rawnet", "bot_id": bot.hex(), "rule": "bin-checkin",
        "raw.data": b64(checkin), "raw.sniffed": "raw", "bytes_in": len(checkin),
        "bytes_out": 6, "close_reason": "server", "dest_port": d.ports["bin"], "list": "bin"}),
        "check-in")

    e = one(res, by_src_port(evs, short_port), "short check-in")
    check_fields(res, e, dict(tcp, **{
        "family": ABSENT, "bot_id": ABSENT, "rule": ABSENT, "raw.data": b64(short),
        "bytes_in": 19, "bytes_out": 0}), "short check-in")

    e = one(res, by_src_port(evs, banner_port), "banner client")
    check_fields(res, e, dict(tcp, **{
        "family": "bannernet", "raw.data": b64(b"QUIT\r\n"), "bytes_in": 6,
        "bytes_out": 16 + 9}), "banner client")
    if e:
        res.check({"silent", "banner"} <= flags(e), "banner client: flags silent, banner", e)
    e = one(res, by_src_port(evs, mute_port), "mute client")
    check_fields(res, e, dict(tcp, **{
        "family": "bannernet", "rule": "banner", "bytes_in": 0, "bytes_out": 16,
        "close_reason": "client"}), "mute client")
    if e:
        res.check({"silent", "banner"} <= flags(e), "mute client: flags silent, banner", e)
        res.check(b64d(ev_get(e, "raw.data") or "") == b"", "mute client: no raw.data", e)

    udp = {"proto": "UDP", "event_type": "raw", "src_ip": "127.0.0.1",
           "dest_port": d.ports["udp"], "list": "udp"}
    e = one(res, by_src_port(evs, udp_port), "UDP check-in")
    check_fields(res, e, dict(udp, **{
        "family": "udpnet", "bot_id": bot.hex(), "rule": "udp-checkin",
        "raw.data": b64(dgram), "bytes_in": 12, "bytes_out": 3}), "UDP check-in")
    e = one(res, by_src_port(evs, short_udp_port), "UDP short")
    check_fields(res, e, dict(udp, **{"family": "udpbig", "bytes_in": 2, "bytes_out": 0}),
                 "UDP short (reply suppressed)")
    e = one(res, by_src_port(evs, big_udp_port), "UDP long enough")
    check_fields(res, e, dict(udp, **{"family": "udpbig", "bytes_in": 4, "bytes_out": 4}),
                 "UDP long enough")
    e = one(res, by_src_port(evs, other_udp_port), "UDP unmatched")
    check_fields(res, e, dict(udp, **{"family": ABSENT, "raw.data": b64(b"hello there"),
                                      "bytes_out": 0}), "UDP unmatched")

    e = one(res, by_src_port(evs, tp_port), "tarpit")
    check_fields(res, e, dict(tcp, **{
        "family": "tarpitnet", "rule": "tarpit", "bytes_in": 13 + 4, "bytes_out": 0,
        "close_reason": "total"}), "tarpit")
    if e:
        res.check({"tarpit", "limit"} <= flags(e), "tarpit: flags tarpit, limit", e)
        data = b64d(ev_get(e, "raw.data") or "") or b""
        res.check(data.startswith(b"TARPIT\x00please"), "tarpit: raw.data", e)

    res.eq(len(evs), 9, "no other connection events")
    st = d.stats()
    res.check("listeners" in st, "stats.json: listeners", sorted(st))
    d.check_stop(res)


run_main("test_listen_raw", body)
