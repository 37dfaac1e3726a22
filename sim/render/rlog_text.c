/*
 * rlog_text — the line outputs: the text trace (one stable line per entry,
 * for people and diff) and JSON lines (one object per entry, keys in a fixed
 * order, for programs), plus the formatting helpers every output shares.
 *
 * Both are pure functions of the log: numbers are printed from integers,
 * times from integer nanoseconds, strings escaped so that every entry stays
 * on one line.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "render.h"
#include "render_int.h"
#include "rlog_why.h"

/* ---- shared helpers -------------------------------------------------------- */

size_t rlog_format_time(uint64_t ns, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
    return n < 0 ? 0 : (size_t)n;
}

size_t rlog_format_ms(uint64_t ns, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ns / 1000000u, ns % 1000000u / 1000u);
    return n < 0 ? 0 : (size_t)n;
}

void render_cat(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += (size_t)n;
}

size_t rlog_format_seg(const tcp_seg *seg, char *buf, size_t len)
{
    char flags[40];
    size_t at = 0;
    if (len > 0)
        buf[0] = '\0';
    tcp_flags_str(seg->flags, flags, sizeof flags);
    render_cat(buf, len, &at, "%s seq=%" PRIu32 " ack=%" PRIu32 " win=%u len=%" PRIu32, flags,
               seg->seq, seg->ack, (unsigned)seg->wnd, seg->len);
    if (seg->has_mss)
        render_cat(buf, len, &at, " mss=%u", (unsigned)seg->mss);
    if (seg->has_wscale)
        render_cat(buf, len, &at, " ws=%u", (unsigned)seg->wscale);
    if (seg->has_sack_perm)
        render_cat(buf, len, &at, " sackok");
    if (seg->has_ts)
        render_cat(buf, len, &at, " ts=%" PRIu32 "/%" PRIu32, seg->ts_val, seg->ts_ecr);
    for (unsigned i = 0; i < seg->nsack; i++) { /* RFC 2018 blocks, in the segment's order */
        uint32_t left, right;
        tcp_seg_sack(seg, i, &left, &right);
        render_cat(buf, len, &at, "%s%" PRIu32 "-%" PRIu32, i ? "," : " sack=", left, right);
    }
    return at;
}

size_t rlog_format_label(const tcp_seg *seg, char *buf, size_t len)
{
    char flags[40];
    size_t at = 0;
    if (len > 0)
        buf[0] = '\0';
    tcp_flags_str(seg->flags & (uint8_t)~TCP_PSH, flags, sizeof flags);
    render_cat(buf, len, &at, "%s seq=%" PRIu32, flags, seg->seq);
    if (seg->flags & TCP_ACK)
        render_cat(buf, len, &at, " ack=%" PRIu32, seg->ack);
    if (seg->len > 0)
        render_cat(buf, len, &at, " len=%" PRIu32, seg->len);
    if (seg->wnd == 0 && !(seg->flags & TCP_RST))
        render_cat(buf, len, &at, " win=0");
    return at;
}

/* The name of an entry's detail (TIMER, USER, ERROR), else NULL. */
static const char *detail_name(const rlog_entry *e)
{
    switch (e->kind) {
    case RLOG_TIMER:
    case RLOG_RESTART:
        return tcp_timer_name((tcp_timer_kind)e->detail);
    case RLOG_USER:
        return tcp_user_call_name((tcp_user_call)e->detail);
    case RLOG_ERROR:
        return tcp_err_name(e->detail);
    case RLOG_SEND:
    case RLOG_DELIVER:
    case RLOG_DROP:
    case RLOG_DUP:
    case RLOG_HOLD:
    case RLOG_RELEASE:
    case RLOG_CORRUPT:
    case RLOG_LINK:
    case RLOG_STATE:
    case RLOG_NOTE:
    case RLOG_DELAY:
    case RLOG_REJECT:
        return NULL;
    case RLOG_KIND_COUNT:
        break;
    }
    assert(!"RLOG_KIND_COUNT is not a kind");
    return NULL;
}

/* ---- text ------------------------------------------------------------------ */

