/*
 * tcp_wire — IPv4 + TCP bytes <-> a checked tcp_seg (contract in tcp_wire.h).
 *
 * tcp_wire_parse runs its checks in a fixed order and stops at the first
 * failure, so every rejected datagram has exactly one reason:
 *   1. at least a minimal IPv4 header            TRUNCATED
 *   2. version 4, IHL >= 5                        NOT_IPV4
 *   3. IHL and total length within the buffer     TRUNCATED
 *   4. IPv4 header checksum                       IP_CHECKSUM
 *   5. not a fragment (MF clear, offset 0)        FRAGMENT
 *   6. protocol 6                                 NOT_TCP
 *   7. at least a minimal TCP header              TRUNCATED
 *   8. 5 <= data offset, header within segment    BAD_OFFSET
 *   9. TCP checksum over the pseudo-header        TCP_CHECKSUM
 *  10. every option well formed                   BAD_OPTION
 * The TCP checksum is verified before the options are read, so a bit
 * flipped on the wire inside the options reads as a checksum failure; only
 * a sender that built bad options with a good checksum gets BAD_OPTION.
 * Bytes past the IPv4 total length (link-layer padding) are ignored.
 * On failure *seg holds whatever was read before the failing check.
 *
 * tcp_wire_encode lays options out on 4-byte boundaries in the order the
 * segment's layout names (tcp_opt_layout: RFC 7323 Appendix A style, Linux
 * tcp_options_write, FreeBSD tcp_addoptions). It sets DF and never
 * fragments.
 */
#include "tcp_wire.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define IP_PROTO_TCP 6u
#define IP_FLAG_DF   0x4000u
#define IP_FLAG_MF   0x2000u
#define IP_FRAG_OFF  0x1fffu
#define IP_TTL_DEF   64u
#define IP_LEN_MAX   0xffffu

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

const char *tcp_wire_err_name(tcp_wire_err e)
{
    switch (e) {
    case TCP_WIRE_OK:
        return "ok";
    case TCP_WIRE_TRUNCATED:
        return "truncated";
    case TCP_WIRE_NOT_IPV4:
        return "not IPv4";
    case TCP_WIRE_IP_CHECKSUM:
        return "bad IP checksum";
    case TCP_WIRE_FRAGMENT:
        return "fragment";
    case TCP_WIRE_NOT_TCP:
        return "not TCP";
    case TCP_WIRE_BAD_OFFSET:
        return "bad data offset";
    case TCP_WIRE_BAD_OPTION:
        return "bad option";
    case TCP_WIRE_TCP_CHECKSUM:
        return "bad TCP checksum";
    }
    return "unknown";
}

/* RFC 1071: 16-bit big-endian words summed in one's complement; an odd last
 * byte is the high half of a word padded with zero. The words are summed
 * eight bytes at a time in the host's byte order, as two 32-bit halves into
 * a 64-bit accumulator (which cannot overflow for any buffer that fits in
 * memory), and folded once at the end. RFC 1071 §2 (A) and (B): the one's
 * complement sum is the same whatever the word width and, computed in the
 * other byte order, is the right sum with its two bytes swapped. The value
 * is the same as the word-by-word sum's, 0 only for an all-zero input. */
static uint16_t fold16(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t tcp_wire_sum(const uint8_t *buf, size_t len, uint32_t initial)
{
    uint64_t native = 0;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, sizeof w);
        native += (w & 0xffffffffu) + (w >> 32);
    }
    for (; i + 2 <= len; i += 2) {
        uint16_t h;
        memcpy(&h, buf + i, sizeof h);
        native += h;
    }
    uint16_t data = fold16(native);
    const uint16_t probe = 1;
    uint8_t low_first;
    memcpy(&low_first, &probe, 1);
    if (low_first) /* a little-endian host: swap back to network order */
        data = (uint16_t)(data << 8 | data >> 8);
    uint64_t sum = (uint64_t)data + initial;
    if (len & 1u)
        sum += (uint32_t)buf[len - 1] << 8;
    return fold16(sum);
}

/* RFC 9293 §3.1: the pseudo-header is source address, destination address,
 * zero, protocol and TCP length (header plus data, not counting it). */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t tcp_len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + IP_PROTO_TCP +
           (uint32_t)tcp_len;
}

