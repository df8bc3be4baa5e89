"""Read matrix.txt and expand it into cases (see the comments in matrix.txt).

A case is one or more query packets sent over one transport; its id names
the matrix cell, e.g. "core/below-1/AAAA/IN/udp/do/lower/rd" or
"raw/qd2/tcp". Exceptions select cases by glob patterns over these ids.
"""

import fnmatch
import ipaddress
import re
import struct

import dnswire


class MatrixError(Exception):
    pass


class Case:
    def __init__(self, cid, transport, packets, qname=None):
        self.id = cid
        self.transport = transport
        self.packets = packets  # list of bytes; several for a TCP pipeline
        self.qname = qname      # the question name as sent (text), if any


def _sections(path):
    """Yield (section, [(lineno, key, value)]) with continuation lines
    (indented) joined to the previous value; [raw] lines have no key."""
    out, cur, items = [], None, []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            # '#' starts a comment at the start of a line or after a space.
            if line.lstrip().startswith("#") or not line.strip():
                continue
            stripped = re.sub(r"\s+#.*$", "", line.rstrip("\n")).rstrip()
            if stripped.startswith("["):
                if cur is not None:
                    out.append((cur, items))
                cur, items = stripped.strip("[]").strip(), []
                continue
            if cur is None:
                raise MatrixError("%s:%d: text before the first section" % (path, lineno))
            if line[0] in " \t" and items:
                ln, k, v = items[-1]
                items[-1] = (ln, k, (v + " " + stripped.strip()).strip())
                continue
            if cur in ("raw",):
                items.append((lineno, None, stripped.strip()))
                continue
            if "=" not in stripped:
                raise MatrixError("%s:%d: expected KEY = VALUE" % (path, lineno))
            k, v = stripped.split("=", 1)
            items.append((lineno, k.strip(), v.strip()))
    if cur is not None:
        out.append((cur, items))
    return out


def expand_addresses(tokens, family):
    out = []
    for tok in tokens:
        m = re.match(r"^(.*?)(\d+)-(\d+)$", tok)
        if m and family == 4:
            pre, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
            out += ["%s%d" % (pre, i) for i in range(lo, hi + 1)]
        elif m and family == 6:
            pre, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
            out += [str(ipaddress.IPv6Address("%s%x" % (pre, i))) for i in range(lo, hi + 1)]
        else:
            addr = ipaddress.ip_address(tok)
            if addr.version != family:
                raise MatrixError("address %s is not IPv%d" % (tok, family))
            out.append(str(addr))
    return out


def apply_case(name, how):
    if how == "lower":
        return name
    if how == "upper":
        return name.upper()
    if how == "mixed":
        out, i, k = [], 0, 0
        while i < len(name):
            ch = name[i]
            if ch == "\\":  # keep escapes as they are
                j = i + 4 if name[i + 1:i + 4].isdigit() else i + 2
                out.append(name[i:j])
                i = j
                continue
            if ch.isalpha():
                out.append(ch.upper() if k % 2 == 0 else ch.lower())
                k += 1
            else:
                out.append(ch)
            i += 1
        return "".join(out)
    raise MatrixError("unknown case variant %r" % how)


