/*
 * pkt_opts — TCP options in packetdrill's notation ("<mss 1460,sackOK,TS val
 * 100 ecr 0,nop,wscale 7>") <-> wire bytes <-> a table, and segments
 * formatted back the way packetdrill prints them. Option bytes are the one
 * representation: parsing encodes, formatting decodes, so a round trip keeps
 * the order and the padding.
 */
#include <stdio.h>
#include <string.h>

#include "pkt_internal.h"
#include "tcp_wire.h"

/* Appends bytes; -1 if the 40 bytes of option space are exceeded. */
static int put(pkt_opts *o, const uint8_t *b, size_t n)
{
    if (o->len > PKT_OPT_BYTES || n > PKT_OPT_BYTES - o->len)
        return -1;
    for (size_t i = 0; i < n; i++)
        o->bytes[o->len++] = b[i];
    return 0;
}

static void be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- Parsing (from the current token, after '<') ------------------------ */

static int too_long(pkt_parser *p)
{
    return pkt_fail(p, p->tok.line, "TCP options longer than %u bytes", PKT_OPT_BYTES);
}

static int parse_sack(pkt_parser *p, pkt_opts *o)
{
    uint8_t b[2 + 8 * PKT_SACK_MAX] = {TCP_KIND_SACK, 2};
    uint32_t n = 0;
    while (p->tok.kind == PKT_T_INT) {
        uint32_t l, r;
        if (n == PKT_SACK_MAX)
            return pkt_fail(p, p->tok.line, "more than %u SACK blocks", PKT_SACK_MAX);
        if (pkt_tok_u32(p, "SACK left edge", UINT32_MAX, &l) || pkt_advance(p))
            return -1;
        if (!pkt_tok_char(&p->tok, ':'))
            return pkt_expected(p, "':' in a SACK block (left:right)");
        if (pkt_advance(p) || pkt_tok_u32(p, "SACK right edge", UINT32_MAX, &r) || pkt_advance(p))
            return -1;
        be32(b + 2 + 8 * n, l);
        be32(b + 6 + 8 * n, r);
        n++;
    }
    if (n == 0)
        return pkt_expected(p, "a SACK block (left:right)");
    b[1] = (uint8_t)(2 + 8 * n);
    return put(o, b, b[1]) ? too_long(p) : 0;
}

static int parse_ts(pkt_parser *p, pkt_opts *o)
{
    uint8_t b[10] = {TCP_KIND_TS, 10};
    uint32_t val, ecr;
    if (!pkt_tok_is(&p->tok, "val"))
        return pkt_expected(p, "'val' after TS");
    if (pkt_advance(p) || pkt_tok_u32(p, "TS val", UINT32_MAX, &val) || pkt_advance(p))
        return -1;
    if (!pkt_tok_is(&p->tok, "ecr"))
        return pkt_expected(p, "'ecr' after TS val");
    if (pkt_advance(p) || pkt_tok_u32(p, "TS ecr", UINT32_MAX, &ecr) || pkt_advance(p))
        return -1;
    be32(b + 2, val);
    be32(b + 6, ecr);
    return put(o, b, sizeof b) ? too_long(p) : 0;
}

