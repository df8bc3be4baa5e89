#!/usr/bin/env python3
"""End-to-end: hostile clients against connection-sinkhole listeners.

- slowloris: 300 connections, each from its own loopback address, that
  start a request and then send one header byte every 2 s, with
  header_timeout_ms = 3000: normal curl requests made meanwhile are still
  answered (each within a generous bound: not starved, not a benchmark),
  and every slow connection is closed by the header timeout, logged with
  close_reason header and counted;
- a request head larger than http_max_head: closed, logged, counted;
- random garbage: one raw event each, the bytes kept exactly;
- half-open: a request followed by shutdown(SHUT_WR) is still answered;
- max_per_source and max_connections: the excess is closed and counted.
Every load is bounded in count and time."""

import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (b64d, brief, by_src_port, by_url, connect, curl, default_reply,  # noqa: E402
                            ev_get, exchange, flags, http_request, lcount, read_for,
                            SlowClients)
from sinkhole_harness import Daemon, run_main  # noqa: E402

N_SLOW = 300
HEADER_MS = 3000
MAX_HEAD = 1024
PROMPT_S = 2.0  # "answered promptly": a generous bound on a shared machine


def delta(st, st0, name, listener):
    a, b = lcount(st, name, listener), lcount(st0, name, listener)
    if a is None:
        return None
    return a - (b or 0)


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("web", {"header_timeout_ms": str(HEADER_MS),
                                   "http_max_head": str(MAX_HEAD)}),
                          ("lim", {"max_per_source": "3", "max_connections": "6",
                                   "sniff_timeout_ms": "60000"})],
               tag="lhostile").start()
    web, lim = d.laddr("web"), d.laddr("lim")
    st0 = d.stats()

    # --- slowloris, with normal requests made meanwhile. ---
    slow = SlowClients(web, N_SLOW, start=b"GET /slow HTTP/1.1\r\nHost: slow.test\r\n",
                       drip=b"X-Slow: aaaaaaaaaaaaaaaa\r\n", every=2.0).open()
    res.eq(slow.connect_errors, 0, "slowloris: all %d connections opened" % N_SLOW)
    normal = []
    t_end = time.monotonic() + HEADER_MS / 1000.0 + 1.5
    i = 0
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        p = curl(["-i", "http://127.0.0.1:%d/normal/%d" % (web[1], i)])
        normal.append((i, time.monotonic() - t0, p.stdout))
        i += 1
        time.sleep(0.2)
    res.check(len(normal) >= 5, "slowloris: normal requests made meanwhile", len(normal))
    late = [(k, round(t, 3)) for k, t, out in normal if t > PROMPT_S]
    wrong = [(k, out[:80]) for k, t, out in normal if out != default_reply(True)]
    res.eq(wrong, [], "slowloris: every normal request answered")
    res.eq(late, [], "slowloris: every normal request answered within %.0f s" % PROMPT_S)
    all_closed = slow.wait_all_closed(HEADER_MS / 1000.0 + 10)
    res.check(all_closed, "slowloris: every slow connection closed by the sinkhole",
              "%d of %d closed" % (len(slow.closed_at), N_SLOW))
    early = [round(t - slow.opened_at, 2) for t in slow.closed_at.values()
             if t - slow.opened_at < HEADER_MS / 1000.0 - 0.5]
    res.eq(early, [], "slowloris: none closed well before header_timeout_ms")
    slow_ports = {p for p in slow.ports if p}
    slow.close()

    # --- Oversized request head. ---
    big = (b"GET /big HTTP/1.1\r\nHost: big.test\r\n"
           + b"".join(b"X-Pad-%d: %s\r\n" % (k, b"p" * 100) for k in range(12)) + b"\r\n")
    res.check(len(big) > MAX_HEAD, "oversized head is larger than http_max_head", len(big))
    r, how, big_port = exchange(web, big)
    res.check(how in ("eof", "reset"), "oversized head: closed", how)
    res.check(not r.startswith(b"HTTP/1.1 200"), "oversized head: not answered 200", r[:100])

    # --- Garbage. ---
    rng = random.Random(55)
    garbage = {}
    for k in range(20):
        n = rng.randrange(1, 300)
        data = bytes([rng.randrange(0x80, 0x100)]) + bytes(rng.getrandbits(8) for _ in range(n))
        r, how, port = exchange(web, data)
        garbage[port] = (data, r, how)
    res.eq([(r, how) for data, r, how in garbage.values() if (r, how) != (b"", "eof")], [],
           "garbage: nothing sent back, closed")

    # --- Half-open: the request, then shutdown(SHUT_WR). ---
    half = http_request("GET", "/half", host="half.test")
    r, how, half_port = exchange(web, half, shut_wr=True)
    res.check(r in (default_reply(True), default_reply(False)),
              "half-open: answered after the client shut its write side", r)
    res.eq(how, "eof", "half-open: then closed")

    # --- max_per_source = 3, max_connections = 6 on "lim". ---
    held, kicked = [], []
    for k in range(5):
        held.append(connect(lim, src="127.0.0.5"))
    # Connections 4 and 5 from 127.0.0.5 are over max_per_source.
    # Each worker accepts from its own queue (SO_REUSEPORT), so which two
    # are closed depends on who accepted first, not on the connect order.
    status = sorted(read_for(s, 1.0)[1] for s in held)
    res.eq(status, ["eof"] * 2 + ["timeout"] * 3,
           "max_per_source 3: three held, the other two closed")
    for k in range(3):
        kicked.append(connect(lim, src="127.0.0.6"))
    status = [read_for(s, 0.5)[1] for s in kicked]
    res.eq(status, ["timeout"] * 3, "another source: 3 more held (6 open)")
    extra = connect(lim, src="127.0.0.7")
    res.eq(read_for(extra, 2.0)[1], "eof", "max_connections 6: the 7th closed")
    extra_port = extra.getsockname()[1]
    for s in held + kicked + [extra]:
        s.close()

    # --- Events and counters. ---
    def enough(evs):
        return (len([e for e in evs if e.get("src_port") in slow_ports]) >= N_SLOW
                and len(by_src_port(evs, half_port)) >= 1)
    evs = d.wait_conn_events(enough, timeout=10)

    se = [e for e in evs if e.get("src_port") in slow_ports
          and e.get("src_ip", "").startswith("127.1.")]
    res.eq(len(se), N_SLOW, "slowloris: one event per slow connection")
    res.eq(sorted({e.get("close_reason") for e in se}), ["header"],
           "slowloris: close_reason header")
    res.check(all("limit" in flags(e) for e in se), "slowloris: flag limit", brief(se))
    nu = [e for e in evs if (ev_get(e, "http.url") or "").startswith("/normal/")]
    res.eq(len(nu), len(normal), "normal requests: one http event each")
    res.check(all(ev_get(e, "http.status") == 200 for e in nu), "normal requests: status 200",
              brief(nu))

    e = by_src_port(evs, big_port)
    res.check(len(e) == 1, "oversized head: one event", brief(e))
    if e:
        res.eq(e[0].get("event_type"), "raw", "oversized head: logged as raw")
        res.check("malformed" in flags(e[0]), "oversized head: flag malformed", e[0])
        got = b64d(ev_get(e[0], "raw.data")) or b""
        res.check(big.startswith(got) and len(got) >= MAX_HEAD,
                  "oversized head: raw.data holds its first bytes", len(got))

    bad = []
    for port, (data, _, _) in garbage.items():
        g = by_src_port(evs, port)
        if len(g) != 1 or g[0].get("event_type") != "raw" or \
                b64d(ev_get(g[0], "raw.data")) != data or ev_get(g[0], "raw.sniffed") != "raw" \
                or g[0].get("bytes_in") != len(data):
            bad.append((port, len(data), brief(g)))
    res.eq(bad, [], "garbage: one raw event each, raw.data exact, sniffed raw")

    e = by_url(evs, "/half")
    res.check(len(e) == 1 and ev_get(e[0], "http.status") == 200
              and e[0].get("bytes_in") == len(half), "half-open: http event", brief(e))

    e = by_src_port(evs, extra_port)
    res.check(len(e) <= 1, "max_connections: at most one event for the rejected", brief(e))
    if e:
        res.check("limit" in flags(e[0]), "max_connections: rejected one flagged limit", e)

    st = d.stats()
    res.eq(delta(st, st0, "header_timeouts", "web"), N_SLOW, "stats: header timeouts")
    res.eq(delta(st, st0, "head_too_large", "web"), 1, "stats: oversized heads")
    res.eq(delta(st, st0, "per_source_rejected", "lim"), 2, "stats: max_per_source hits")
    res.eq(delta(st, st0, "max_connections_rejected", "lim"), 1, "stats: max_connections hits")
    d.check_stop(res)


run_main("test_listen_hostile", body)
