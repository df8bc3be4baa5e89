#!/usr/bin/env python3
"""Write the seed corpora of fuzz_http, fuzz_tls_hello and fuzz_proxy into
tests/fuzz/http.in/, tests/fuzz/tls_hello.in/ and tests/fuzz/proxy.in/.

Deterministic: the same files with the same bytes on every run. Seeds are
ordinary inputs (requests a bot or curl sends, ClientHellos of real
clients, PROXY headers of load balancers) and the hostile shapes each
parser must refuse (smuggling framings, bad chunking, truncated or
inconsistent lengths, bad TLVs). Files written here are overwritten; other
files in the folders (crashes found by the fuzzer and kept as regressions)
are left alone.

ClientHello sources: FIREFOX_BODY is the body of the hello in
jabedude/ja3-rs test.pcap as transcribed in aws/s2n-tls
tests/unit/s2n_fingerprint_ja3_test.c; SMITH_3 is sample 3 of
astibal/smithproxy src/inspect/tests/ja4_tests.cpp (its padding zeros are
restored below); OPENSSL_* were sent by openssl s_client (OpenSSL 3.0) to a
local listener, with and without -servername/-alpn.

Usage: tests/fuzz/gen_proto_corpus.py [FUZZDIR]
"""
import os
import struct
import sys

FIREFOX_BODY = (
    "030390e8cceee570a2a12f6b69d266960fcf20d5326ec4b28cc7bd0a06c2a514fc3420af72bf"
    "3999fb2070c310830ceefbfa72cc5da899b4c553d63da0537a5cbcf50b001ec02bc02fcca9cc"
    "a8c02cc030c00ac009c013c01400330039002f0035000a0100008500000023002100001e696e"
    "636f6d696e672e74656c656d657472792e6d6f7a696c6c612e6f726700170000ff0100010000"
    "0a000a0008001d001700180019000b00020100002300000010000e000c02683208687474702f"
    "312e31000500050100000000000d001800160403050306030804080508060401050106010203"
    "0201001c00024000"
)
SMITH_3 = (
    "010001fc0303e4422635180a6d52305577414519930d2eb4b714ecbaffc7aa4ef762421df379"
    "20a89626d7567923c523a5255cfc150232e8491a92f4d85e848d5f8432baf6d273003e130213"
    "031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac01400"
    "39c009c0130033009d009c003d003c0035002f00ff010001750000001c001a00001772656d6f"
    "74652e7069786965647573742e6f6e6c696e65000b000403000102000a000c000a001d001700"
    "1e0019001800230000001600000017000000310000000d002a00280403050306030807080808"
    "09080a080b080408050806040105010601030303010302040205020602002b00050403040303"
    "002d00020101003300260024001d0020d8a1f885af25dd99f2c6a123fae44fadc43bc5d9c123"
    "e0ec0fbbdc0a90a6b24e001500c2"
)
OPENSSL_SNI_ALPN = (
    "160301014b010001470303a6b201d17de016389a917ebbfdf5b8264c01e3584bc6c210887fd2"
    "e742f0b3a3209f4bc906181c674278d9044d93204f931e7a20da3d2cb787bfbb1f979183a2ac"
    "003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067"
    "c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c000000011000f0000"
    "0c6578616d706c652e74657374000b000403000102000a00160014001d0017001e0019001801"
    "000101010201030104002300000010000e000c02683208687474702f312e3100160000001700"
    "00000d002a0028040305030603080708080809080a080b080408050806040105010601030303"
    "010302040205020602002b0009080304030303020301002d00020101003300260024001d0020"
    "5f1b33ebd39ff4d8dbc930c6b39feb1e4e4b5fadc085a7e1ae190795b64cf309"
)
OPENSSL_NO_SNI = (
    "1603010124010001200303af9eeebbc65463cfdc40067e89f4eb8a8cac37cd8cb48dc47c1ab5"
    "6727d8d0f620e5ae06f9131594467703d9fcd3e1321adf8b08227c7b9fa49efd7e9310438351"
    "003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067"
    "c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000099000b000403000102"
    "000a00160014001d0017001e0019001801000101010201030104002300000016000000170000"
    "000d002a0028040305030603080708080809080a080b08040805080604010501060103030301"
    "0302040205020602002b0009080304030303020301002d00020101003300260024001d0020bc"
    "acc816a86e36cf1eaadb9af50746231c5cdd097efe4a5e4b7a3dc1c5f8992d"
)


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---- HTTP ----

