"""Small clients and helpers shared by the connection-sinkhole tests
(tests/e2e/test_listen_*.py).

Standard library only, plus the real clients the tests drive (curl,
openssl s_client). Every socket operation has a timeout; every wait is
bounded.

What is here:
  - TCP and UDP clients that can send from a chosen loopback address
    (127.0.0.2, 127.1.2.3, ...), read until the peer closes, and parse HTTP
    responses byte-exactly;
  - curl and openssl s_client runners;
  - PROXY protocol v1/v2 headers;
  - an independent ClientHello parser with JA3 and JA4, and a one-shot
    server that captures the ClientHello a real client sends, so a test can
    compute the fingerprints the sinkhole must log;
  - accessors for exported events (nested or dotted names).
"""

import base64
import hashlib
import ipaddress
import re
import select
import socket
import struct
import subprocess
import threading
import time

# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


def ev_get(ev, path, default=None):
    """The field at a dotted path ("tls.ja3.hash"), whether the export nests
    it ({"tls": {"ja3": {"hash": ...}}}) or writes the dotted name as one key
    ({"tls.ja3.hash": ...}) or anything in between."""
    if path in ev:
        return ev[path]
    parts = path.split(".")
    for i in range(1, len(parts)):
        head, rest = ".".join(parts[:i]), ".".join(parts[i:])
        sub = ev.get(head)
        if isinstance(sub, dict):
            v = ev_get(sub, rest, None)
            if v is not None:
                return v
    return default


def flags(ev):
    """The event's flags as a set of names."""
    f = ev.get("flags") or []
    if isinstance(f, str):
        f = f.split()
    return set(f)


def by_src_port(evs, port, kind=None):
    return [e for e in evs if e.get("src_port") == port
            and (kind is None or e.get("event_type") == kind)]


def by_url(evs, url):
    return [e for e in evs if e.get("event_type") == "http" and ev_get(e, "http.url") == url]


def b64(data):
    return base64.b64encode(data).decode()


def b64d(text):
    """Base64 text -> bytes; None if it is not base64."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def brief(evs, limit=6):
    """A short rendering of events for failure messages."""
    out = [str(e) for e in evs[:limit]]
    if len(evs) > limit:
        out.append("... %d more" % (len(evs) - limit))
    return "\n".join(out) if out else "(no events)"


# ---------------------------------------------------------------------------
# TCP and UDP
# ---------------------------------------------------------------------------


def connect(addr, src=None, timeout=5.0):
    """A TCP connection to addr, from source address src (any loopback
    address; port chosen by the kernel) if given."""
    fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        if src is not None:
            s.bind((src, 0))
        s.connect(addr)
    except BaseException:
        s.close()
        raise
    return s


def read_until_close(sock, timeout=5.0, limit=1 << 24):
    """Read until the peer closes or timeout seconds pass.
    Returns (bytes, how) with how "eof", "reset" or "timeout"."""
    buf = b""
    end = time.monotonic() + timeout
    while len(buf) < limit:
        left = end - time.monotonic()
        if left <= 0:
            return buf, "timeout"
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            return buf, "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return buf, "reset"
        if not d:
            return buf, "eof"
        buf += d
    return buf, "limit"


def read_for(sock, seconds):
    """Whatever arrives within seconds; (bytes, how) as read_until_close()."""
    return read_until_close(sock, timeout=seconds)


def exchange(addr, data, src=None, timeout=5.0, shut_wr=False):
    """Connect, send data, optionally shut the write side, read until the
    peer closes. Returns (reply bytes, how, local port)."""
    s = connect(addr, src, timeout)
    try:
        port = s.getsockname()[1]
        if data:
            s.sendall(data)
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        reply, how = read_until_close(s, timeout)
        return reply, how, port
    finally:
        s.close()


def udp_send(addr, data, src=None, timeout=1.0):
    """Send one datagram (from src if given); returns (reply or None, local
    port)."""
    fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind((src or ("::1" if fam == socket.AF_INET6 else "127.0.0.1"), 0))
        port = s.getsockname()[1]
        s.settimeout(timeout)
        s.sendto(data, addr)
        try:
            return s.recv(65535), port
        except socket.timeout:
            return None, port
    finally:
        s.close()


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


class Response:
    def __init__(self, raw, status, reason, headers, body):
        self.raw = raw          # the bytes of the whole response
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as sent
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "Response(%r)" % self.raw[:300]


def parse_response(buf, head_only=False):
    """One HTTP/1.x response at the start of buf, framed by Content-Length
    (a response without one runs to the end of buf). Returns (Response,
    bytes used) or (None, 0) if buf does not yet hold a whole response."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    m = re.match(r"^HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
    if not m:
        raise ValueError("not an HTTP response: %r" % buf[:200])
    headers = []
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers.append((k, v.strip()))
    pos = end + 4
    clen = None
    for k, v in headers:
        if k.lower() == "content-length":
            clen = int(v)
    status = int(m.group(1))
    if head_only or status < 200 or status in (204, 304):
        n = 0  # never a body (RFC 9112, 6.3)
    elif clen is None:
        n = len(buf) - pos
    else:
        n = clen
    if len(buf) < pos + n:
        return None, 0
    r = Response(buf[:pos + n], int(m.group(1)), m.group(2), headers, buf[pos:pos + n])
    return r, pos + n


