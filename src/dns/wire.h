/* dns/wire.h -- decode and encode DNS messages on the wire.
 *
 * Pure functions over caller-owned buffers: no allocation, no I/O, no
 * global state. Every read is bounds-checked against len; compression
 * pointers may only point backwards, so a loop cannot be followed. The
 * builder (struct dns_wbuf) writes into a caller buffer and remembers
 * when something did not fit, so a responder can set TC instead. */
#ifndef SK_DNS_WIRE_H
#define SK_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

#define DNS_HDR_LEN 12

/* Header flag bits (the 16-bit word after the id). */
#define DNS_QR            0x8000
#define DNS_AA            0x0400
#define DNS_TC            0x0200
#define DNS_RD            0x0100
#define DNS_RA            0x0080
#define DNS_AD            0x0020
#define DNS_CD            0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags)  ((flags)&0xf)

enum dns_opcode {
    DNS_OP_QUERY = 0,
    DNS_OP_IQUERY = 1,
    DNS_OP_STATUS = 2,
    DNS_OP_NOTIFY = 4,
    DNS_OP_UPDATE = 5
};

enum dns_rcode {
    DNS_RC_NOERROR = 0,
    DNS_RC_FORMERR = 1,
    DNS_RC_SERVFAIL = 2,
    DNS_RC_NXDOMAIN = 3,
    DNS_RC_NOTIMP = 4,
    DNS_RC_REFUSED = 5,
    DNS_RC_BADVERS = 16, /* extended: low 4 bits in header, rest in OPT */
};

enum dns_type {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_PTR = 12,
    DNS_T_MX = 15,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
    DNS_T_OPT = 41,
    DNS_T_DS = 43,
    DNS_T_RRSIG = 46,
    DNS_T_DNSKEY = 48,
    DNS_T_IXFR = 251,
    DNS_T_AXFR = 252,
    DNS_T_ANY = 255,
};

enum dns_class { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };

#define DNS_EDNS_OPT_ECS 8 /* RFC 7871 client subnet */

struct dns_hdr {
    uint16_t id;
    uint16_t flags;
    uint16_t qdcount, ancount, nscount, arcount;
};

/* Outcome of dns_parse_query(), as a value, not an error. */
enum dns_parse_status {
    DNS_PARSE_OK = 0,  /* header, one question, optional OPT: answerable */
    DNS_PARSE_FORMERR, /* header usable; answer FORMERR (question echoed if has_question) */
    DNS_PARSE_NOTIMP,  /* opcode other than QUERY; answer NOTIMP */
    DNS_PARSE_BADVERS, /* EDNS version > 0; answer BADVERS with an OPT */
    DNS_PARSE_DROP,    /* no answer at all: short header, QR set, no question */
};

/* A parsed query. qname is the question name exactly as sent (case kept,
 * decompressed). */
struct dns_query {
    struct dns_hdr hdr;
    bool has_question;
    uint8_t qname[DNS_NAME_MAX];
    uint8_t qname_len;
    uint16_t qtype, qclass;
    size_t question_end; /* offset just past the question */

    bool has_edns;
    uint16_t edns_udp_size; /* as sent; values below 512 are to be read as 512 */
    uint8_t edns_version;
    bool edns_do;

    bool has_ecs;        /* EDNS Client Subnet option present and well formed */
    uint16_t ecs_family; /* 1 = IPv4, 2 = IPv6 */
    uint8_t ecs_source_prefix, ecs_scope_prefix;
    uint8_t ecs_addr[16]; /* zero-filled past the source prefix */
};

/* Read the 12-byte header. Returns 0 or SK_EPROTO if len < 12. */
int dns_parse_header(const uint8_t *buf, size_t len, struct dns_hdr *h /* OUT */);

/* Decode the possibly compressed name starting at buf[*pos]. On success the
 * uncompressed wire name (case kept) is in out[0..*out_len) and *pos is just
 * past the name where it appears (not where pointers led). Returns 0 or
 * SK_EPROTO: truncated, label over 63, name over 255, a pointer that does not
 * point strictly before the name it is part of (which rules out loops), or a
 * reserved label type (0x40, 0x80). */
int dns_name_decode(const uint8_t *buf, size_t len, size_t *pos, uint8_t out[DNS_NAME_MAX],
                    size_t *out_len /* OUT */);

/* Skip over one resource record at buf[*pos] (name, fixed part, rdata). */
int dns_skip_rr(const uint8_t *buf, size_t len, size_t *pos);

/* Parse a query in buf[0..len) into *q and classify it (see enum
 * dns_parse_status). Rules: len < 12, QR set or qdcount 0 -> DROP; opcode
 * other than QUERY -> NOTIMP; qdcount > 1, an unreadable question, ancount
 * or nscount non-zero, a malformed additional section, more than one OPT,
 * an OPT not owned by the root -> FORMERR; an OPT with version > 0 ->
 * BADVERS. Bytes after the last counted record are ignored. A malformed
 * ECS option is FORMERR (RFC 7871 7.1.2). Fields of *q are valid as far as
 * parsing got (has_question, has_edns tell). */
enum dns_parse_status dns_parse_query(const uint8_t *buf, size_t len,
                                      struct dns_query *q /* OUT */);

/* ---- building ---- */

#define DNS_WBUF_COMPRESS_MAX 16

/* A message being built into buf[0..cap). When a write does not fit,
 * nothing of it is written and overflow is set; len stays at the last
 * complete write, so the caller can roll back to a mark and set TC. */
struct dns_wbuf {
    uint8_t *buf;
    size_t len, cap;
    bool overflow;
    /* Offsets of names already written (uncompressed labels), used as
     * compression targets by dns_wbuf_name(). */
    uint16_t names[DNS_WBUF_COMPRESS_MAX];
    int nnames;
};

void dns_wbuf_init(struct dns_wbuf *w, uint8_t *buf, size_t cap);
int dns_wbuf_u8(struct dns_wbuf *w, uint8_t v);
int dns_wbuf_u16(struct dns_wbuf *w, uint16_t v);
int dns_wbuf_u32(struct dns_wbuf *w, uint32_t v);
int dns_wbuf_bytes(struct dns_wbuf *w, const void *p, size_t n);
/* Write the wire name, compressed against names written before through
 * this function (longest matching suffix, compared case-insensitively),
 * and remember it as a future target. */
int dns_wbuf_name(struct dns_wbuf *w, const uint8_t *name, size_t len);
/* Write a name uncompressed and remember it as a target (use for the
 * question, whose case must be echoed exactly). */
int dns_wbuf_name_raw(struct dns_wbuf *w, const uint8_t *name, size_t len);
/* Put a 16-bit value at an offset already written (e.g. RDLENGTH, counts). */
void dns_wbuf_patch_u16(struct dns_wbuf *w, size_t off, uint16_t v);
/* Forget everything after len (rollback to a mark); targets past it too. */
void dns_wbuf_truncate(struct dns_wbuf *w, size_t len);

void dns_write_header(uint8_t out[DNS_HDR_LEN], const struct dns_hdr *h);

#endif
