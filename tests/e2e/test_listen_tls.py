#!/usr/bin/env python3
"""End-to-end: TLS on connection-sinkhole listeners.

Two TCP listeners: "plain" (tls = off: the ClientHello is read, logged and
fingerprinted, then the connection is closed) and "term" (tls = terminate
with a certificate generated for tls_cn: the handshake is finished and the
HTTP inside is answered and logged). Rules: rules/tls.rules.

The fingerprints the sinkhole must log are computed here independently:
the ClientHello openssl s_client sends is first captured by a one-shot
server of the test and fingerprinted in Python (JA3: MD5 of the Salesforce
string; JA4: FoxIO's definition), then the same command is pointed at the
sinkhole. A ClientHello of our own with GREASE values is checked too."""

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (HEX32_RE, JA4_RE, brief, build_hello, by_src_port,  # noqa: E402
                            by_url, capture_hello, curl, default_reply, ev_get, exchange, flags,
                            ja3_hash, ja4, parse_hello, s_client)
from sinkhole_harness import Daemon, run_main  # noqa: E402

TLS_VERSION_13 = "TLS 1.3"  # tls.version of a hello offering TLS 1.3 (docs/events.md)


def hello_of(cmd_for_port):
    """Capture the ClientHello a client command sends; (Hello, JA3, JA4)."""
    raw = capture_hello(cmd_for_port)
    if raw is None:
        return None, None, None
    h, _ = parse_hello(raw)
    return h, ja3_hash(h), ja4(h)