/* Checks 1-6. On success *hlen is the IPv4 header length and *total the
 * datagram length from the header. */
static tcp_wire_err parse_ipv4(const uint8_t *buf, size_t len, tcp_seg *seg, size_t *hlen,
                               size_t *total)
{
    uint16_t frag;

    if (len < TCP_IPV4_HDR)
        return TCP_WIRE_TRUNCATED;
    if ((buf[0] >> 4) != 4 || (buf[0] & 0x0fu) < 5)
        return TCP_WIRE_NOT_IPV4;
    *hlen = (size_t)(buf[0] & 0x0fu) * 4;
    *total = rd16(buf + 2);
    if (*hlen > len || *total > len || *total < *hlen)
        return TCP_WIRE_TRUNCATED;
    if (tcp_wire_sum(buf, *hlen, 0) != 0xffffu)
        return TCP_WIRE_IP_CHECKSUM;
    frag = rd16(buf + 6);
    if ((frag & IP_FLAG_MF) || (frag & IP_FRAG_OFF))
        return TCP_WIRE_FRAGMENT;
    if (buf[9] != IP_PROTO_TCP)
        return TCP_WIRE_NOT_TCP;
    seg->ip_id = rd16(buf + 4);
    seg->ttl = buf[8];
    seg->src_addr = rd32(buf + 12);
    seg->dst_addr = rd32(buf + 16);
    return TCP_WIRE_OK;
}

/* One option of kind `kind` and total length `olen` (>= 2, within the
 * header). Known kinds must have their fixed length; others are skipped, as
 * RFC 9293 §3.1 requires ("MUST ignore without error any TCP option it does
 * not implement, assuming that the option has a length field"). */
static tcp_wire_err parse_option(uint8_t kind, const uint8_t *o, size_t olen, tcp_seg *seg)
{
    switch (kind) {
    case TCP_KIND_MSS:
        if (olen != 4)
            return TCP_WIRE_BAD_OPTION;
        seg->has_mss = true;
        seg->mss = rd16(o + 2);
        break;
    case TCP_KIND_WSCALE:
        if (olen != 3)
            return TCP_WIRE_BAD_OPTION;
        seg->has_wscale = true;
        seg->wscale = o[2];
        break;
    case TCP_KIND_SACK_PERM:
        if (olen != 2)
            return TCP_WIRE_BAD_OPTION;
        seg->has_sack_perm = true;
        break;
    case TCP_KIND_SACK:
        /* RFC 2018 §3: 8n + 2 bytes. Any other length is ignored, not
         * refused: Linux tcp_parse_options reads the blocks only when
         * (opsize - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK == 0. */
        if (olen >= 10 && (olen - 2) % 8 == 0) {
            seg->nsack = (uint8_t)((olen - 2) / 8); /* olen <= 40: at most 4 */
            seg->sack = o + 2;
        }
        break;
    case TCP_KIND_TS:
        if (olen != 10)
            return TCP_WIRE_BAD_OPTION;
        seg->has_ts = true;
        seg->ts_val = rd32(o + 2);
        seg->ts_ecr = rd32(o + 6);
        break;
    default:
        break;
    }
    return TCP_WIRE_OK;
}

/* Check 10. RFC 9293 §3.1: an option is either a single kind octet (EOL,
 * NOP) or kind, length (counting both), data. EOL ends the list; what
 * follows it is padding. A length below 2 or past the header is malformed
 * (§3.1: "MUST be prepared to handle an illegal option length (e.g., zero)"). */
static tcp_wire_err parse_options(const uint8_t *o, size_t n, tcp_seg *seg)
{
    size_t i = 0;

    while (i < n) {
        uint8_t kind = o[i];
        size_t olen;
        tcp_wire_err e;

        if (kind == TCP_KIND_EOL)
            break;
        if (kind == TCP_KIND_NOP) {
            i++;
            continue;
        }
        if (n - i < 2)
            return TCP_WIRE_BAD_OPTION;
        olen = o[i + 1];
        if (olen < 2 || olen > n - i)
            return TCP_WIRE_BAD_OPTION;
        e = parse_option(kind, o + i, olen, seg);
        if (e != TCP_WIRE_OK)
            return e;
        i += olen;
    }
    return TCP_WIRE_OK;
}