def read_responses(sock, count, timeout=5.0, head_only=False):
    """Read count responses from sock (fewer if the peer closes or time runs
    out). Returns (responses, leftover bytes, how the reading ended)."""
    buf = b""
    out = []
    end = time.monotonic() + timeout
    how = "ok"
    while len(out) < count:
        r, used = parse_response(buf, head_only) if buf else (None, 0)
        if r is not None:
            out.append(r)
            buf = buf[used:]
            continue
        left = end - time.monotonic()
        if left <= 0:
            how = "timeout"
            break
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            how = "timeout"
            break
        except (ConnectionResetError, BrokenPipeError):
            how = "reset"
            break
        if not d:
            how = "eof"
            break
        buf += d
    return out, buf, how


def http_request(method, url, host="sinkhole.test", version="1.1", headers=(), body=b""):
    """The bytes of a request; headers: list of (name, value)."""
    lines = ["%s %s HTTP/%s" % (method, url, version), "Host: %s" % host]
    lines += ["%s: %s" % kv for kv in headers]
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def default_reply(keep_alive):
    """The sinkhole's default HTTP reply (docs/rules.md "Default reply")."""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
            b"Connection: " + (b"keep-alive" if keep_alive else b"close") + b"\r\n\r\n")


def curl(args, timeout=20):
    """Run curl (quiet, no proxy from the environment, bounded) with args."""
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "--connect-timeout", "5"]
    return subprocess.run(cmd + list(args), capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def curl_parse(out):
    """curl -i output (several responses, possibly with 100 Continue) ->
    list of Response; the body of each is what followed its head up to its
    Content-Length."""
    res = []
    buf = out
    while buf.startswith(b"HTTP/"):
        r, used = parse_response(buf)
        if r is None:
            break
        if r.status != 100:
            res.append(r)
        buf = buf[used:]
    return res


# ---------------------------------------------------------------------------
# PROXY protocol (HAProxy proxy-protocol.txt)
# ---------------------------------------------------------------------------

PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v1(src, sport, dst, dport):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def proxy_v2(src, sport, dst, dport, dgram=False, local=False, tlvs=b""):
    if local:
        return PROXY_V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", len(tlvs)) + tlvs
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = 0x10 if s.version == 4 else 0x20
    body = s.packed + d.packed + struct.pack("!HH", sport, dport) + tlvs
    return (PROXY_V2_SIG + bytes([0x21, fam | (0x02 if dgram else 0x01)])
            + struct.pack("!H", len(body)) + body)


# ---------------------------------------------------------------------------
# TLS: ClientHello, JA3, JA4
# ---------------------------------------------------------------------------


def is_grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


class Hello:
    """What JA3 and JA4 need from a ClientHello."""

    def __init__(self):
        self.legacy_version = 0
        self.ciphers = []
        self.exts = []
        self.groups = []
        self.points = []
        self.sigalgs = []
        self.versions = []
        self.sni = None
        self.alpn = []


def parse_hello(buf):
    """A ClientHello in TLS records at the start of buf -> (Hello, bytes of
    the records); (None, 0) if buf does not hold all of it yet. Raises
    ValueError if it is not one."""
    msg = b""
    pos = 0
    need = None
    while need is None or len(msg) < need:
        if len(buf) < pos + 5:
            return None, 0
        ctype, ver, rlen = struct.unpack("!BHH", buf[pos:pos + 5])
        if ctype != 22 or ver >> 8 != 3:
            raise ValueError("not a handshake record")
        if len(buf) < pos + 5 + rlen:
            return None, 0
        msg += buf[pos + 5:pos + 5 + rlen]
        pos += 5 + rlen
        if need is None and len(msg) >= 4:
            if msg[0] != 1:
                raise ValueError("not a ClientHello")
            need = 4 + int.from_bytes(msg[1:4], "big")
    b = msg[4:need]
    h = Hello()
    h.legacy_version = struct.unpack("!H", b[0:2])[0]
    p = 2 + 32
    sid = b[p]
    p += 1 + sid
    n = struct.unpack("!H", b[p:p + 2])[0]
    p += 2
    h.ciphers = [struct.unpack("!H", b[p + i:p + i + 2])[0] for i in range(0, n, 2)]
    p += n
    p += 1 + b[p]
    if p == len(b):
        return h, pos
    end = p + 2 + struct.unpack("!H", b[p:p + 2])[0]
    p += 2
    while p < end:
        t, ln = struct.unpack("!HH", b[p:p + 4])
        v = b[p + 4:p + 4 + ln]
        p += 4 + ln
        h.exts.append(t)
        if t == 0x0000 and len(v) >= 5 and v[2] == 0:
            nl = struct.unpack("!H", v[3:5])[0]
            h.sni = v[5:5 + nl].decode("latin-1")
        elif t == 0x000A:
            h.groups = [struct.unpack("!H", v[2 + i:4 + i])[0] for i in range(0, len(v) - 2, 2)]
        elif t == 0x000B:
            h.points = list(v[1:1 + v[0]])
        elif t == 0x000D:
            h.sigalgs = [struct.unpack("!H", v[2 + i:4 + i])[0] for i in range(0, len(v) - 2, 2)]
        elif t == 0x0010:
            q = 2
            while q < len(v):
                ln2 = v[q]
                h.alpn.append(v[q + 1:q + 1 + ln2])
                q += 1 + ln2
        elif t == 0x002B:
            h.versions = [struct.unpack("!H", v[1 + i:3 + i])[0] for i in range(0, v[0], 2)]
    return h, pos


def ja3_string(h):
    def j(vals):
        return "-".join(str(v) for v in vals if not is_grease(v))
    return ",".join([str(h.legacy_version), j(h.ciphers), j(h.exts), j(h.groups),
                     "-".join(str(v) for v in h.points)])


def ja3_hash(h):
    return hashlib.md5(ja3_string(h).encode()).hexdigest()


JA4_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
                0x0002: "s2", 0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}


