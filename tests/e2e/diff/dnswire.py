"""DNS messages for the differential test: build queries, parse replies.

Python standard library only. The builder writes exactly what it is told
(including malformed packets from a recipe), and the parser turns a reply
into a comparable summary: rcode, header flags, question, answer and
authority as sets of presentation-format records, and the OPT record.
"""

import struct

TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15,
    "TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35, "DS": 43, "RRSIG": 46,
    "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "TLSA": 52, "SVCB": 64, "HTTPS": 65,
    "OPT": 41, "CAA": 257, "IXFR": 251, "AXFR": 252, "MAILB": 253,
    "MAILA": 254, "ANY": 255,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
CLASS_NAMES = {v: k for k, v in CLASSES.items()}
RCODES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
    5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
    10: "NOTZONE", 16: "BADVERS", 23: "BADCOOKIE",
}
OPCODES = {"QUERY": 0, "IQUERY": 1, "STATUS": 2, "NOTIFY": 4, "UPDATE": 5,
           "DSO": 6}
OPCODE_NAMES = {v: k for k, v in OPCODES.items()}

# Header flag bits in the 16-bit word after the id.
FLAG_BITS = [("QR", 0x8000), ("AA", 0x0400), ("TC", 0x0200), ("RD", 0x0100),
             ("RA", 0x0080), ("Z", 0x0040), ("AD", 0x0020), ("CD", 0x0010)]
FLAG_VALUES = dict(FLAG_BITS)


def type_code(text):
    text = text.upper()
    if text in TYPES:
        return TYPES[text]
    if text.startswith("TYPE"):
        return int(text[4:])
    raise ValueError("unknown type %r" % text)


def type_text(code):
    return TYPE_NAMES.get(code, "TYPE%d" % code)


def class_code(text):
    text = text.upper()
    if text in CLASSES:
        return CLASSES[text]
    if text.startswith("CLASS"):
        return int(text[5:])
    raise ValueError("unknown class %r" % text)


def class_text(code):
    return CLASS_NAMES.get(code, "CLASS%d" % code)


def rcode_text(code):
    return RCODES.get(code, "RCODE%d" % code)


def encode_name(text):
    """Presentation name -> wire bytes, uncompressed; '.' is the root.

    Backslash escapes are understood: \\. for a dot inside a label and
    \\DDD for any byte. Lengths are not checked, so a recipe can build
    labels over 63 bytes and names over 255 on purpose."""
    if text in (".", ""):
        return b"\x00"
    labels, cur, i = [], bytearray(), 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                cur.append(int(text[i + 1:i + 4]))
                i += 4
                continue
            cur += text[i + 1].encode("latin-1")
            i += 2
            continue
        if ch == ".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += ch.encode("latin-1")
        i += 1
    if cur:
        labels.append(bytes(cur))
    out = bytearray()
    for lab in labels:
        out.append(len(lab) & 0xFF)
        out += lab
    out.append(0)
    return bytes(out)


def label_text(lab):
    out = []
    for b in lab:
        c = chr(b)
        if c in ".\\":
            out.append("\\" + c)
        elif 0x21 <= b <= 0x7E:
            out.append(c)
        else:
            out.append("\\%03d" % b)
    return "".join(out)


class ParseError(Exception):
    pass