/* Checks 7-10 on the TCP segment `t` of `tlen` bytes. */
static tcp_wire_err parse_tcp(const uint8_t *t, size_t tlen, tcp_seg *seg)
{
    size_t doff;

    if (tlen < TCP_HDR_MIN)
        return TCP_WIRE_TRUNCATED;
    doff = (size_t)(t[12] >> 4) * 4;
    if (doff < TCP_HDR_MIN || doff > tlen)
        return TCP_WIRE_BAD_OFFSET;
    if (tcp_wire_sum(t, tlen, pseudo_sum(seg->src_addr, seg->dst_addr, tlen)) != 0xffffu)
        return TCP_WIRE_TCP_CHECKSUM;
    seg->src_port = rd16(t);
    seg->dst_port = rd16(t + 2);
    seg->seq = rd32(t + 4);
    seg->ack = rd32(t + 8);
    seg->flags = t[13];
    seg->wnd = rd16(t + 14);
    seg->urg = rd16(t + 18);
    seg->payload = t + doff;
    seg->len = (uint32_t)(tlen - doff);
    return parse_options(t + TCP_HDR_MIN, doff - TCP_HDR_MIN, seg);
}

tcp_wire_err tcp_wire_parse(const uint8_t *buf, size_t len, tcp_seg *seg)
{
    size_t hlen = 0, total = 0;
    tcp_wire_err e;

    assert(buf != NULL || len == 0);
    memset(seg, 0, sizeof *seg);
    e = parse_ipv4(buf, len, seg, &hlen, &total);
    if (e != TCP_WIRE_OK)
        return e;
    e = parse_tcp(buf + hlen, total - hlen, seg);
    if (e != TCP_WIRE_OK) {
        seg->payload = NULL;
        seg->len = 0;
    }
    return e;
}

static size_t put_mss(const tcp_seg *seg, uint8_t *o)
{
    o[0] = TCP_KIND_MSS;
    o[1] = 4;
    wr16(o + 2, seg->mss);
    return 4;
}

static size_t put_ws(const tcp_seg *seg, uint8_t *o)
{
    o[0] = TCP_KIND_WSCALE;
    o[1] = 3;
    o[2] = seg->wscale;
    return 3;
}

static size_t put_sack_perm(uint8_t *o)
{
    o[0] = TCP_KIND_SACK_PERM;
    o[1] = 2;
    return 2;
}

static size_t put_ts(const tcp_seg *seg, uint8_t *o)
{
    o[0] = TCP_KIND_TS;
    o[1] = 10;
    wr32(o + 2, seg->ts_val);
    wr32(o + 6, seg->ts_ecr);
    return 10;
}

static size_t put_nops(uint8_t *o, size_t n)
{
    memset(o, TCP_KIND_NOP, n);
    return n;
}

/* SACK-permitted and TS as one 4-byte aligned block (the RFC and Linux
 * layouts): SACK-permitted,TS or NOP,NOP,TS or NOP,NOP,SACK-permitted. */
static size_t put_sack_ts(const tcp_seg *seg, uint8_t *o)
{
    size_t i = 0;
    if (seg->has_ts) {
        i += seg->has_sack_perm ? put_sack_perm(o) : put_nops(o, 2);
        return i + put_ts(seg, o + i);
    }
    if (seg->has_sack_perm) {
        i += put_nops(o, 2);
        i += put_sack_perm(o + i);
    }
    return i;
}

/* FreeBSD tcp_addoptions: each option after NOPs to its alignment (WS at
 * an odd offset, SACK-permitted at an even one, TS at 2 mod 4), then EOL
 * and zero padding to a 4-byte boundary. */
static size_t put_bsd(const tcp_seg *seg, uint8_t *o)
{
    size_t i = 0;
    if (seg->has_mss)
        i += put_mss(seg, o);
    if (seg->has_wscale) {
        while (i == 0 || i % 2 != 1)
            o[i++] = TCP_KIND_NOP;
        i += put_ws(seg, o + i);
    }
    if (seg->has_sack_perm) {
        while (i % 2)
            o[i++] = TCP_KIND_NOP;
        i += put_sack_perm(o + i);
    }
    if (seg->has_ts) {
        while (i == 0 || i % 4 != 2)
            o[i++] = TCP_KIND_NOP;
        i += put_ts(seg, o + i);
    }
    if (i % 4)
        o[i++] = TCP_KIND_EOL;
    while (i % 4)
        o[i++] = 0;
    return i;
}