def ja4(h, kind="t"):
    """JA4 (FoxIO technical_details/JA4.md) of a Hello."""
    vers = [v for v in h.versions if not is_grease(v)]
    ver = max(vers) if vers else h.legacy_version
    ciphers = [c for c in h.ciphers if not is_grease(c)]
    exts = [e for e in h.exts if not is_grease(e)]
    alpn = "00"
    if h.alpn and h.alpn[0]:
        a = h.alpn[0]
        if chr(a[0]).isalnum() and chr(a[-1]).isalnum() and a[0] < 128 and a[-1] < 128:
            alpn = chr(a[0]) + chr(a[-1])
        else:
            hx = a.hex()
            alpn = hx[0] + hx[-1]
    a_part = "%s%s%s%02d%02d%s" % (kind, JA4_VERSIONS.get(ver, "00"),
                                   "d" if h.sni is not None else "i",
                                   min(len(ciphers), 99), min(len(exts), 99), alpn)

    def h12(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12]

    b_part = h12(",".join("%04x" % c for c in sorted(ciphers))) if ciphers else "0" * 12
    ext_list = sorted("%04x" % e for e in exts if e not in (0x0000, 0x0010))
    sig = [s for s in h.sigalgs if not is_grease(s)]
    if not ext_list:
        c_part = "0" * 12
    else:
        c_str = ",".join(ext_list)
        if sig:
            c_str += "_" + ",".join("%04x" % s for s in sig)
        c_part = h12(c_str)
    return "%s_%s_%s" % (a_part, b_part, c_part)