/* One option at the current token; leaves the token after it. */
static int parse_one(pkt_parser *p, pkt_opts *o)
{
    const pkt_tok *t = &p->tok;
    uint32_t line = t->line, v;
    if (pkt_tok_is(t, "nop") || pkt_tok_is(t, "eol")) {
        uint8_t b = pkt_tok_is(t, "nop") ? TCP_KIND_NOP : TCP_KIND_EOL;
        return pkt_advance(p) || (put(o, &b, 1) ? too_long(p) : 0);
    }
    if (pkt_tok_is(t, "sackOK")) {
        uint8_t b[2] = {TCP_KIND_SACK_PERM, 2};
        return pkt_advance(p) || (put(o, b, 2) ? too_long(p) : 0);
    }
    if (pkt_tok_is(t, "mss")) {
        if (pkt_advance(p) || pkt_tok_u32(p, "mss", UINT16_MAX, &v) || pkt_advance(p))
            return -1;
        uint8_t b[4] = {TCP_KIND_MSS, 4, (uint8_t)(v >> 8), (uint8_t)v};
        return put(o, b, 4) ? too_long(p) : 0;
    }
    if (pkt_tok_is(t, "wscale")) {
        if (pkt_advance(p) || pkt_tok_u32(p, "wscale", UINT8_MAX, &v) || pkt_advance(p))
            return -1;
        uint8_t b[3] = {TCP_KIND_WSCALE, 3, (uint8_t)v};
        return put(o, b, 3) ? too_long(p) : 0;
    }
    if (pkt_tok_is(t, "sack"))
        return pkt_advance(p) || parse_sack(p, o);
    if (pkt_tok_is(t, "TS"))
        return pkt_advance(p) || parse_ts(p, o);
    if (pkt_tok_is(t, "md5"))
        return pkt_unsupported(p, line, "TCP MD5 signature option (md5)");
    if (pkt_tok_is(t, "FO") || pkt_tok_is(t, "FOEXP"))
        return pkt_unsupported(p, line, "TCP Fast Open option (FO)");
    if (t->kind == PKT_T_WORD && t->n >= 2 && !memcmp(t->p, "mp", 2))
        return pkt_unsupported(p, line, "MPTCP option");
    return pkt_expected(p, "a TCP option (nop, eol, mss N, wscale N, sackOK, sack L:R, "
                           "TS val N ecr N)");
}

/* The list itself: "..." or options separated by ','. */
static int parse_list(pkt_parser *p, bool outbound, pkt_opts *out)
{
    uint32_t line = p->tok.line;
    memset(out, 0, sizeof *out);
    if (p->tok.kind == PKT_T_ELLIPSIS) {
        if (!outbound)
            return pkt_fail(p, line,
                            "<...> for TCP options can only be used with outbound "
                            "segments");
        out->any = true;
        return pkt_advance(p);
    }
    for (;;) {
        if (parse_one(p, out))
            return -1;
        if (!pkt_tok_char(&p->tok, ','))
            break;
        if (pkt_advance(p))
            return -1;
    }
    if (out->len % 4)
        return pkt_fail(p, line, "TCP options take %u bytes, not a multiple of 4 (pad with nop)",
                        out->len);
    return 0;
}

int pkt_parse_opts(pkt_parser *p, bool outbound, pkt_opts *out)
{
    if (parse_list(p, outbound, out))
        return -1;
    if (!pkt_tok_char(&p->tok, '>'))
        return pkt_expected(p, "',' or '>' in the TCP options");
    return pkt_advance(p);
}

int pkt_opts_parse(const char *text, pkt_opts *out, char *err, size_t err_len)
{
    pkt_parser p;
    memset(&p, 0, sizeof p);
    if (pkt_lex_init(&p, text, strlen(text)) == 0 && parse_list(&p, true, out) == 0) {
        if (p.tok.kind == PKT_T_EOF)
            return 0;
        pkt_expected(&p, "',' or the end of the options");
    }
    if (err_len)
        snprintf(err, err_len, "%s", p.msg);
    return -1;
}

/* ---- Wire bytes ----------------------------------------------------------------- */

size_t pkt_opt_len(const uint8_t *b, size_t left)
{
    if (b[0] == TCP_KIND_EOL || b[0] == TCP_KIND_NOP)
        return 1;
    if (left < 2 || b[1] < 2 || b[1] > left)
        return 0;
    static const uint8_t fixed[9] = {0, 0, 4, 3, 2, 0, 0, 0, 10};
    if (b[0] < sizeof fixed && fixed[b[0]] && b[1] != fixed[b[0]])
        return 0;
    if (b[0] == TCP_KIND_SACK && (b[1] < 10 || (b[1] - 2) % 8))
        return 0;
    return b[1];
}