def http_seeds():
    s = {}
    s["get_simple"] = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    s["get_bot"] = (b"GET /gate.php?id=0123456789abcdef&v=2 HTTP/1.1\r\n"
                    b"Host: c2.example\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0)\r\n"
                    b"Referer: http://c2.example/\r\nAccept: */*\r\n\r\n")
    s["curl_keepalive"] = (b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
                           b"Accept: */*\r\n\r\nGET /b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
    s["post_length"] = (b"POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        b"Content-Length: 13\r\n\r\nid=42&os=win7GET / HTTP/1.1\r\n\r\n")
    s["post_chunked"] = (b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
                         b"GET /next HTTP/1.1\r\n\r\n")
    s["post_expect"] = (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2048\r\n"
                        b"Expect: 100-continue\r\n\r\n")
    s["http10_keepalive"] = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    s["http09"] = b"GET /index.html\r\n"
    s["lf_only"] = b"\r\nGET /x HTTP/1.1\nHost: h\n\n"
    s["connect"] = b"CONNECT c2.example:443 HTTP/1.1\r\nHost: c2.example:443\r\n\r\n"
    s["tight_limits"] = b"\rGET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"
    s["cl_te"] = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    s["cl_differ"] = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"
    s["te_http10"] = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    s["obs_fold"] = b"GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n"
    s["space_colon"] = b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"
    s["two_hosts"] = b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    s["h2_preface"] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    s["bad_chunk"] = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    s["huge_chunk"] = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nab"
    s["long_header"] = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n"
    s["binary"] = bytes(range(256))
    s["tls_record"] = b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
    s["proxy_v1"] = b"PROXY TCP4 192.0.2.1 198.51.100.7 56324 80\r\nGET / HTTP/1.1\r\n\r\n"
    return s


# ---- TLS ----

def handshake(body):
    return b"\x01" + struct.pack(">I", len(body))[1:] + body


def records(msg, frag=16384, version=0x0301):
    out = b""
    for i in range(0, len(msg), frag):
        part = msg[i:i + frag]
        out += struct.pack(">BHH", 22, version, len(part)) + part
    return out


def ext(t, body=b""):
    return struct.pack(">HH", t, len(body)) + body


def client_hello(ciphers, exts, version=0x0303, sid=b""):
    body = struct.pack(">H", version) + bytes(32) + bytes([len(sid)]) + sid
    body += struct.pack(">H", 2 * len(ciphers)) + b"".join(struct.pack(">H", c) for c in ciphers)
    body += b"\x01\x00"
    if exts is not None:
        block = b"".join(exts)
        body += struct.pack(">H", len(block)) + block
    return body


def spec_example():
    """The example of FoxIO's JA4.md: its ciphers, extensions and
    signature algorithms, in its order."""
    ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
               0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    sni = b"\x00\x0e\x00\x00\x0bexample.com"
    bodies = {0x0000: sni, 0x0010: b"\x00\x03\x02h2",
              0x000d: b"\x00\x10" + bytes.fromhex("04030804040105030805050108060601"),
              0x002b: b"\x04\x03\x04\x03\x03"}
    order = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
             0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015]
    return client_hello(ciphers, [ext(t, bodies.get(t, b"")) for t in order])


def tls_seeds():
    s = {}
    firefox = bytes.fromhex(FIREFOX_BODY)
    smith = bytes.fromhex(SMITH_3)
    smith += bytes(4 + int.from_bytes(smith[1:4], "big") - len(smith))
    s["firefox"] = records(handshake(firefox))
    s["firefox_frag100"] = records(handshake(firefox), 100)
    s["firefox_frag7"] = records(handshake(firefox), 7)
    s["smith3_record"] = records(smith)
    s["smith3_bare"] = smith
    s["openssl_sni_alpn"] = bytes.fromhex(OPENSSL_SNI_ALPN)
    s["openssl_no_sni"] = bytes.fromhex(OPENSSL_NO_SNI)
    s["spec_example"] = records(handshake(spec_example()))
    s["grease"] = records(handshake(client_hello(
        [0x0a0a, 0x1301, 0xc02f],
        [ext(0x1a1a), ext(0x000a, b"\x00\x04\x2a\x2a\x00\x17"),
         ext(0x002b, b"\x04\x3a\x3a\x03\x04"), ext(0x0010, b"\x00\x03\x01\xab")])))
    s["no_extensions"] = records(handshake(client_hello([0x002f], None, 0x0301)))
    s["empty"] = records(handshake(client_hello([], [])))
    s["bad_ext_bodies"] = records(handshake(client_hello(
        [0x002f], [ext(0x0000, b"\x00\x05\x00\x00\x09ab"), ext(0x0010, b"\x00\x03\x05h2"),
                   ext(0x000a, b"\x00\x03\x00\x17\x00"), ext(0x002b, b"")])))
    s["many_ciphers"] = records(handshake(client_hello(list(range(0x100, 0x100 + 300)), [])))
    s["odd_ciphers"] = records(handshake(client_hello([0x002f], [])))[:9] + b"\x00\x03"
    s["server_hello"] = records(b"\x02" + handshake(firefox)[1:])
    s["app_data"] = b"\x17\x03\x03\x00\x05hello"
    s["sslv2"] = bytes.fromhex("802e0100020015000000100100800700c0030080060040020080")
    return s


# ---- PROXY ----

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(ver_cmd, fam, body):
    return SIG + bytes([ver_cmd, fam]) + struct.pack(">H", len(body)) + body


def tlv(t, v):
    return bytes([t]) + struct.pack(">H", len(v)) + v


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def with_crc(ver_cmd, fam, addrs, tlvs=b""):
    hdr = v2(ver_cmd, fam, addrs + tlvs + tlv(0x03, bytes(4)))
    return hdr[:-4] + struct.pack(">I", crc32c(hdr))


def proxy_seeds():
    a4 = bytes([192, 0, 2, 1, 198, 51, 100, 7]) + struct.pack(">HH", 56324, 443)
    a6 = (bytes.fromhex("20010db8000000000000000000000001") +
          bytes.fromhex("20010db8000000000000000000000002") + struct.pack(">HH", 53, 5353))
    s = {}
    s["v1_tcp4"] = b"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET / HTTP/1.1\r\n\r\n"
    s["v1_tcp6"] = b"PROXY TCP6 2001:db8::1 2001:db8::2 53 5353\r\n"
    s["v1_unknown"] = b"PROXY UNKNOWN\r\n"
    s["v1_unknown_long"] = (b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")
    s["v1_longest"] = (b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")
    s["v1_lf_only"] = b"PROXY TCP4 192.0.2.1 198.51.100.7 1 2\n"
    s["v1_bad_port"] = b"PROXY TCP4 192.0.2.1 198.51.100.7 65536 2\r\n"
    s["v1_no_crlf"] = b"PROXY TCP4 " + b"1" * 120
    s["v2_tcp4"] = v2(0x21, 0x11, a4) + b"payload"
    s["v2_udp4"] = v2(0x21, 0x12, a4)
    s["v2_tcp6_tlvs"] = v2(0x21, 0x21, a6 + tlv(0x02, b"sink.example") + tlv(0x04, b"")
                           + tlv(0x20, b"\x01\x00\x00\x00\x00" + tlv(0x21, b"TLSv1.3")))
    s["v2_udp6"] = v2(0x21, 0x22, a6)
    s["v2_local"] = v2(0x20, 0x00, b"")
    s["v2_local_addrs"] = v2(0x20, 0x11, a4)
    s["v2_unspec"] = v2(0x21, 0x00, b"")
    s["v2_unix"] = v2(0x21, 0x31, b"/tmp/a".ljust(108, b"\0") + b"/tmp/b".ljust(108, b"\0"))
    s["v2_crc_ok"] = with_crc(0x21, 0x11, a4)
    bad = bytearray(with_crc(0x21, 0x11, a4))
    bad[17] ^= 1
    s["v2_crc_bad"] = bytes(bad)
    s["v2_short_addrs"] = v2(0x21, 0x11, a4[:11])
    s["v2_bad_tlv"] = v2(0x21, 0x11, a4 + b"\x02\x00\x09abc")
    s["v2_bad_version"] = SIG + b"\x11\x11\x00\x0c" + a4
    s["v2_truncated"] = v2(0x21, 0x21, a6)[:30]
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    fuzz = sys.argv[1] if len(sys.argv) > 1 else here
    for folder, seeds in (("http.in", http_seeds()), ("tls_hello.in", tls_seeds()),
                          ("proxy.in", proxy_seeds())):
        for name, data in sorted(seeds.items()):
            write(os.path.join(fuzz, folder), name + ".bin", data)
        print("%s: %d seeds" % (folder, len(seeds)))


if __name__ == "__main__":
    main()