JA4_RE = re.compile(r"^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{2}\d{2}[0-9A-Za-z]{2}"
                    r"_[0-9a-f]{12}_[0-9a-f]{12}$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")


def capture_hello(run_client, timeout=10.0):
    """Start a one-shot TCP server on 127.0.0.1, call run_client(port) (which
    must make one client connect there and then give up), and return the
    ClientHello bytes (its records) the client sent, or None."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        srv.settimeout(timeout)
        try:
            c, _ = srv.accept()
        except OSError:
            return
        with c:
            buf = b""
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                c.settimeout(max(0.01, end - time.monotonic()))
                try:
                    d = c.recv(65536)
                except OSError:
                    break
                if not d:
                    break
                buf += d
                try:
                    h, n = parse_hello(buf)
                except (ValueError, IndexError, struct.error):
                    break
                if h is not None:
                    got["hello"] = buf[:n]
                    break

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        run_client(port)
    finally:
        t.join(timeout)
        srv.close()
    return got.get("hello")


def s_client(addr, servername=None, extra=(), stdin=b"", timeout=15):
    """openssl s_client to addr; servername None sends no SNI. Returns the
    CompletedProcess (bytes)."""
    cmd = ["openssl", "s_client", "-connect", "%s:%d" % addr, "-verify_quiet"]
    if servername is None:
        cmd.append("-noservername")
    else:
        cmd += ["-servername", servername]
    cmd += list(extra)
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)


def build_hello(sni=None, alpn=(), ciphers=(0x1301, 0x1302, 0xC02F), grease=True,
                versions=(0x0304, 0x0303), groups=(0x001D, 0x0017), sigalgs=(0x0403, 0x0804)):
    """A ClientHello of our own (one record), with GREASE values where
    browsers put them, for exact fingerprint checks."""
    G = 0x3A3A
    cs = ([G] if grease else []) + list(ciphers)
    exts = []
    if grease:
        exts.append((0x1A1A, b""))
    if sni is not None:
        name = sni.encode()
        sn = b"\x00" + struct.pack("!H", len(name)) + name
        exts.append((0x0000, struct.pack("!H", len(sn)) + sn))
    exts.append((0x0017, b""))
    gl = ([G] if grease else []) + list(groups)
    exts.append((0x000A, struct.pack("!H", 2 * len(gl)) + b"".join(struct.pack("!H", g)
                                                                  for g in gl)))
    exts.append((0x000B, b"\x01\x00"))
    exts.append((0x000D, struct.pack("!H", 2 * len(sigalgs))
                 + b"".join(struct.pack("!H", s) for s in sigalgs)))
    if alpn:
        al = b"".join(bytes([len(a)]) + a.encode() for a in alpn)
        exts.append((0x0010, struct.pack("!H", len(al)) + al))
    vl = ([G] if grease else []) + list(versions)
    exts.append((0x002B, bytes([2 * len(vl)]) + b"".join(struct.pack("!H", v) for v in vl)))
    exts.append((0x002D, b"\x01\x01"))
    ks = struct.pack("!HH", 0x001D, 32) + bytes(range(32))
    exts.append((0x0033, struct.pack("!H", len(ks)) + ks))
    ext_bytes = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in exts)
    body = (struct.pack("!H", 0x0303) + bytes(range(32)) + b"\x20" + bytes(range(32, 64))
            + struct.pack("!H", 2 * len(cs)) + b"".join(struct.pack("!H", c) for c in cs)
            + b"\x01\x00" + struct.pack("!H", len(ext_bytes)) + ext_bytes)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


# ---------------------------------------------------------------------------
# Many slow connections
# ---------------------------------------------------------------------------


class SlowClients:
    """n connections, each from its own loopback source address, that send
    a start and then one byte every `every` seconds (slowloris). Runs in a
    thread; records for each connection when the server closed it."""

    def __init__(self, addr, n, start=b"GET / HTTP/1.1\r\n", drip=b"X-a: b\r\n", every=2.0,
                 sources=None):
        self.addr, self.n, self.start_bytes, self.drip, self.every = addr, n, start, drip, every
        self.sources = sources or ["127.1.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range(n)]
        self.socks = []
        self.ports = []
        self.closed_at = {}   # index -> monotonic time the server closed it
        self.opened_at = None
        self.connect_errors = 0
        self._stop = threading.Event()
        self._t = None

    def open(self):
        for i in range(self.n):
            try:
                s = connect(self.addr, self.sources[i], timeout=5.0)
                s.sendall(self.start_bytes)
                s.setblocking(False)
            except OSError:
                self.connect_errors += 1
                s = None
            self.socks.append(s)
            self.ports.append(s.getsockname()[1] if s else None)
        self.opened_at = time.monotonic()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        sent = [0] * self.n
        next_drip = time.monotonic() + self.every
        while not self._stop.is_set():
            live = {s.fileno(): i for i, s in enumerate(self.socks)
                    if s is not None and i not in self.closed_at}
            if not live:
                return
            try:
                r, _, _ = select.select(list(live), [], [], 0.05)
            except (OSError, ValueError):
                r = []
            for fd in r:
                i = live[fd]
                try:
                    d = self.socks[i].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if not d:
                    self.closed_at[i] = time.monotonic()
            if time.monotonic() >= next_drip:
                next_drip += self.every
                for i, s in enumerate(self.socks):
                    if s is None or i in self.closed_at:
                        continue
                    b = self.drip[sent[i] % len(self.drip):sent[i] % len(self.drip) + 1]
                    try:
                        s.send(b)
                        sent[i] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.closed_at[i] = time.monotonic()

    def wait_all_closed(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.closed_at) + self.connect_errors >= self.n:
                return True
            time.sleep(0.05)
        return len(self.closed_at) + self.connect_errors >= self.n

    def close(self):
        self._stop.set()
        if self._t:
            self._t.join(5)
        for s in self.socks:
            if s is not None:
                s.close()


# ---------------------------------------------------------------------------
# Checking events and counters
# ---------------------------------------------------------------------------

ABSENT = object()  # in check_fields(): the field must be left out of the event


def check_fields(res, ev, want, what):
    """One check per expected field of ev (dotted names; ABSENT: left out)."""
    if ev is None:
        res.check(False, "%s: event logged" % what, "no event")
        return
    for path, v in want.items():
        got = ev_get(ev, path)
        if v is ABSENT:
            res.check(got is None, "%s: %s left out" % (what, path), "got %r in %r" % (got, ev))
        else:
            res.check(got == v, "%s: %s" % (what, path),
                      "expected %r, got %r in %r" % (v, got, ev))


def one(res, evs, what):
    """The one event of evs (checked), or None."""
    res.check(len(evs) == 1, "%s: exactly one event" % what, brief(evs))
    return evs[0] if evs else None


def lcount(st, name, listener):
    """Counter name of listener from stats.json (its "listeners" object)."""
    ls = st.get("listeners", {})
    return ls.get(listener, {}).get(name) if isinstance(ls.get(listener), dict) else None