int pkt_opts_from_wire(const uint8_t *bytes, size_t len, pkt_opts *out)
{
    memset(out, 0, sizeof *out);
    if (len > PKT_OPT_BYTES)
        return -1;
    for (size_t i = 0; i < len;) {
        size_t n = pkt_opt_len(bytes + i, len - i);
        if (n == 0)
            return -1;
        i += n;
    }
    memcpy(out->bytes, bytes, len);
    out->len = (uint8_t)len;
    return 0;
}

/* ---- Formatting ----------------------------------------------------------------- */

/* Appends one option's text at buf+*pos. */
static void fmt_one(const uint8_t *b, size_t n, char *buf, size_t len, size_t *pos)
{
    size_t room = *pos < len ? len - *pos : 0;
    char *w = buf + (*pos < len ? *pos : 0);
    int k = 0;
    switch (b[0]) {
    case TCP_KIND_EOL:
        k = snprintf(w, room, "eol");
        break;
    case TCP_KIND_NOP:
        k = snprintf(w, room, "nop");
        break;
    case TCP_KIND_MSS:
        k = snprintf(w, room, "mss %u", (unsigned)(b[2] << 8 | b[3]));
        break;
    case TCP_KIND_WSCALE:
        k = snprintf(w, room, "wscale %u", (unsigned)b[2]);
        break;
    case TCP_KIND_SACK_PERM:
        k = snprintf(w, room, "sackOK");
        break;
    case TCP_KIND_TS:
        k = snprintf(w, room, "TS val %u ecr %u", (unsigned)get32(b + 2), (unsigned)get32(b + 6));
        break;
    case TCP_KIND_SACK:
        k = snprintf(w, room, "sack");
        for (size_t i = 2; i + 8 <= n; i += 8) {
            size_t at = (size_t)k < room ? (size_t)k : room;
            k += snprintf(w + at, room - at, " %u:%u", (unsigned)get32(b + i),
                          (unsigned)get32(b + i + 4));
        }
        break;
    default:
        k = snprintf(w, room, "kind %u len %u", (unsigned)b[0], (unsigned)n);
        break;
    }
    *pos += (size_t)(k > 0 ? k : 0);
}

char *pkt_opts_format(const pkt_opts *opts, char *buf, size_t buf_len)
{
    size_t pos = 0;
    if (buf_len == 0)
        return buf;
    buf[0] = '\0';
    if (opts->any) {
        snprintf(buf, buf_len, "...");
        return buf;
    }
    for (size_t i = 0; i < opts->len;) {
        size_t n = pkt_opt_len(opts->bytes + i, opts->len - i);
        if (n == 0) {
            snprintf(buf + (pos < buf_len ? pos : buf_len - 1), pos < buf_len ? buf_len - pos : 1,
                     "%smalformed", i ? "," : "");
            break;
        }
        if (i > 0 && pos + 1 < buf_len)
            buf[pos] = ',', buf[pos + 1] = '\0';
        pos += i > 0;
        fmt_one(opts->bytes + i, n, buf, buf_len, &pos);
        i += n;
    }
    return buf;
}

char *pkt_flags_format(uint8_t flags, char *buf, size_t buf_len)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
                 {TCP_ACK, '.'}, {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'}};
    char text[9];
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit)
            text[n++] = order[i].c;
    text[n] = '\0';
    snprintf(buf, buf_len, "%s", n ? text : "-");
    return buf;
}