/* A string quoted on one line: \" \\ \n \t and \xNN for other control bytes. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void text_packet(const rlog *log, const rlog_entry *e, FILE *out)
{
    fprintf(out, " %s>%s %s pkt=%" PRIu32, rlog_host_name(log, e->src_host),
            rlog_host_name(log, e->dst_host), rlog_kind_name(e->kind), e->packet_id);
    if (e->origin_id != e->packet_id)
        fprintf(out, " of=%" PRIu32, e->origin_id);
    if (e->kind == RLOG_DROP)
        fprintf(out, " %s", sim_drop_reason_name(e->drop));
    if (e->kind == RLOG_DELAY) {
        char t[32];
        rlog_format_time(e->value_ns, t, sizeof t);
        fprintf(out, " +%s", t);
    }
    if (e->seg_ok) {
        char seg[160];
        rlog_format_seg(e->seg, seg, sizeof seg);
        fprintf(out, " %s", seg);
    } else {
        fprintf(out, " malformed (%s) bytes=%" PRIu32, tcp_wire_err_name(e->wire_err), e->nbytes);
    }
}

static void text_why(const rlog_entry *e, FILE *out)
{
    rlog_why w = rlog_why_of(e);
    fputs(" rule=", out);
    put_quoted(out, w.rule);
    fputs(" because=", out);
    put_quoted(out, w.because);
}

static void text_conn(const rlog *log, const rlog_entry *e, FILE *out, bool why)
{
    fprintf(out, " %s", rlog_host_name(log, e->host));
    if (e->sock != 0 || e->kind != RLOG_REJECT)
        fprintf(out, " sock=%" PRIu32, e->sock);
    fprintf(out, " %s", rlog_kind_name(e->kind));
    if (e->kind == RLOG_STATE) {
        fprintf(out, " %s -> %s cause=%s", tcp_state_name(e->from), tcp_state_name(e->to),
                tcp_cause_name(e->cause));
        if (e->note[0]) {
            fputs(" note=", out);
            put_quoted(out, e->note);
        }
        if (why)
            text_why(e, out);
    } else if (e->kind == RLOG_RESTART) {
        fprintf(out, " %s note=", detail_name(e));
        put_quoted(out, e->note);
        if (why)
            text_why(e, out);
    } else if (e->kind == RLOG_REJECT) {
        fputc(' ', out);
        put_quoted(out, e->text);
    } else {
        fprintf(out, " %s", detail_name(e));
    }
}

static void text_entry(const rlog *log, const rlog_entry *e, FILE *out, bool why)
{
    char t[32];
    rlog_format_time(e->time_ns, t, sizeof t);
    fputs(t, out);
    if (e->kind == RLOG_NOTE) {
        fputs(" note ", out);
        put_quoted(out, e->text);
    } else if (e->kind == RLOG_LINK) {
        uint32_t from = e->host, to = UINT32_MAX;
        rlog_link_ends(log, e->link, e->dir, &from, &to);
        fprintf(out, " link=%" PRIu32 " %s>%s %s", e->link, rlog_host_name(log, from),
                rlog_host_name(log, to), e->value_ns ? "up" : "down");
    } else if (rlog_is_packet_kind(e->kind)) {
        text_packet(log, e, out);
    } else {
        text_conn(log, e, out, why);
    }
    fputc('\n', out);
}

static int write_text(const rlog *log, FILE *out, bool why)
{
    for (size_t i = 0; i < rlog_count(log); i++)
        text_entry(log, rlog_at(log, i), out, why);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int rlog_write_text(const rlog *log, FILE *out)
{
    return write_text(log, out, false);
}

int rlog_write_text_why(const rlog *log, FILE *out)
{
    return write_text(log, out, true);
}

/* ---- JSON lines -------------------------------------------------------------- */

size_t render_utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf8)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong three-byte forms, surrogates and code points past U+10FFFF. */
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void render_json_string(FILE *out, const char *str, bool in_script)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    fputc('"', out);
    while (*s) {
        if (*s == '"' || *s == '\\') {
            fprintf(out, "\\%c", *s++);
        } else if (*s == '\n' && !in_script) {
            fputs("\\n", out), s++;
        } else if (*s < 0x20 || *s == 0x7f ||
                   (in_script && (*s == '<' || *s == '>' || *s == '&'))) {
            fprintf(out, "\\u%04x", *s++);
        } else if (*s < 0x80) {
            fputc(*s++, out);
        } else {
            size_t n = render_utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", out), s++;
            } else {
                fwrite(s, 1, n, out);
                s += n;
            }
        }
    }
    fputc('"', out);
}

static void json_key_str(FILE *out, const char *key, const char *val)
{
    fprintf(out, ",\"%s\":", key);
    render_json_string(out, val, false);
}

static void json_seg(FILE *out, const tcp_seg *s)
{
    char flags[40];
    tcp_flags_str(s->flags, flags, sizeof flags);
    fprintf(out, ",\"seg\":{\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"win\":%u",
            flags, s->seq, s->ack, (unsigned)s->wnd);
    fprintf(out, ",\"len\":%" PRIu32 ",\"sport\":%u,\"dport\":%u", s->len, (unsigned)s->src_port,
            (unsigned)s->dst_port);
    if (s->has_mss)
        fprintf(out, ",\"mss\":%u", (unsigned)s->mss);
    if (s->has_wscale)
        fprintf(out, ",\"ws\":%u", (unsigned)s->wscale);
    if (s->has_sack_perm)
        fputs(",\"sackok\":true", out);
    if (s->has_ts)
        fprintf(out, ",\"ts_val\":%" PRIu32 ",\"ts_ecr\":%" PRIu32, s->ts_val, s->ts_ecr);
    for (unsigned i = 0; i < s->nsack; i++) {
        uint32_t left, right;
        tcp_seg_sack(s, i, &left, &right);
        fprintf(out, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : ",\"sack\":[", left, right);
    }
    if (s->nsack)
        fputc(']', out);
    fputc('}', out);
}

