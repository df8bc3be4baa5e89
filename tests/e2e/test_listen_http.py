#!/usr/bin/env python3
"""End-to-end: HTTP on a connection-sinkhole listener.

One TCP listener with sniff = auto and the rules of rules/http.rules. Real
curl (HTTP/1.0, HTTP/1.1 keep-alive over several URLs, a 1 MB upload plain
and chunked, HEAD) and raw sockets (pipelining, exact reply bytes, malformed
requests). Each case asserts the bytes the client got and the event the
sinkhole logged (read with `sinkhole export --format jsonl`): one http event
per request with its method, host, URL, headers, status, request number,
body length and first body bytes, family and bot id from the rules; a
malformed request is logged as raw with the flag malformed."""

import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (ABSENT, b64d, brief, by_src_port, by_url, check_fields, connect,  # noqa: E402
                            curl, curl_parse, default_reply, ev_get, exchange, flags,
                            http_request, one, read_until_close)
from sinkhole_harness import RULES_DIR, Daemon, run_main  # noqa: E402

BODY_KEEP = 1024   # http_body_bytes (the default, written out below)


def body(res):
    gate_html = open(os.path.join(RULES_DIR, "gate.html"), "rb").read()
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("web", {"sniff": "auto", "http_body_bytes": str(BODY_KEEP),
                                   "max_bytes": "4194304"})],
               rules="http.rules", tag="lhttp").start()
    addr = d.laddr("web")
    port = addr[1]
    base = "http://127.0.0.1:%d" % port
    common = {"proto": "TCP", "src_ip": "127.0.0.1", "dest_ip": "127.0.0.1", "dest_port": port,
              "node": "e2e-node", "list": "web"}

    # --- HTTP/1.0 with curl: the default reply, then close. ---
    p = curl(["-0", "-i", "-A", "TestBot/1.0", "-e", "http://ref.test/page",
              "-H", "Host: h10.test", base + "/h10?a=1&b=2"])
    res.eq(p.stdout, default_reply(False), "curl HTTP/1.0: reply bytes")
    res.eq(p.returncode, 0, "curl HTTP/1.0: exit status")

    # --- The same over a raw socket, for exact sizes. ---
    req10 = http_request("GET", "/raw10", host="raw10.test", version="1.0",
                         headers=[("User-Agent", "RawBot 2"), ("Content-Type", "text/x-test")])
    reply, how, port10 = exchange(addr, req10)
    res.eq(reply, default_reply(False), "raw HTTP/1.0: reply bytes")
    res.eq(how, "eof", "raw HTTP/1.0: closed by the sinkhole after the reply")

    # --- HTTP/1.1 keep-alive: curl with three URLs on one connection. ---
    ka_urls = ["/ka/1", "/ka/2?x=y", "/ka/3"]
    p = curl(["-i", "-w", "[conns=%{num_connects}]"] + [base + u for u in ka_urls])
    res.eq(p.stdout, (default_reply(True) + b"[conns=1]" + default_reply(True) + b"[conns=0]"
                      + default_reply(True) + b"[conns=0]"),
           "curl keep-alive: three replies on one connection")

    # --- Pipelining: three requests in one write, three replies. ---
    pipe = [http_request("GET", "/pipe/1", host="pipe.test"),
            http_request("GET", "/pipe/2", host="pipe.test", headers=[("User-Agent", "P2")]),
            http_request("GET", "/pipe/3", host="pipe.test", headers=[("Connection", "close")])]
    s = connect(addr)
    pipe_port = s.getsockname()[1]
    s.sendall(b"".join(pipe))
    got, how = read_until_close(s, 5)
    s.close()
    res.eq(got, default_reply(True) * 2 + default_reply(False), "pipelining: three replies")
    res.eq(how, "eof", "pipelining: closed after Connection: close")

    # --- A 1 MB upload, plain and chunked. ---
    rng = random.Random(5)
    big = bytes(rng.getrandbits(8) for _ in range(1000000))
    big_path = os.path.join(d.tmp, "upload.bin")
    with open(big_path, "wb") as f:
        f.write(big)
    up_reply = (b"HTTP/1.1 201 Created\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n"
                b"stored\n")
    p = curl(["-i", "--data-binary", "@" + big_path, "-H", "Content-Type: application/x-bin",
              "-H", "X-Bot-Id: 0123456789abcdef", "-H", "Expect:", base + "/upload"])
    res.eq(p.stdout, up_reply, "1 MB POST: reply bytes")
    p = curl(["-i", "--data-binary", "@" + big_path, "-H", "Transfer-Encoding: chunked",
              "-H", "X-Bot-Id: fedcba9876543210", "-H", "Expect:", base + "/upload?chunked"])
    res.eq(p.stdout, up_reply, "1 MB chunked POST: reply bytes")
    # curl's own way: Expect: 100-continue (it sends the body after a 100
    # Continue, or after a second without one).
    p = curl(["-i", "--data-binary", "@" + big_path, "-H", "X-Bot-Id: 00000000000000ff",
              "-H", "Expect: 100-continue", base + "/upload?expect"])
    rs = curl_parse(p.stdout)
    res.check(len(rs) == 1 and rs[0].raw == up_reply, "1 MB POST with Expect: reply",
              p.stdout[:400])

    # --- The gate rule: bot id from the query, reply from a file. ---
    gate_head = ("HTTP/1.1 403 Go Away\r\nContent-Type: text/html\r\nServer: gate\r\n"
                 "Content-Length: %d\r\n" % len(gate_html)).encode()
    p = curl(["-i", base + "/gate.php?x=1&bid=deadbeef&y=2"])
    res.eq(p.stdout, gate_head + b"Connection: keep-alive\r\n\r\n" + gate_html,
           "gate rule: status, headers and body from the file")
    rs = curl_parse(p.stdout)
    res.check(len(rs) == 1 and rs[0].status == 403 and rs[0].body == gate_html,
              "gate rule: curl sees 403 and the file", p.stdout[:300])
    p = curl(["-i", base + "/gate.php?bid=XYZ"])
    res.eq(p.stdout, gate_head + b"Connection: keep-alive\r\n\r\n" + gate_html,
           "gate rule without a valid bid: same reply")

    # --- HEAD: the head without the body. ---
    head_req = http_request("HEAD", "/gate.php?bid=0badf00d", headers=[("Connection", "close")])
    reply, how, head_port = exchange(addr, head_req)
    res.eq(reply, gate_head + b"Connection: close\r\n\r\n", "HEAD: head only, no body")
    p = curl(["-I", base + "/plain-head"])
    res.eq(p.stdout, default_reply(True), "curl -I: default head")

    # --- Malformed requests: logged as raw, flag malformed. ---
    bad1 = b"GET /bad HTTP/1.1\r\nHost: bad.test\r\nBad Header Line\r\n\r\n"
    bad1_reply, _, bad1_port = exchange(addr, bad1)
    bad2 = (b"POST /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    bad2_reply, _, bad2_port = exchange(addr, bad2)
    res.eq(bad1_reply, b"", "malformed header line: no HTTP reply (raw: closed)")
    res.eq(bad2_reply, b"", "Content-Length with Transfer-Encoding: no HTTP reply (raw: closed)")

    # --- The events. ---
    n_want = 1 + 1 + 3 + 3 + 3 + 2 + 2 + 2  # as sent above

    evs = d.wait_conn_events(lambda e: len(e) >= n_want, timeout=8)
    http = [e for e in evs if e.get("event_type") == "http"]

    e = one(res, by_url(http, "/h10?a=1&b=2"), "curl HTTP/1.0")
    check_fields(res, e, dict(common, **{
        "http.http_method": "GET", "http.hostname": "h10.test",
        "http.http_user_agent": "TestBot/1.0", "http.http_refer": "http://ref.test/page",
        "http.status": 200, "http.protocol": "HTTP/1.0", "http.request": 1,
        "http.body_len": 0, "family": ABSENT, "bot_id": ABSENT,
        "bytes_out": len(default_reply(False))}), "curl HTTP/1.0")
    if e:
        res.check("keepalive" not in flags(e), "curl HTTP/1.0: no keepalive flag", e)

    e = one(res, by_src_port(http, port10), "raw HTTP/1.0")
    check_fields(res, e, dict(common, **{
        "src_port": port10, "http.url": "/raw10", "http.hostname": "raw10.test",
        "http.http_user_agent": "RawBot 2", "http.http_content_type": "text/x-test",
        "http.http_refer": ABSENT, "http.protocol": "HTTP/1.0", "http.request": 1,
        "bytes_in": len(req10), "bytes_out": len(default_reply(False)),
        "close_reason": "server"}), "raw HTTP/1.0")

    ka = [one(res, by_url(http, u), "keep-alive %s" % u) for u in ka_urls]
    if all(ka):
        res.eq([ev_get(x, "http.request") for x in ka], [1, 2, 3],
               "keep-alive: http.request 1, 2, 3")
        res.eq(len({x.get("src_port") for x in ka}), 1, "keep-alive: one connection (src_port)")
        res.check(all("keepalive" in flags(x) for x in ka), "keep-alive: flag keepalive",
                  brief(ka))
        res.eq([ev_get(x, "http.protocol") for x in ka], ["HTTP/1.1"] * 3,
               "keep-alive: http.protocol")

    pe = sorted(by_src_port(http, pipe_port), key=lambda x: ev_get(x, "http.request") or 0)
    res.eq([(ev_get(x, "http.url"), ev_get(x, "http.request")) for x in pe],
           [("/pipe/1", 1), ("/pipe/2", 2), ("/pipe/3", 3)], "pipelining: three events 1, 2, 3")
    if len(pe) == 3:
        res.eq([x.get("bytes_in") for x in pe], [len(r) for r in pipe], "pipelining: bytes_in")
        res.eq([x.get("bytes_out") for x in pe],
               [len(default_reply(True))] * 2 + [len(default_reply(False))],
               "pipelining: bytes_out")
        res.eq(ev_get(pe[1], "http.http_user_agent"), "P2", "pipelining: second request's UA")
        res.eq(["keepalive" in flags(x) for x in pe], [True, True, False],
               "pipelining: keepalive on the first two only")

    for url, bot in (("/upload", "0123456789abcdef"), ("/upload?chunked", "fedcba9876543210"),
                     ("/upload?expect", "00000000000000ff")):
        e = one(res, by_url(http, url), "POST %s" % url)
        check_fields(res, e, dict(common, **{
            "http.http_method": "POST", "http.body_len": len(big),
            "http.status": 201, "family": "testnet", "bot_id": bot, "rule": "upload",
            "bytes_out": len(up_reply)}), "POST %s" % url)
        if e:
            kept = b64d(ev_get(e, "http.body"))
            res.check(kept == big[:BODY_KEEP], "POST %s: http.body holds the first %d bytes"
                      % (url, BODY_KEEP),
                      "got %r bytes: %r" % (len(kept) if kept else None, (kept or b"")[:40]))
            res.check(e.get("bytes_in", 0) > len(big), "POST %s: bytes_in counts the body" % url,
                      e.get("bytes_in"))
    e = one(res, by_url(http, "/upload"), "POST /upload")
    if e:
        res.eq(ev_get(e, "http.http_content_type"), "application/x-bin",
               "POST: http.http_content_type")

    e = one(res, by_url(http, "/gate.php?x=1&bid=deadbeef&y=2"), "gate rule")
    check_fields(res, e, dict(common, **{
        "http.http_method": "GET", "http.status": 403, "family": "testnet",
        "bot_id": "deadbeef", "rule": "gate",
        "bytes_out": len(gate_head) + len(b"Connection: keep-alive\r\n\r\n") + len(gate_html)}),
        "gate rule")
    e = one(res, by_url(http, "/gate.php?bid=XYZ"), "gate rule, no id")
    check_fields(res, e, {"family": "testnet", "rule": "gate", "bot_id": ABSENT},
                 "gate rule, no id")

    e = one(res, by_src_port(http, head_port), "HEAD")
    check_fields(res, e, dict(common, **{
        "http.http_method": "HEAD", "http.url": "/gate.php?bid=0badf00d", "http.status": 403,
        "bot_id": "0badf00d", "family": "testnet",
        "bytes_out": len(gate_head) + len(b"Connection: close\r\n\r\n")}), "HEAD")
    e = one(res, by_url(http, "/plain-head"), "curl -I")
    check_fields(res, e, {"http.http_method": "HEAD", "http.status": 200}, "curl -I")

    for what, port_, sent in (("malformed header line", bad1_port, bad1),
                              ("Content-Length with Transfer-Encoding", bad2_port, bad2)):
        e = one(res, by_src_port(evs, port_), what)
        check_fields(res, e, dict(common, **{
            "event_type": "raw", "src_port": port_, "raw.sniffed": "http",
            "http.url": ABSENT}), what)
        if e:
            res.check("malformed" in flags(e), "%s: flag malformed" % what, e)
            res.eq(b64d(ev_get(e, "raw.data")), sent, "%s: raw.data holds what was sent" % what)
            res.eq(e.get("bytes_in"), len(sent), "%s: bytes_in" % what)

    res.eq(len(evs), n_want, "no other connection events")

    d.check_stop(res)


run_main("test_listen_http", body)
