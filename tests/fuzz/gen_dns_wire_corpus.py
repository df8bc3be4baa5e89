#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns_wire into tests/fuzz/dns_wire.in/.

Deterministic: the same files with the same bytes on every run. Each seed
is a small DNS message: ordinary queries (A, AAAA, ANY, with and without
EDNS, with client subnet) and the hostile shapes the parser must classify
(bad pointers, oversized labels and names, broken EDNS). Files written here
are overwritten; other files in the folder (crashes found by the fuzzer and
kept as regressions) are left alone.

Usage: tests/fuzz/gen_dns_wire_corpus.py [OUTDIR]
"""
import os
import struct
import sys

QR = 0x8000
RD = 0x0100


def header(flags=RD, qd=1, an=0, ns=0, ar=0, ident=0x1234):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def name(text):
    """Wire form of a dotted name (no escapes needed here)."""
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            raw = label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def question(qname="example.com", qtype=1, qclass=1):
    return name(qname) + struct.pack(">HH", qtype, qclass)


def opt(size=4096, version=0, do=False, ext_rcode=0, options=b"", owner=b"\x00"):
    ttl = ext_rcode << 24 | version << 16 | (0x8000 if do else 0)
    return owner + struct.pack(">HHIH", 41, size, ttl, len(options)) + options


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def ecs(family, source, scope, addr):
    return option(8, struct.pack(">HBB", family, source, scope) + addr)


def rr(owner, rtype, rclass, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def query(qname="example.com", qtype=1, edns=None, flags=RD, **hdr):
    ar = 1 if edns is not None else 0
    body = question(qname, qtype)
    if edns is not None:
        body += edns
    return header(flags=flags, ar=hdr.pop("ar", ar), **hdr) + body


def seeds():
    s = {}
    # Ordinary queries.
    s["a"] = query("www.example.com", 1)
    s["aaaa"] = query("www.example.com", 28)
    s["any"] = query("example.com", 255)
    s["mixed_case"] = query("BoT-17.EvIl.Example", 1)
    s["root_ns"] = query(".", 2)
    s["soa"] = query("evil.example", 6)
    s["txt_long_label"] = query("x" * 63 + ".example", 16)
    s["edns"] = query("www.example.com", 1, opt(1232))
    s["edns_do"] = query("www.example.com", 28, opt(4096, do=True))
    s["edns_small"] = query("www.example.com", 1, opt(100))
    s["ecs_v4"] = query("www.example.com", 1, opt(options=ecs(1, 24, 0, bytes([203, 0, 113]))))
    s["ecs_v4_0"] = query("www.example.com", 1, opt(options=ecs(1, 0, 0, b"")))
    s["ecs_v4_20"] = query("www.example.com", 1, opt(options=ecs(1, 20, 0, bytes([10, 1, 0xF0]))))
    s["ecs_v6"] = query(
        "www.example.com", 28, opt(options=ecs(2, 56, 0, bytes.fromhex("20010db8abcdef")))
    )
    s["ecs_cookie"] = query(
        "www.example.com",
        1,
        opt(options=option(10, bytes(range(8))) + ecs(1, 24, 0, bytes([198, 51, 100]))),
    )
    s["tsig_like"] = header(ar=1) + question() + rr(name("key"), 250, 255, 0, b"\x01\x02\x03\x04")
    s["opt_and_tsig"] = (
        header(ar=2) + question() + opt() + rr(name("key"), 250, 255, 0, b"\x00" * 6)
    )
    s["trailing_garbage"] = query("example.com", 1) + b"garbage!"
    # A compressed OPT owner pointing at the question's root label.
    s["opt_owner_ptr_root"] = header(ar=1) + question() + opt(owner=b"\xc0\x18")
    s["longest_name"] = query(".".join(["a"] * 127), 1)
    s["big_labels_255"] = query(".".join(["q" * 63] * 3 + ["z" * 61]), 1)

    # Header-level classification.
    s["short_header"] = header()[:11]
    s["empty"] = b""
    s["qr_set"] = query(flags=QR | RD)
    s["qdcount0"] = header(qd=0) + question()
    s["qdcount2"] = header(qd=2) + question() + question("b.example")
    s["ancount1"] = header(an=1) + question() + rr(b"\xc0\x0c", 1, 1, 60, bytes(4))
    s["nscount1"] = header(ns=1) + question() + rr(b"\xc0\x0c", 2, 1, 60, b"\xc0\x0c")
    s["opcode5"] = query(flags=5 << 11)
    s["opcode2_bad_q"] = header(flags=2 << 11) + b"\x40\x00\x00\x01\x00\x01"

    # Hostile names.
    s["truncated_qname"] = header() + question()[:6]
    s["truncated_qtype"] = header() + question()[:-2]
    s["label64"] = header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01"
    s["label_0x80"] = header() + b"\x80\x00\x00\x01\x00\x01"
    s["name256"] = query(".".join(["q" * 63] * 3 + ["z" * 62]), 1)
    s["name_128_labels"] = query(".".join(["a"] * 128), 1)
    s["forward_ptr"] = header() + b"\xc0\x0e\x00\x00\x01\x00\x01"
    s["self_ptr"] = header() + b"\xc0\x0c\x00\x01\x00\x01"
    s["ptr_loop"] = header() + b"\x01a\xc0\x0c\x00\x01\x00\x01"
    s["ptr_past_end"] = header() + b"\xc3\xff\x00\x01\x00\x01"
    s["ptr_cut"] = header() + b"\x01a\xc0"
    # Additional-section owner with a two-step loop: 29 -> 25 (the qtype
    # bytes, which read as a pointer) -> 29.
    s["rr_ptr_loop"] = header(ar=1) + question(qtype=0xC01D) + b"\xc0\x19" + bytes(10)
    s["rr_ptr_chain"] = (
        header(ar=2)
        + question()
        + rr(b"\x03key\xc0\x0c", 250, 255, 0, b"")
        + rr(b"\x01x\xc0\x1d", 99, 1, 0, b"\x00")
    )

    # Broken EDNS.
    s["two_opts"] = header(ar=2) + question() + opt() + opt()
    s["opt_not_root"] = header(ar=1) + question() + opt(owner=b"\xc0\x0c")
    s["opt_version1"] = query(edns=opt(version=1))
    s["opt_version1_do_ext"] = query(edns=opt(version=1, do=True, ext_rcode=7))
    s["opt_version1_then_bad_rr"] = header(ar=2) + question() + opt(version=1) + b"\x01a"
    s["opt_rdata_past_end"] = (
        header(ar=1) + question() + b"\x00\x00\x29\x10\x00" + bytes(4) + b"\x00\x10\x00\x0a"
    )
    s["opt_partial_option"] = query(edns=opt(options=b"\x00\x0a"))
    s["opt_option_too_long"] = query(edns=opt(options=b"\x00\x0a\x00\x08\x01\x02"))
    s["ecs_bad_family"] = query(edns=opt(options=ecs(3, 24, 0, bytes(3))))
    s["ecs_v4_prefix33"] = query(edns=opt(options=ecs(1, 33, 0, bytes(5))))
    s["ecs_v6_prefix129"] = query(edns=opt(options=ecs(2, 129, 0, bytes(17))))
    s["ecs_addr_too_long"] = query(edns=opt(options=ecs(1, 24, 0, bytes(4))))
    s["ecs_addr_too_short"] = query(edns=opt(options=ecs(1, 24, 0, bytes(2))))
    s["ecs_bits_past_prefix"] = query(edns=opt(options=ecs(1, 20, 0, bytes([10, 1, 0xF8]))))
    s["ecs_3_bytes"] = query(edns=opt(options=option(8, b"\x00\x01\x18")))
    s["arcount2_one_rr"] = header(ar=2) + question() + opt()
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "dns_wire.in")
    os.makedirs(out, exist_ok=True)
    s = seeds()
    for key in sorted(s):
        with open(os.path.join(out, key + ".bin"), "wb") as f:
            f.write(s[key])
    print("wrote %d seeds to %s" % (len(s), out))


if __name__ == "__main__":
    main()