void tcp_sack_put(uint8_t *dst, uint32_t left, uint32_t right)
{
    wr32(dst, left);
    wr32(dst + 4, right);
}

void tcp_seg_sack(const tcp_seg *seg, unsigned i, uint32_t *left, uint32_t *right)
{
    assert(i < seg->nsack);
    *left = rd32(seg->sack + 8u * i);
    *right = rd32(seg->sack + 8u * i + 4u);
}

/* The SACK blocks after the other options (4-aligned at i), as NOP,NOP,
 * SACK: Linux tcp_options_write writes that word after the timestamps,
 * and FreeBSD tcp_addoptions pads to 2 mod 4 before TOF_SACK (after
 * TOF_TS), which from a 4-byte boundary is the same two NOPs. */
static size_t put_sack(const tcp_seg *seg, uint8_t *o)
{
    if (!seg->nsack)
        return 0;
    assert(seg->nsack <= TCP_SACK_MAX);
    size_t n = 8u * seg->nsack;
    put_nops(o, 2);
    o[2] = TCP_KIND_SACK;
    o[3] = (uint8_t)(2u + n);
    memcpy(o + 4, seg->sack, n);
    return 4u + n;
}

/* Writes the options of seg at o in seg->layout (RFC 7323 Appendix A keeps
 * TS at 2 mod 4 in each), then its SACK blocks; returns the byte count, a
 * multiple of 4 within TCP_OPT_MAX (the sender gives no more blocks than
 * fit: RFC 2018 §3). */
static size_t write_options(const tcp_seg *seg, uint8_t *o)
{
    size_t i = 0;
    if (seg->layout == TCP_LAYOUT_BSD) {
        i = put_bsd(seg, o);
    } else {
        if (seg->has_mss)
            i += put_mss(seg, o);
        if (seg->has_wscale && seg->layout != TCP_LAYOUT_LINUX) {
            i += put_nops(o + i, 1);
            i += put_ws(seg, o + i);
        }
        i += put_sack_ts(seg, o + i);
        if (seg->has_wscale && seg->layout == TCP_LAYOUT_LINUX) {
            i += put_nops(o + i, 1);
            i += put_ws(seg, o + i);
        }
    }
    assert(i % 4 == 0 && i <= 20);
    assert(i + (seg->nsack ? 4u + 8u * seg->nsack : 0u) <= TCP_OPT_MAX);
    return i + put_sack(seg, o + i);
}

/* Bytes of options tcp_wire_encode writes for seg. */
static size_t options_size(const tcp_seg *seg)
{
    uint8_t scratch[TCP_OPT_MAX];
    return write_options(seg, scratch);
}

size_t tcp_wire_size(const tcp_seg *seg)
{
    return TCP_IPV4_HDR + TCP_HDR_MIN + options_size(seg) + seg->len;
}

static void write_ipv4(const tcp_seg *seg, uint8_t *ip, size_t total)
{
    ip[0] = 0x45; /* version 4, IHL 5: no IP options */
    ip[1] = 0;
    wr16(ip + 2, (uint16_t)total);
    wr16(ip + 4, seg->ip_id);
    wr16(ip + 6, IP_FLAG_DF);
    ip[8] = seg->ttl != 0 ? seg->ttl : IP_TTL_DEF;
    ip[9] = IP_PROTO_TCP;
    wr16(ip + 10, 0);
    wr32(ip + 12, seg->src_addr);
    wr32(ip + 16, seg->dst_addr);
    wr16(ip + 10, (uint16_t)~tcp_wire_sum(ip, TCP_IPV4_HDR, 0));
}

/* The headers of seg at buf, checksums over the headers and seg's payload
 * wherever it lies; returns the headers' length (0: buf_len too small).
 * The TCP header is a multiple of 4 bytes long, so the payload's words
 * continue the header's sum (RFC 1071 §2 (B)) wherever they are read. */
