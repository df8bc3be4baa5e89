#!/usr/bin/env python3
"""bench/dns/mkdata.py -- deterministic data for the DNS benchmark.

Writes into OUTDIR:
  names.txt       N seized names, DGA-like (random letters under common TLDs)
  queries.txt     the query file (dnsperf format, "name TYPE"): exact seized
                  names, random subdomains of seized names, and a share of
                  names that are not seized; mostly A and AAAA
  zone.template   the zone every peer serves for each seized name, with
                  relative owners so one file serves every zone: SOA, NS,
                  A and AAAA at the apex and a wildcard below it
  nsd-zones.conf  one NSD `zone:` entry per name
  knot-zones.conf one Knot `zone:` list item per name

The same seed always gives the same files.
usage: mkdata.py OUTDIR [--names N] [--queries Q] [--seed S]
"""
import argparse
import os
import random
import string

TLDS = ["com", "net", "org", "info", "biz", "ru", "cn", "top", "xyz", "su", "cc", "in"]
LETTERS = string.ascii_lowercase
ALNUM = string.ascii_lowercase + string.digits

# qtype mix: mostly A and AAAA, as bots ask for addresses.
QTYPES = [("A", 60), ("AAAA", 30), ("MX", 3), ("TXT", 3), ("NS", 1), ("SOA", 1),
          ("CNAME", 1), ("SRV", 1)]


def dga_name(rng):
    label = "".join(rng.choice(LETTERS) for _ in range(rng.randint(10, 18)))
    return label + "." + rng.choice(TLDS)


def sub_label(rng):
    return "".join(rng.choice(ALNUM) for _ in range(rng.randint(3, 12)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--names", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=500000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--not-seized", type=float, default=0.10,
                    help="share of queries for names outside every list")
    ap.add_argument("--names-only", action="store_true",
                    help="write names.txt only (for the memory benchmark)")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)

    rng = random.Random(a.seed)
    seen = set()
    names = []
    while len(names) < a.names:
        n = dga_name(rng)
        if n not in seen:
            seen.add(n)
            names.append(n)

    with open(os.path.join(a.outdir, "names.txt"), "w") as f:
        f.write("# seized names for the DNS benchmark (seed %d)\n" % a.seed)
        f.write("\n".join(names))
        f.write("\n")
    if a.names_only:
        return

    # Names that are not seized: same shape, other seed, and neither equal
    # to a seized name nor below one (DGA names have two labels, so a check
    # of the whole name is enough).
    orng = random.Random(a.seed + 1)
    others = []
    while len(others) < 10000:
        n = dga_name(orng)
        if n not in seen:
            others.append(n)

    types = [t for t, w in QTYPES for _ in range(w)]
    qrng = random.Random(a.seed + 2)
    with open(os.path.join(a.outdir, "queries.txt"), "w") as f:
        for _ in range(a.queries):
            r = qrng.random()
            if r < a.not_seized:
                name = qrng.choice(others)
            elif r < a.not_seized + (1 - a.not_seized) * 0.6:
                name = qrng.choice(names)
            else:
                base = qrng.choice(names)
                depth = 1 if qrng.random() < 0.8 else 2
                name = ".".join(sub_label(qrng) for _ in range(depth)) + "." + base
            f.write("%s %s\n" % (name, qrng.choice(types)))

    with open(os.path.join(a.outdir, "zone.template"), "w") as f:
        f.write(
            "; one seized name as its own zone; owners are relative to the zone\n"
            "$TTL 300\n"
            "@ IN SOA ns1.sinkhole.example. abuse.sinkhole.example. 1 3600 900 604800 60\n"
            "@ IN NS ns1.sinkhole.example.\n"
            "@ IN NS ns2.sinkhole.example.\n"
            "@ IN A 192.0.2.10\n"
            "@ IN AAAA 2001:db8::10\n"
            "* IN A 192.0.2.10\n"
            "* IN AAAA 2001:db8::10\n")

    with open(os.path.join(a.outdir, "nsd-zones.conf"), "w") as f:
        for n in names:
            f.write("zone:\n\tname: %s\n\tinclude-pattern: seized\n" % n)

    with open(os.path.join(a.outdir, "knot-zones.conf"), "w") as f:
        f.write("zone:\n")
        for n in names:
            f.write("  - domain: %s\n" % n)


if __name__ == "__main__":
    main()