def decode_name(buf, pos):
    """Read a possibly compressed name at buf[pos]; returns (text, end).

    Pointers are followed with a hop limit, so a reply cannot loop us."""
    labels, end, hops, total = [], None, 0, 0
    while True:
        if pos >= len(buf):
            raise ParseError("name runs past the end")
        n = buf[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(buf):
                raise ParseError("truncated pointer")
            if end is None:
                end = pos + 2
            hops += 1
            if hops > 64:
                raise ParseError("pointer loop")
            pos = ((n & 0x3F) << 8) | buf[pos + 1]
            continue
        if n & 0xC0:
            raise ParseError("reserved label type")
        if n == 0:
            if end is None:
                end = pos + 1
            break
        if pos + 1 + n > len(buf):
            raise ParseError("label runs past the end")
        labels.append(buf[pos + 1:pos + 1 + n])
        total += n + 1
        if total > 255:
            raise ParseError("name over 255")
        pos += 1 + n
    text = ".".join(label_text(lab) for lab in labels) + "."
    return text, end


def _rdata_text(buf, rtype, start, rdlen):
    """Presentation rdata; names in it are lower-cased (their case is only
    an artefact of compression against the question)."""
    end = start + rdlen
    rd = buf[start:end]
    try:
        if rtype == 1 and rdlen == 4:
            return ".".join(str(b) for b in rd)
        if rtype == 28 and rdlen == 16:
            import ipaddress
            return str(ipaddress.IPv6Address(rd))
        if rtype in (2, 5, 12):
            name, p = decode_name(buf, start)
            if p == end:
                return name.lower()
        if rtype == 6:
            mname, p = decode_name(buf, start)
            rname, p = decode_name(buf, p)
            if p + 20 == end:
                nums = struct.unpack("!5I", buf[p:p + 20])
                return "%s %s %s" % (mname.lower(), rname.lower(),
                                     " ".join(str(n) for n in nums))
        if rtype == 15:
            pref = struct.unpack("!H", rd[:2])[0]
            name, p = decode_name(buf, start + 2)
            if p == end:
                return "%d %s" % (pref, name.lower())
        if rtype == 16:
            parts, p = [], 0
            while p < len(rd):
                n = rd[p]
                parts.append('"%s"' % label_text(rd[p + 1:p + 1 + n]))
                p += 1 + n
            if p == len(rd):
                return " ".join(parts)
    except (ParseError, IndexError, struct.error):
        pass
    return "\\# %d %s" % (rdlen, rd.hex())


class Reply:
    """A parsed reply, reduced to what the differential test compares."""

    def __init__(self, raw):
        self.raw = raw
        self.error = None
        self.id = None
        self.opcode = None
        self.rcode = None
        self.flags = ()
        self.counts = (0, 0, 0, 0)
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.edns = None
        self.trailing = 0
        try:
            self._parse(raw)
        except (ParseError, IndexError, struct.error) as e:
            self.error = "unparseable reply (%s): %s" % (e, raw.hex())

    def _parse(self, buf):
        if len(buf) < 12:
            raise ParseError("reply shorter than a header")
        self.id, fl, qd, an, ns, ar = struct.unpack("!6H", buf[:12])
        self.counts = (qd, an, ns, ar)
        self.opcode = (fl >> 11) & 0xF
        self.flags = tuple(name for name, bit in FLAG_BITS if fl & bit)
        rcode = fl & 0xF
        pos = 12
        for _ in range(qd):
            name, pos = decode_name(buf, pos)
            qt, qc = struct.unpack("!HH", buf[pos:pos + 4])
            pos += 4
            self.question.append("%s %s %s" % (name, class_text(qc), type_text(qt)))
        for count, section in ((an, self.answer), (ns, self.authority),
                               (ar, self.additional)):
            for _ in range(count):
                name, pos = decode_name(buf, pos)
                rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", buf[pos:pos + 10])
                pos += 10
                if pos + rdlen > len(buf):
                    raise ParseError("rdata runs past the end")
                if rtype == 41:
                    self._opt(buf, name, rclass, ttl, pos, rdlen)
                    rcode |= ((ttl >> 24) & 0xFF) << 4
                else:
                    section.append("%s %d %s %s %s" % (
                        name, ttl, class_text(rclass), type_text(rtype),
                        _rdata_text(buf, rtype, pos, rdlen)))
                pos += rdlen
        self.rcode = rcode
        self.trailing = len(buf) - pos

    def _opt(self, buf, owner, size, ttl, pos, rdlen):
        opts, p, end = [], pos, pos + rdlen
        while p + 4 <= end:
            code, olen = struct.unpack("!HH", buf[p:p + 4])
            opts.append("%d:%s" % (code, buf[p + 4:p + 4 + olen].hex()))
            p += 4 + olen
        do = "do" if ttl & 0x8000 else "nodo"
        text = "v%d udp=%d %s" % ((ttl >> 16) & 0xFF, size, do)
        if owner != ".":
            text += " owner=%s" % owner
        if ttl & 0x7FFF:
            text += " z=0x%x" % (ttl & 0x7FFF)
        if opts:
            text += " opts=" + ",".join(opts)
        if self.edns is not None:
            text = self.edns + " +OPT " + text
        self.edns = text


def build_header(qid, flags=0x0100, opcode=0, qd=1, an=0, ns=0, ar=0, rcode=0):
    word = (flags & 0x87F0) | ((opcode & 0xF) << 11) | (rcode & 0xF)
    return struct.pack("!6H", qid, word, qd, an, ns, ar)


def build_opt(size=1232, version=0, do=False, options=(), ext_rcode=0, owner=b"\x00",
              z=0):
    rdata = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in options)
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0) | z
    return owner + struct.pack("!HHIH", 41, size, ttl, len(rdata)) + rdata


def build_question(name, qtype, qclass=1):
    wire = name if isinstance(name, bytes) else encode_name(name)
    return wire + struct.pack("!HH", qtype, qclass)


def build_query(qid, name, qtype, qclass=1, flags=0x0100, opt=None):
    """A well-formed query: one question, an OPT record if opt is given
    (a dict of build_opt() arguments)."""
    ar = 1 if opt is not None else 0
    msg = build_header(qid, flags=flags, ar=ar) + build_question(name, qtype, qclass)
    if opt is not None:
        msg += build_opt(**opt)
    return msg