static size_t encode_head(const tcp_seg *seg, uint8_t *buf, size_t buf_len)
{
    size_t total = tcp_wire_size(seg), hlen;
    uint8_t *t = buf + TCP_IPV4_HDR;

    assert(seg->len == 0 || seg->payload != NULL);
    if (total > IP_LEN_MAX || total - seg->len > buf_len)
        return 0;
    write_ipv4(seg, buf, total);
    wr16(t, seg->src_port);
    wr16(t + 2, seg->dst_port);
    wr32(t + 4, seg->seq);
    wr32(t + 8, seg->ack);
    hlen = TCP_HDR_MIN + write_options(seg, t + TCP_HDR_MIN);
    t[12] = (uint8_t)(hlen / 4 << 4); /* reserved bits zero (RFC 9293 §3.1) */
    t[13] = seg->flags;
    wr16(t + 14, seg->wnd);
    wr16(t + 16, 0);
    wr16(t + 18, seg->urg);
    uint32_t head =
        tcp_wire_sum(t, hlen, pseudo_sum(seg->src_addr, seg->dst_addr, hlen + seg->len));
    wr16(t + 16, (uint16_t)~tcp_wire_sum(seg->payload, seg->len, head));
    return TCP_IPV4_HDR + hlen;
}

size_t tcp_wire_encode(const tcp_seg *seg, uint8_t *buf, size_t buf_len)
{
    size_t total = tcp_wire_size(seg);
    if (total > buf_len)
        return 0;
    size_t head = encode_head(seg, buf, buf_len);
    if (head && seg->len > 0 && seg->payload != buf + head) /* else in place (tcp_ring_lend) */
        memcpy(buf + head, seg->payload, seg->len);
    return head ? total : 0;
}

size_t tcp_wire_encode_head(const tcp_seg *seg, uint8_t *buf, size_t buf_len)
{
    return encode_head(seg, buf, buf_len);
}

/* ---- Flag names ---------------------------------------------------------- */

static const struct {
    uint8_t bit;
    char name[4];
} flag_names[] = {
    {TCP_SYN, "SYN"}, {TCP_FIN, "FIN"}, {TCP_RST, "RST"}, {TCP_PSH, "PSH"},
    {TCP_ACK, "ACK"}, {TCP_URG, "URG"}, {TCP_ECE, "ECE"}, {TCP_CWR, "CWR"},
};

#define FLAG_COUNT (sizeof flag_names / sizeof flag_names[0])

/* No flags at all reads "NONE" (tcp_flags_parse accepts it back). The
 * result is cut short, still terminated, when buf_len is too small. */
char *tcp_flags_str(uint8_t flags, char *buf, size_t buf_len)
{
    char text[FLAG_COUNT * 4 + 1] = "";
    size_t n = 0, i;

    for (i = 0; i < FLAG_COUNT; i++) {
        if (!(flags & flag_names[i].bit))
            continue;
        if (n > 0)
            text[n++] = ',';
        memcpy(text + n, flag_names[i].name, 3);
        n += 3;
    }
    text[n] = '\0';
    if (buf_len > 0)
        snprintf(buf, buf_len, "%s", n > 0 ? text : "NONE");
    return buf;
}

static bool is_flag_sep(char c)
{
    return c == ',' || c == '+' || c == '|' || isspace((unsigned char)c);
}

static bool name_eq(const char *word, size_t n, const char *name)
{
    size_t i;

    if (strlen(name) != n)
        return false;
    for (i = 0; i < n; i++)
        if (toupper((unsigned char)word[i]) != name[i])
            return false;
    return true;
}

/* The bits named by the n characters at word; -1 if no flag has that name. */
static int flag_lookup(const char *word, size_t n)
{
    size_t i;

    if (name_eq(word, n, "NONE"))
        return 0;
    for (i = 0; i < FLAG_COUNT; i++)
        if (name_eq(word, n, flag_names[i].name))
            return flag_names[i].bit;
    return -1;
}

/* Names are case-insensitive, separated by any run of ',', '+', '|' or
 * white space; an empty string is no flags. *out is left alone on error. */
int tcp_flags_parse(const char *text, uint8_t *out)
{
    unsigned flags = 0;
    const char *p = text;

    if (text == NULL)
        return -1;
    while (*p != '\0') {
        size_t n = 0;
        int bits;

        if (is_flag_sep(*p)) {
            p++;
            continue;
        }
        while (p[n] != '\0' && !is_flag_sep(p[n]))
            n++;
        bits = flag_lookup(p, n);
        if (bits < 0)
            return -1;
        flags |= (unsigned)bits;
        p += n;
    }
    *out = (uint8_t)flags;
    return 0;
}