def tls_events(evs, port):
    return [e for e in evs if e.get("event_type") == "tls" and e.get("dest_port") == port]


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("plain", {"sniff": "auto", "tls": "off"}),
                          ("term", {"sniff": "auto", "tls": "terminate",
                                    "tls_cn": "sinkhole.test"})],
               rules="tls.rules", tag="ltls").start()
    plain, term = d.laddr("plain"), d.laddr("term")

    # --- openssl s_client with SNI and ALPN, against the plain listener. ---
    sni_args = ["-alpn", "h2,http/1.1"]
    h1, ja3_1, ja4_1 = hello_of(lambda p: s_client(("127.0.0.1", p), "bot.evil.test", sni_args,
                                                   timeout=10))
    res.check(h1 is not None and h1.sni == "bot.evil.test", "capture: s_client hello with SNI")
    p = s_client(plain, "bot.evil.test", sni_args)
    res.check(b"BEGIN CERTIFICATE" not in p.stdout, "plain listener: no handshake finished",
              p.stdout[-300:])

    # --- ... and without SNI. ---
    h2, ja3_2, ja4_2 = hello_of(lambda p: s_client(("127.0.0.1", p), None, timeout=10))
    res.check(h2 is not None and h2.sni is None, "capture: s_client hello without SNI")
    s_client(plain, None)

    # --- A ClientHello of our own, with GREASE everywhere browsers put it. ---
    own = build_hello(sni="own.example.org", alpn=("http/1.1",))
    h3, _ = parse_hello(own)
    ja3_3, ja4_3 = ja3_hash(h3), ja4(h3)
    reply, how, own_port = exchange(plain, own)
    res.eq(reply, b"", "own hello on the plain listener: nothing sent back (default: close)")
    res.eq(how, "eof", "own hello: closed by the sinkhole")

    # --- Termination: curl -k, with SNI (via --resolve) and without. ---
    tp = term[1]
    p = curl(["-k", "-i", "--resolve", "bot.evil.test:%d:127.0.0.1" % tp,
              "https://bot.evil.test:%d/inner?id=42" % tp])
    res.eq(p.stdout, (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
                      b"Connection: keep-alive\r\n\r\ninner ok\n"),
           "terminate: curl -k with SNI gets the rule's reply")
    res.eq(p.returncode, 0, "terminate: curl exit status (%s)" % p.stderr.decode()[-200:])
    p = curl(["-k", "-i", "https://127.0.0.1:%d/no-sni" % tp])
    res.eq(p.stdout, default_reply(True), "terminate: curl -k without SNI gets the default reply")

    # openssl s_client through the terminated session: the certificate is
    # the generated one, and an HTTP/1.0 request inside is answered.
    p = s_client(term, "cert.example", ["-ign_eof"],
                 stdin=b"GET /via-s_client HTTP/1.0\r\nHost: cert.example\r\n\r\n")
    out = p.stdout.decode("latin-1")
    res.check(re.search(r"subject=.*CN ?= ?sinkhole\.test", out) is not None,
              "terminate: generated certificate for tls_cn", out[:600])
    res.check(default_reply(False).decode() in out,
              "terminate: s_client request answered", out[-600:])

    # --- Events. ---
    evs = d.wait_conn_events(lambda e: len(tls_events(e, plain[1])) >= 3
                             and len([x for x in e if x.get("event_type") == "http"]) >= 3,
                             timeout=8)
    pt = tls_events(evs, plain[1])

    with_sni = [e for e in pt if ev_get(e, "tls.sni") == "bot.evil.test"]
    res.check(len(with_sni) == 1, "s_client with SNI: one tls event", brief(pt))
    if with_sni:
        e = with_sni[0]
        res.eq(ev_get(e, "tls.ja3.hash"), ja3_1, "s_client with SNI: tls.ja3.hash")
        res.eq(ev_get(e, "tls.ja4"), ja4_1, "s_client with SNI: tls.ja4")
        res.eq(ev_get(e, "tls.version"), TLS_VERSION_13, "s_client with SNI: tls.version")
        res.eq(ev_get(e, "tls.alpn"), "h2", "s_client with SNI: tls.alpn (first offered)")
        res.eq(e.get("family"), "tlsnet", "SNI rule: family")
        res.eq(e.get("rule"), "evil-tls", "SNI rule: rule")
        res.eq(e.get("proto"), "TCP", "tls event: proto")
        res.eq(e.get("list"), "plain", "tls event: list names the listener")
        res.check(HEX32_RE.match(ev_get(e, "tls.ja3.hash") or "") is not None,
                  "tls.ja3.hash: 32 hex digits", e)
        res.check(JA4_RE.match(ev_get(e, "tls.ja4") or "") is not None,
                  "tls.ja4: JA4 pattern", e)
        res.check("terminated" not in flags(e), "plain listener: not terminated", e)

    no_sni = [e for e in pt if ev_get(e, "tls.sni") is None and ev_get(e, "tls.ja4", "")[3:4]
              == "i" and e.get("src_port") != own_port]
    res.check(len(no_sni) == 1, "s_client without SNI: one tls event without tls.sni", brief(pt))
    if no_sni:
        e = no_sni[0]
        res.eq(ev_get(e, "tls.ja3.hash"), ja3_2, "s_client without SNI: tls.ja3.hash")
        res.eq(ev_get(e, "tls.ja4"), ja4_2, "s_client without SNI: tls.ja4")
        res.eq(ev_get(e, "tls.version"), TLS_VERSION_13, "s_client without SNI: tls.version")
        res.check(e.get("family") is None, "no SNI: no rule, no family", e)

    oe = by_src_port(pt, own_port)
    res.check(len(oe) == 1, "own hello: one tls event", brief(pt))
    if oe:
        e = oe[0]
        res.eq(ev_get(e, "tls.sni"), "own.example.org", "own hello: tls.sni")
        res.eq(ev_get(e, "tls.ja3.hash"), ja3_3, "own hello: tls.ja3.hash (GREASE left out)")
        res.eq(ev_get(e, "tls.ja4"), ja4_3, "own hello: tls.ja4 (GREASE left out)")
        res.eq(ev_get(e, "tls.alpn"), "http/1.1", "own hello: tls.alpn")
        res.eq(ev_get(e, "tls.version"), TLS_VERSION_13, "own hello: tls.version")
        res.eq(ev_get(e, "tls.record_version"), "TLSv1", "own hello: tls.record_version")
        res.eq(e.get("bytes_in"), len(own), "own hello: bytes_in")
        res.eq(e.get("bytes_out"), 0, "own hello: bytes_out")
        res.eq(e.get("close_reason"), "server", "own hello: close_reason")
    res.eq(len(pt), 3, "plain listener: exactly three tls events")

    http = [e for e in evs if e.get("event_type") == "http"]
    inner = by_url(http, "/inner?id=42")
    res.check(len(inner) == 1, "terminate: one http event for the inner request", brief(http))
    if inner:
        e = inner[0]
        res.check("tls" in flags(e), "terminate: inner event has flag tls", e)
        res.eq(e.get("family"), "tlsnet", "terminate: rule on SNI + path: family")
        res.eq(e.get("bot_id"), "42", "terminate: bot id from the inner query")
        res.eq(ev_get(e, "http.status"), 200, "terminate: http.status")
        res.eq(ev_get(e, "http.hostname"), "bot.evil.test:%d" % tp, "terminate: http.hostname")
        res.eq(e.get("dest_port"), tp, "terminate: dest_port")
    e = by_url(http, "/no-sni")
    res.check(len(e) == 1 and "tls" in flags(e[0]) and e[0].get("family") is None,
              "terminate without SNI: http event, flag tls, no family", brief(e))
    e = by_url(http, "/via-s_client")
    res.check(len(e) == 1 and "tls" in flags(e[0]) and ev_get(e[0], "http.protocol") == "HTTP/1.0",
              "terminate, s_client: http event, flag tls, HTTP/1.0", brief(e))

    # Each terminated connection is also one tls event (at close), marked
    # terminated, with the SNI of its hello.
    tt = tls_events(evs, tp)
    res.eq(sorted(ev_get(x, "tls.sni") or "" for x in tt), ["", "bot.evil.test", "cert.example"],
           "terminate: one tls event per connection, with its SNI")
    res.check(all("terminated" in flags(x) for x in tt), "terminate: tls events flagged terminated",
              brief(tt))

    d.check_stop(res)


run_main("test_listen_tls", body)