char *pkt_seg_format(const pkt_seg *seg, char *buf, size_t buf_len)
{
    char flags[12], ack[24] = "", win[20] = "", opts[200] = "";
    pkt_flags_format(seg->flags, flags, sizeof flags);
    if (seg->flags & TCP_ACK)
        snprintf(ack, sizeof ack, " ack %u", (unsigned)seg->ack);
    if (seg->has_win)
        snprintf(win, sizeof win, " win %u", (unsigned)seg->win);
    if (seg->has_opts && (seg->opts.any || seg->opts.len)) {
        char text[190];
        snprintf(opts, sizeof opts, " <%s>", pkt_opts_format(&seg->opts, text, sizeof text));
    }
    snprintf(buf, buf_len, "%s %u:%u(%u)%s%s%s", flags, (unsigned)seg->seq,
             (unsigned)(seg->seq + seg->len), (unsigned)seg->len, ack, win, opts);
    return buf;
}

/* ---- Tables ------------------------------------------------------------------------ */

int pkt_opts_from_table(const pkt_opt_table *t, pkt_opts *out)
{
    static const uint8_t nop2[2] = {TCP_KIND_NOP, TCP_KIND_NOP};
    memset(out, 0, sizeof *out);
    int bad = 0;
    if (t->nsack > PKT_SACK_MAX)
        return -1;
    if (t->has_mss) {
        uint8_t b[4] = {TCP_KIND_MSS, 4, (uint8_t)(t->mss >> 8), (uint8_t)t->mss};
        bad |= put(out, b, 4);
    }
    if (t->has_ts) {
        uint8_t b[12] = {TCP_KIND_SACK_PERM, 2, TCP_KIND_TS, 10};
        if (!t->sack_perm)
            memcpy(b, nop2, 2);
        be32(b + 4, t->ts_val);
        be32(b + 8, t->ts_ecr);
        bad |= put(out, b, 12);
    } else if (t->sack_perm) {
        uint8_t b[4] = {TCP_KIND_NOP, TCP_KIND_NOP, TCP_KIND_SACK_PERM, 2};
        bad |= put(out, b, 4);
    }
    if (t->has_wscale) {
        uint8_t b[4] = {TCP_KIND_NOP, TCP_KIND_WSCALE, 3, t->wscale};
        bad |= put(out, b, 4);
    }
    if (t->nsack) {
        uint8_t b[4 + 8 * PKT_SACK_MAX] = {TCP_KIND_NOP, TCP_KIND_NOP, TCP_KIND_SACK,
                                           (uint8_t)(2 + 8 * t->nsack)};
        for (uint8_t i = 0; i < t->nsack; i++) {
            be32(b + 4 + 8 * i, t->sack[i][0]);
            be32(b + 8 + 8 * i, t->sack[i][1]);
        }
        bad |= put(out, b, 4 + 8u * t->nsack);
    }
    return bad ? -1 : 0;
}

int pkt_opts_to_table(const pkt_opts *opts, pkt_opt_table *t)
{
    memset(t, 0, sizeof *t);
    if (opts->any)
        return -1;
    for (size_t i = 0; i < opts->len;) {
        const uint8_t *b = opts->bytes + i;
        size_t n = pkt_opt_len(b, opts->len - i);
        if (n == 0)
            return -1;
        if (b[0] == TCP_KIND_MSS)
            t->has_mss = true, t->mss = (uint16_t)(b[2] << 8 | b[3]);
        else if (b[0] == TCP_KIND_WSCALE)
            t->has_wscale = true, t->wscale = b[2];
        else if (b[0] == TCP_KIND_SACK_PERM)
            t->sack_perm = true;
        else if (b[0] == TCP_KIND_TS)
            t->has_ts = true, t->ts_val = get32(b + 2), t->ts_ecr = get32(b + 6);
        else if (b[0] == TCP_KIND_SACK)
            for (size_t k = 2; k + 8 <= n && t->nsack < PKT_SACK_MAX; k += 8, t->nsack++) {
                t->sack[t->nsack][0] = get32(b + k);
                t->sack[t->nsack][1] = get32(b + k + 4);
            }
        i += n;
    }
    return 0;
}