def parse_opt(spec):
    """An [edns] spec or the arguments of a recipe "opt" item -> OPT bytes,
    or None for "-"."""
    toks = spec.split()
    if toks == ["-"]:
        return None
    size, ver, do, z, ext, owner = 1232, 0, False, 0, 0, b"\x00"
    options, rdata, rdlen = [], None, None
    for t in toks:
        if t == "do":
            do = True
        elif t.startswith("size="):
            size = int(t[5:])
        elif t.startswith("ver="):
            ver = int(t[4:])
        elif t.startswith("z="):
            z = int(t[2:], 16)
        elif t.startswith("ext="):
            ext = int(t[4:])
        elif t.startswith("owner="):
            owner = dnswire.encode_name(t[6:])
        elif t.startswith("opt="):
            code, _, data = t[4:].partition(":")
            options.append(struct.pack("!HH", int(code), len(data) // 2) + bytes.fromhex(data))
        elif t.startswith("rdata="):
            rdata = bytes.fromhex(t[6:])
        elif t.startswith("rdlen="):
            rdlen = int(t[6:])
        else:
            raise MatrixError("unknown OPT setting %r" % t)
    if rdata is None:
        rdata = b"".join(options)
    ttl = (ext << 24) | (ver << 16) | (0x8000 if do else 0) | z
    return owner + struct.pack("!HHIH", 41, size, ttl,
                               len(rdata) if rdlen is None else rdlen) + rdata


def parse_flags(spec):
    word = 0
    for t in spec.split():
        if t not in dnswire.FLAG_VALUES:
            raise MatrixError("unknown flag %r" % t)
        word |= dnswire.FLAG_VALUES[t]
    return word


def build_recipe(recipe, qid):
    """A [raw] recipe -> (packet bytes, question name text or None)."""
    items = [i.strip() for i in recipe.split(";")]
    hdr = None
    body, qd, ar, qname = [], 0, 0, None
    for item in items:
        toks = item.split()
        kind, args = toks[0], toks[1:]
        if kind == "hdr":
            hdr = {}
            for a in args:
                k, _, v = a.partition("=")
                hdr[k] = int(v, 0)
        elif kind == "q":
            cls = dnswire.class_code(args[2]) if len(args) > 2 else 1
            body.append(dnswire.build_question(args[0], dnswire.type_code(args[1]), cls))
            qname = qname or args[0]
            qd += 1
        elif kind == "qwire":
            cls = dnswire.class_code(args[2]) if len(args) > 2 else 1
            body.append(bytes.fromhex(args[0]) + struct.pack("!HH", dnswire.type_code(args[1]),
                                                             cls))
            qd += 1
        elif kind == "opt":
            body.append(parse_opt(" ".join(args)))
            ar += 1
        elif kind == "rr":
            name, rtype, rclass, ttl, data = args
            rd = bytes.fromhex(data)
            body.append(dnswire.encode_name(name) + struct.pack(
                "!HHIH", dnswire.type_code(rtype), dnswire.class_code(rclass), int(ttl),
                len(rd)) + rd)
        elif kind == "hex":
            body.append(bytes.fromhex("".join(args)))
        else:
            raise MatrixError("unknown recipe item %r" % kind)
    if hdr is None:
        return b"".join(body), qname
    word = hdr.get("flags", 0x0100)
    head = struct.pack("!6H", hdr.get("id", qid),
                       (word & 0x87F0) | ((hdr.get("opcode", 0) & 0xF) << 11)
                       | (hdr.get("rcode", 0) & 0xF),
                       hdr.get("qd", qd), hdr.get("an", 0), hdr.get("ns", 0), hdr.get("ar", ar))
    return head + b"".join(body), qname


class Matrix:
    BLOCK_KEYS = {"names", "types", "class", "transport", "edns", "case", "flags"}

    def __init__(self, path):
        self.path = path
        self.zone, self.defaults = {}, {}
        self.lists, self.names, self.edns, self.flags = [], {}, {}, {}
        self.blocks, self.raw, self.pipelines = [], [], []
        for section, items in _sections(path):
            kv = {k: v for _, k, v in items}
            if section == "zone":
                self.zone = dict(kv)
                for k in ("ttl", "soa_serial", "soa_refresh", "soa_retry", "soa_expire",
                          "soa_minimum"):
                    self.zone[k] = int(self.zone[k])
                self.zone["ns"] = self.zone["ns"].split()
            elif section == "defaults":
                self.defaults = {"a": expand_addresses(kv.get("answer_a", "").split(), 4),
                                 "aaaa": expand_addresses(kv.get("answer_aaaa", "").split(), 6)}
            elif section.startswith("list "):
                own = "answer_a" in kv or "answer_aaaa" in kv
                self.lists.append({
                    "name": section[5:].strip(),
                    "names": kv["names"].split(),
                    "own_answers": own,
                    "answers": {"a": expand_addresses(kv.get("answer_a", "").split(), 4),
                                "aaaa": expand_addresses(kv.get("answer_aaaa", "").split(), 6)},
                })
            elif section == "names":
                self.names = dict(kv)
            elif section == "edns":
                self.edns = dict(kv)
            elif section == "flags":
                self.flags = dict(kv)
            elif section.startswith("block "):
                for k in kv:
                    if k not in self.BLOCK_KEYS:
                        raise MatrixError("[%s]: unknown key %r" % (section, k))
                self.blocks.append((section[6:].strip(), kv))
            elif section == "raw":
                for lineno, _, v in items:
                    toks = v.split()
                    tag = toks[0]
                    transports = []
                    i = 1
                    while i < len(toks) and toks[i] in ("udp", "tcp"):
                        transports.append(toks[i])
                        i += 1
                    self.raw.append((tag, transports, " ".join(toks[i:])))
            elif section == "pipeline":
                self.pipelines = list(kv.items())
            else:
                raise MatrixError("unknown section [%s]" % section)
        for lst in self.lists:
            if not lst["own_answers"]:
                lst["answers"] = self.defaults

    def _names(self, spec):
        out = []
        for tok in spec.split():
            if tok in self.names:
                out.append(tok)
            elif "." in tok:
                out.append(tok)  # a literal name
            else:
                hits = [t for t in self.names if fnmatch.fnmatchcase(t, tok)]
                if not hits:
                    raise MatrixError("names: %r matches no tag" % tok)
                out += [h for h in hits if h not in out]
        return out

    def qname_of(self, tag):
        return self.names.get(tag, tag)

    def cases(self):
        out, qid = [], 0x1000

        def next_id():
            nonlocal qid
            qid = (qid * 1103 + 12345) & 0xFFFF or 1
            return qid

        for name, kv in self.blocks:
            tags = self._names(kv.get("names", "*"))
            for tag in tags:
                for qtype in kv.get("types", "A").split():
                    for qclass in kv.get("class", "IN").split():
                        for tr in kv.get("transport", "udp").split():
                            for ed in kv.get("edns", "none").split():
                                for cs in kv.get("case", "lower").split():
                                    for fl in kv.get("flags", "rd").split():
                                        qn = apply_case(self.qname_of(tag), cs)
                                        pkt = self._query(next_id(), qn, qtype, qclass, ed, fl)
                                        cid = "/".join((name, tag, qtype, qclass, tr, ed, cs, fl))
                                        out.append(Case(cid, tr, [pkt], qn))
        for tag, transports, recipe in self.raw:
            for tr in transports:
                pkt, qn = build_recipe(recipe, next_id())
                out.append(Case("raw/%s/%s" % (tag, tr), tr, [pkt], qn))
        recipes = {tag: recipe for tag, _, recipe in self.raw}
        for tag, spec in self.pipelines:
            pkts = []
            for item in spec.split(";"):
                if item.strip().startswith("raw:"):
                    rtag = item.strip()[4:]
                    if rtag not in recipes:
                        raise MatrixError("pipeline %s: no [raw] case %r" % (tag, rtag))
                    pkts.append(build_recipe(recipes[rtag], next_id())[0])
                    continue
                ntag, qtype, ed, cs = item.split()
                qn = apply_case(self.qname_of(ntag), cs)
                pkts.append(self._query(next_id(), qn, qtype, "IN", ed, "rd"))
            out.append(Case("pipeline/%s/tcp" % tag, "tcp", pkts))
        ids = [c.id for c in out]
        if len(set(ids)) != len(ids):
            raise MatrixError("duplicate case ids")
        return out

    def _query(self, qid, qname, qtype, qclass, edns_tag, flags_tag):
        if edns_tag not in self.edns:
            raise MatrixError("unknown edns tag %r" % edns_tag)
        if flags_tag not in self.flags:
            raise MatrixError("unknown flags tag %r" % flags_tag)
        opt = parse_opt(self.edns[edns_tag])
        head = dnswire.build_header(qid, flags=parse_flags(self.flags[flags_tag]),
                                    ar=1 if opt else 0)
        q = dnswire.build_question(qname, dnswire.type_code(qtype), dnswire.class_code(qclass))
        return head + q + (opt or b"")