static void json_packet(const rlog *log, const rlog_entry *e, FILE *out)
{
    json_key_str(out, "src", rlog_host_name(log, e->src_host));
    json_key_str(out, "dst", rlog_host_name(log, e->dst_host));
    if (e->link != UINT32_MAX)
        fprintf(out, ",\"link\":%" PRIu32 ",\"dir\":%u", e->link, (unsigned)e->dir);
    fprintf(out, ",\"pkt\":%" PRIu32 ",\"origin\":%" PRIu32, e->packet_id, e->origin_id);
    if (e->kind == RLOG_DROP)
        json_key_str(out, "reason", sim_drop_reason_name(e->drop));
    if (e->kind == RLOG_DELAY)
        fprintf(out, ",\"delay_ns\":%" PRIu64, e->value_ns);
    fprintf(out, ",\"bytes\":%" PRIu32, e->nbytes);
    if (e->seg_ok)
        json_seg(out, e->seg);
    else
        json_key_str(out, "malformed", tcp_wire_err_name(e->wire_err));
}

static void json_conn(const rlog *log, size_t i, FILE *out)
{
    const rlog_entry *e = rlog_at(log, i);
    json_key_str(out, "host", rlog_host_name(log, e->host));
    fprintf(out, ",\"sock\":%" PRIu32, e->sock);
    if (e->parent != 0)
        fprintf(out, ",\"parent\":%" PRIu32, e->parent);
    if (e->kind == RLOG_STATE) {
        json_key_str(out, "from", tcp_state_name(e->from));
        json_key_str(out, "to", tcp_state_name(e->to));
        json_key_str(out, "cause", tcp_cause_name(e->cause));
        json_key_str(out, "note", e->note);
        size_t c = rlog_state_cause(log, i);
        if (c != RLOG_NONE)
            fprintf(out, ",\"cause_pkt\":%" PRIu32, rlog_at(log, c)->packet_id);
        rlog_why w = rlog_why_of(e);
        json_key_str(out, "rule", w.rule);
        json_key_str(out, "because", w.because);
    } else if (e->kind == RLOG_RESTART) {
        json_key_str(out, "timer", detail_name(e));
        json_key_str(out, "note", e->note);
        size_t c = rlog_state_cause(log, i);
        if (c != RLOG_NONE)
            fprintf(out, ",\"cause_pkt\":%" PRIu32, rlog_at(log, c)->packet_id);
        rlog_why w = rlog_why_of(e);
        json_key_str(out, "rule", w.rule);
        json_key_str(out, "because", w.because);
    } else if (e->kind == RLOG_REJECT) {
        json_key_str(out, "note", e->text);
    } else {
        json_key_str(out,
                     e->kind == RLOG_TIMER  ? "timer"
                     : e->kind == RLOG_USER ? "call"
                                            : "error",
                     detail_name(e));
    }
}

static void json_link(const rlog *log, const rlog_entry *e, FILE *out)
{
    uint32_t from = e->host, to = UINT32_MAX;
    rlog_link_ends(log, e->link, e->dir, &from, &to);
    json_key_str(out, "src", rlog_host_name(log, from));
    json_key_str(out, "dst", rlog_host_name(log, to));
    fprintf(out, ",\"link\":%" PRIu32 ",\"dir\":%u,\"up\":%s", e->link, (unsigned)e->dir,
            e->value_ns ? "true" : "false");
}

static void json_entry(const rlog *log, size_t i, FILE *out)
{
    const rlog_entry *e = rlog_at(log, i);
    char t[32];
    rlog_format_time(e->time_ns, t, sizeof t);
    fprintf(out, "{\"t_ns\":%" PRIu64 ",\"t\":\"%s\",\"kind\":\"%s\"", e->time_ns, t,
            rlog_kind_name(e->kind));
    if (e->kind == RLOG_NOTE)
        json_key_str(out, "text", e->text);
    else if (e->kind == RLOG_LINK)
        json_link(log, e, out);
    else if (rlog_is_packet_kind(e->kind))
        json_packet(log, e, out);
    else
        json_conn(log, i, out);
    fputs("}\n", out);
}

int rlog_write_json(const rlog *log, FILE *out)
{
    for (size_t i = 0; i < rlog_count(log); i++)
        json_entry(log, i, out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
