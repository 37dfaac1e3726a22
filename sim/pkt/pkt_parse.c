/*
 * pkt_parse — the statements of a packetdrill script: --options, times
 * (absolute, +relative, *, a~b), TCP segments, and dispatch to system calls
 * (pkt_call.c) and shell lines (pkt_shell.c). Grammar (whitespace, newlines
 * and comments insignificant, as in packetdrill):
 *
 *   script    := option* statement*
 *   statement := `command` | time action
 *   time      := '*' | '+' T ['~' '+' T] | T ['~' T]        T: seconds
 *   action    := segment | ['...' T] call | `command`
 *   segment   := ('<'|'>') [port '>' port] flags start ':' end '(' len ')'
 *                ['ack' N] ['win' N] ['urg' N] ['<' options '>']
 *   flags     := letters of "FSRPU" ['.'] | '.' | '-'
 *
 * The script owns its storage; strings go to one arena sized from the input
 * before parsing starts, so their pointers never move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_internal.h"
#include "tcp_wire.h"

/* ---- Storage ---------------------------------------------------------- */

/* The library's one growth helper: returns arr (elements of `size` bytes,
 * capacity *cap) with room for element n, doubling from 16, or NULL on
 * out-of-memory with arr and *cap left as they were. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    size_t want = *cap ? *cap * 2 : 16;
    void *q = realloc(arr, want * size);
    if (q)
        *cap = want;
    return q;
}

const char *pkt_strdup(pkt_parser *p, const char *text, size_t n)
{
    pkt_script *s = p->s;
    if (s->arena_len + n + 1 > s->arena_cap) {
        pkt_fail(p, p->tok.line, "out of memory");
        return NULL;
    }
    char *w = s->arena + s->arena_len;
    memcpy(w, text, n);
    w[n] = '\0';
    s->arena_len += n + 1;
    return w;
}

uint32_t pkt_new_expr(pkt_parser *p, pkt_expr_kind kind)
{
    pkt_script *s = p->s;
    pkt_expr *q = grow(s->ex, &s->cap_ex, s->nex, sizeof *q);
    if (!q || s->nex >= PKT_NONE - 1) {
        pkt_fail(p, p->tok.line, "out of memory");
        return PKT_NONE;
    }
    s->ex = q;
    memset(&q[s->nex], 0, sizeof q[0]);
    q[s->nex].kind = kind;
    q[s->nex].child = q[s->nex].next = PKT_NONE;
    return (uint32_t)s->nex++;
}

int pkt_new_setting(pkt_parser *p, const pkt_setting *set)
{
    pkt_script *s = p->s;
    pkt_setting *q = grow(s->set, &s->cap_set, s->nset, sizeof *q);
    if (!q)
        return pkt_fail(p, p->tok.line, "out of memory");
    s->set = q;
    q[s->nset++] = *set;
    return 0;
}

static pkt_event *new_event(pkt_parser *p)
{
    pkt_script *s = p->s;
    pkt_event *q = grow(s->ev, &s->cap_ev, s->nev, sizeof *q);
    if (!q) {
        pkt_fail(p, p->tok.line, "out of memory");
        return NULL;
    }
    s->ev = q;
    memset(&q[s->nev], 0, sizeof q[0]);
    return &q[s->nev++];
}

/* ---- Times -------------------------------------------------------------- */

/* Seconds with up to 9 decimals ("0.100", ".1", "3") to nanoseconds. */
int pkt_parse_seconds(pkt_parser *p, uint64_t *ns)
{
    const pkt_tok *t = &p->tok;
    uint64_t sec = 0, frac = 0;
    uint32_t i = 0, digits = 0;
    if (t->kind != PKT_T_INT && t->kind != PKT_T_FLOAT)
        return pkt_expected(p, "a time in seconds");
    if (t->p[0] == '-')
        return pkt_fail(p, t->line, "negative time %.*s", (int)t->n, t->p);
    for (; i < t->n && t->p[i] != '.'; i++) {
        if (sec > 1000000000ull)
            return pkt_fail(p, t->line, "time %.*s out of range", (int)t->n, t->p);
        sec = sec * 10 + (uint64_t)(t->p[i] - '0');
    }
    for (i++; i < t->n; i++, digits++) {
        if (digits == 9)
            return pkt_fail(p, t->line, "time %.*s finer than 1 ns", (int)t->n, t->p);
        frac = frac * 10 + (uint64_t)(t->p[i] - '0');
    }
    for (; digits < 9; digits++)
        frac *= 10;
    *ns = sec * 1000000000ull + frac;
    return pkt_advance(p);
}

/* '+' T, or T; *rel tells which. */
static int parse_one_time(pkt_parser *p, bool *rel, uint64_t *ns)
{
    *rel = pkt_tok_char(&p->tok, '+');
    if (*rel && pkt_advance(p))
        return -1;
    return pkt_parse_seconds(p, ns);
}

static int parse_time(pkt_parser *p, pkt_time *t)
{
    bool rel, rel2;
    if (pkt_tok_char(&p->tok, '*')) {
        t->kind = PKT_TIME_ANY;
        return pkt_advance(p);
    }
    if (parse_one_time(p, &rel, &t->start_ns))
        return -1;
    t->kind = rel ? PKT_TIME_REL : PKT_TIME_ABS;
    if (!pkt_tok_char(&p->tok, '~'))
        return 0;
    uint32_t line = p->tok.line;
    if (pkt_advance(p) || parse_one_time(p, &rel2, &t->end_ns))
        return -1;
    if (rel != rel2)
        return pkt_fail(p, line, "time range mixes relative and absolute times");
    if (t->end_ns < t->start_ns)
        return pkt_fail(p, line, "time range is backwards");
    t->kind = rel ? PKT_TIME_REL_RANGE : PKT_TIME_ABS_RANGE;
    return 0;
}

/* ---- Segments ------------------------------------------------------------- */

/* The bracketed IP part "[ect0]" / "(tos 0x1)": none of it is supported. */
static int ip_info(pkt_parser *p)
{
    uint32_t line = p->tok.line;
    const pkt_tok *w;
    if (pkt_peek(p, &w))
        return -1;
    static const char *const ecn[] = {"ect0", "ect1", "ce", "ect01", "noecn"};
    for (size_t i = 0; i < sizeof ecn / sizeof ecn[0]; i++)
        if (pkt_tok_is(w, ecn[i]))
            return pkt_unsupported(p, line, "ECN marks on segments");
    return pkt_unsupported(p, line, "IP header fields (tos, ttl, flowlabel)");
}

/* Words after the direction that leave TCP/IPv4 without encapsulation. */
static int other_protocol(pkt_parser *p)
{
    static const struct {
        const char *word, *what;
    } other[] = {{"udp", "UDP"},
                 {"icmp", "ICMP"},
                 {"ipv6", "IPv6"},
                 {"gre", "GRE"},
                 {"GREv0", "GRE"},
                 {"mpls", "MPLS"},
                 {"ipv4", "explicit IPv4 headers (ipv4 A > B:)"}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (pkt_tok_is(&p->tok, other[i].word))
            return pkt_unsupported(p, p->tok.line, other[i].what);
    return 0;
}

static int parse_flag_letters(pkt_parser *p, uint8_t *flags)
{
    const pkt_tok *t = &p->tok;
    for (uint32_t i = 0; i < t->n; i++) {
        const char *bits = "FSRPU";
        const uint8_t bit[] = {TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_URG};
        const char *hit = strchr(bits, t->p[i]);
        if (hit) {
            *flags |= bit[hit - bits];
        } else if (strchr("EWA", t->p[i])) {
            return pkt_unsupported(p, t->line, "ECN flags (E, W, A)");
        } else if (strchr("01234567", t->p[i])) {
            return pkt_unsupported(p, t->line, "AccECN ACE field");
        } else {
            return pkt_fail(p, t->line,
                            "expected TCP flags (F S R P U and '.'), got '%c' in '%.*s'", t->p[i],
                            (int)t->n, t->p);
        }
    }
    return pkt_advance(p);
}

static int parse_flags(pkt_parser *p, uint8_t *flags)
{
    *flags = 0;
    if (pkt_tok_char(&p->tok, '-'))
        return pkt_advance(p);
    if (p->tok.kind == PKT_T_FLOAT)
        return pkt_unsupported(p, p->tok.line, "AccECN ACE field");
    if (p->tok.kind == PKT_T_WORD) {
        if (parse_flag_letters(p, flags))
            return -1;
    } else if (!pkt_tok_char(&p->tok, '.')) {
        return pkt_expected(p, "TCP flags (S, S., ., F., P., R, R. ...)");
    }
    if (pkt_tok_char(&p->tok, '.')) {
        *flags |= TCP_ACK;
        return pkt_advance(p);
    }
    return 0;
}

/* start ':' end '(' len ')' */
static int parse_seq(pkt_parser *p, pkt_seg *seg)
{
    uint32_t end, line = p->tok.line;
    if (p->tok.kind != PKT_T_INT)
        return pkt_expected(p, "a sequence range start:end(length)");
    if (pkt_tok_u32(p, "start sequence number", UINT32_MAX, &seg->seq) || pkt_advance(p))
        return -1;
    if (!pkt_tok_char(&p->tok, ':'))
        return pkt_expected(p, "':' in start:end(length)");
    if (pkt_advance(p) || pkt_tok_u32(p, "end sequence number", UINT32_MAX, &end) || pkt_advance(p))
        return -1;
    if (!pkt_tok_char(&p->tok, '('))
        return pkt_expected(p, "'(' and the length in start:end(length)");
    if (pkt_advance(p) || pkt_tok_u32(p, "payload length", PKT_PAYLOAD_MAX, &seg->len) ||
        pkt_advance(p))
        return -1;
    if (!pkt_tok_char(&p->tok, ')'))
        return pkt_expected(p, "')' after the length");
    if ((uint64_t)seg->seq + seg->len != end)
        return pkt_fail(p, line,
                        "inconsistent sequence range %u:%u(%u): end must be start + length",
                        (unsigned)seg->seq, (unsigned)end, (unsigned)seg->len);
    return pkt_advance(p);
}

/* The optional tail, in packetdrill's order: ack, win, urg, <options>. */
static int parse_seg_tail(pkt_parser *p, pkt_seg *seg)
{
    uint32_t v;
    if (pkt_tok_is(&p->tok, "ack")) {
        if (pkt_advance(p) || pkt_tok_u32(p, "ack number", UINT32_MAX, &seg->ack) || pkt_advance(p))
            return -1;
    }
    if (pkt_tok_is(&p->tok, "win")) {
        if (pkt_advance(p) || pkt_tok_u32(p, "window", UINT16_MAX, &v) || pkt_advance(p))
            return -1;
        seg->has_win = true;
        seg->win = (uint16_t)v;
    }
    if (pkt_tok_is(&p->tok, "urg")) {
        if (pkt_advance(p) || pkt_tok_u32(p, "urgent pointer", UINT16_MAX, &v) || pkt_advance(p))
            return -1;
        seg->urg = (uint16_t)v;
    }
    if (pkt_tok_char(&p->tok, '<')) {
        seg->has_opts = true;
        if (pkt_advance(p) || pkt_parse_opts(p, seg->outbound, &seg->opts))
            return -1;
    }
    if (pkt_tok_char(&p->tok, '{'))
        return pkt_unsupported(p, p->tok.line, "fuzzing ({...}) of segments");
    return 0;
}

static int parse_ports(pkt_parser *p, pkt_seg *seg)
{
    const pkt_tok *la;
    uint32_t v;
    if (p->tok.kind != PKT_T_INT || pkt_peek(p, &la) || !pkt_tok_char(la, '>'))
        return p->status == PKT_OK ? 0 : -1;
    if (pkt_tok_u32(p, "source port", UINT16_MAX, &v) || pkt_advance(p) || pkt_advance(p))
        return -1;
    seg->src_port = (uint16_t)v;
    if (pkt_tok_u32(p, "destination port", UINT16_MAX, &v) || pkt_advance(p))
        return -1;
    seg->dst_port = (uint16_t)v;
    return other_protocol(p);
}

/* What follows the direction ('<' or '>'): the segment itself. */
static int parse_segment_body(pkt_parser *p, pkt_event *ev)
{
    pkt_seg *seg = &ev->u.seg;
    if (other_protocol(p))
        return -1;
    if ((pkt_tok_char(&p->tok, '(') || pkt_tok_char(&p->tok, '[')) && ip_info(p))
        return -1;
    if (parse_ports(p, seg) || parse_flags(p, &seg->flags) || parse_seq(p, seg) ||
        parse_seg_tail(p, seg))
        return -1;
    if (!seg->outbound && !seg->has_win)
        return pkt_fail(p, ev->line, "inbound segment needs 'win N' (the window it advertises)");
    uint32_t total = 40u + (seg->has_opts ? seg->opts.len : 0u) + seg->len;
    if (total > 65535u)
        return pkt_fail(p, ev->line,
                        "segment of %u bytes with headers does not fit in an IPv4 datagram (65535)",
                        (unsigned)total);
    return 0;
}

static int parse_segment(pkt_parser *p, pkt_event *ev)
{
    ev->kind = PKT_EV_SEGMENT;
    ev->u.seg.outbound = pkt_tok_char(&p->tok, '>');
    if (pkt_advance(p))
        return -1;
    return parse_segment_body(p, ev);
}

/* ---- Statements ------------------------------------------------------------------ */

static int parse_action(pkt_parser *p, pkt_event *ev)
{
    const pkt_tok *t = &p->tok;
    if (pkt_tok_char(t, '<') || pkt_tok_char(t, '>'))
        return parse_segment(p, ev);
    if (t->kind == PKT_T_WORD || t->kind == PKT_T_ELLIPSIS)
        return pkt_parse_call(p, ev);
    if (t->kind == PKT_T_BACKQ) {
        ev->kind = PKT_EV_COMMAND;
        return pkt_parse_command(p, &ev->u.cmd);
    }
    if (t->kind == PKT_T_CODE)
        return pkt_unsupported(p, t->line, "python block (%{ }%)");
    return pkt_expected(p, "a segment ('<' or '>'), a system call or a `shell command`");
}

static int check_time_use(pkt_parser *p, const pkt_event *ev)
{
    bool outbound = ev->kind == PKT_EV_SEGMENT && ev->u.seg.outbound;
    if (outbound)
        return 0;
    if (ev->time.kind == PKT_TIME_ANY)
        return pkt_fail(p, ev->line, "event time '*' can only be used with outbound segments");
    if (ev->time.kind == PKT_TIME_ABS_RANGE || ev->time.kind == PKT_TIME_REL_RANGE)
        return pkt_fail(p, ev->line, "a time range can only be used with outbound segments");
    return 0;
}

static int parse_statement(pkt_parser *p)
{
    const pkt_tok *t = &p->tok;
    if (t->kind == PKT_T_OPTION)
        return pkt_fail(p, t->line, "option --%.*s must come before the first event", (int)t->n,
                        t->p);
    if (t->kind == PKT_T_CODE)
        return pkt_unsupported(p, t->line, "python block (%{ }%)");
    pkt_event *ev = new_event(p);
    if (!ev)
        return -1;
    ev->line = t->line;
    if (t->kind == PKT_T_BACKQ) {
        /* packetdrill runs an untimed command before or after the events. */
        bool after = false;
        for (size_t i = 0; i + 1 < p->s->nev; i++)
            after |= p->s->ev[i].time.kind != PKT_TIME_NONE;
        ev->kind = PKT_EV_COMMAND;
        ev->time.kind = PKT_TIME_NONE;
        if (pkt_parse_command(p, &ev->u.cmd))
            return -1;
        if (after && p->tok.kind != PKT_T_EOF)
            return pkt_fail(p, ev->line,
                            "a shell command without a time may only open or "
                            "close the script");
        return 0;
    }
    if (t->kind != PKT_T_INT && t->kind != PKT_T_FLOAT && !pkt_tok_char(t, '+') &&
        !pkt_tok_char(t, '*'))
        return pkt_expected(p, "a time (0.1, +0.1, * or a~b) starting an event");
    if (parse_time(p, &ev->time) || parse_action(p, ev))
        return -1;
    return check_time_use(p, ev);
}

static int parse_options(pkt_parser *p)
{
    while (p->tok.kind == PKT_T_OPTION) {
        pkt_script *s = p->s;
        pkt_option *q = grow(s->opt, &s->cap_opt, s->nopt, sizeof *q);
        if (!q)
            return pkt_fail(p, p->tok.line, "out of memory");
        s->opt = q;
        pkt_option *o = &q[s->nopt++];
        o->line = p->tok.line;
        o->name = pkt_strdup(p, p->tok.p, p->tok.n);
        o->value = pkt_strdup(p, p->tok.val, p->tok.val_n);
        if (!o->name || !o->value || pkt_check_option(p, o) || pkt_advance(p))
            return -1;
    }
    return 0;
}

static int parse_script(pkt_parser *p)
{
    if (parse_options(p))
        return -1;
    while (p->tok.kind != PKT_T_EOF)
        if (parse_statement(p))
            return -1;
    return 0;
}

/* ---- One segment on its own --------------------------------------------------------- */

static bool starts_time(const pkt_tok *t)
{
    return t->kind == PKT_T_INT || t->kind == PKT_T_FLOAT || pkt_tok_char(t, '+') ||
           pkt_tok_char(t, '*');
}

/* [time] ['<' | '>'] segment, then the end of the text. */
static int parse_seg_line(pkt_parser *p, bool outbound, pkt_event *ev)
{
    ev->kind = PKT_EV_SEGMENT;
    ev->line = p->tok.line;
    ev->time.kind = PKT_TIME_NONE;
    if (starts_time(&p->tok) && parse_time(p, &ev->time))
        return -1;
    ev->u.seg.outbound = outbound;
    if (pkt_tok_char(&p->tok, '<') || pkt_tok_char(&p->tok, '>')) {
        if (pkt_tok_char(&p->tok, '>') != outbound)
            return pkt_fail(p, p->tok.line, "expected a segment %s ('%c'), got '%c'",
                            outbound ? "the stack sends" : "to send", outbound ? '>' : '<',
                            outbound ? '<' : '>');
        if (pkt_advance(p))
            return -1;
    }
    if (parse_segment_body(p, ev) || check_time_use(p, ev))
        return -1;
    if (p->tok.kind != PKT_T_EOF)
        return pkt_expected(p, "the end of the segment");
    return 0;
}

pkt_status pkt_seg_parse_line(const char *text, bool outbound, pkt_time *time, pkt_seg *out,
                              char *msg, size_t msg_len)
{
    pkt_parser p;
    pkt_script s;
    pkt_event ev;
    memset(&p, 0, sizeof p);
    memset(&s, 0, sizeof s); /* an empty arena: a segment stores no string */
    memset(&ev, 0, sizeof ev);
    p.s = &s;
    if (pkt_lex_init(&p, text, strlen(text)) == 0)
        parse_seg_line(&p, outbound, &ev);
    if (msg_len)
        snprintf(msg, msg_len, "%s", p.status == PKT_OK ? "" : p.msg);
    if (p.status == PKT_OK) {
        *time = ev.time;
        *out = ev.u.seg;
    }
    return p.status;
}

/* ---- Public ---------------------------------------------------------------------- */

pkt_script *pkt_parse(const char *file, const char *text, size_t len, pkt_status *status, char *msg,
                      size_t msg_len)
{
    pkt_parser p;
    memset(&p, 0, sizeof p);
    p.file = file ? file : "script";
    pkt_script *s = calloc(1, sizeof *s);
    if (s) {
        s->arena_cap =
            4 * len + 64; /* strings are spans of the input, each copied at most 3 times */
        s->arena = malloc(s->arena_cap);
    }
    if (!s || !s->arena) {
        pkt_script_free(s);
        *status = PKT_ERROR;
        snprintf(msg, msg_len, "out of memory");
        return NULL;
    }
    p.s = s;
    if (pkt_lex_init(&p, text, len) == 0)
        parse_script(&p);
    *status = p.status;
    if (msg_len)
        snprintf(msg, msg_len, "%s", p.status == PKT_OK ? "" : p.msg);
    if (p.status != PKT_OK) {
        pkt_script_free(s);
        return NULL;
    }
    return s;
}

/* A script file larger than this is refused ("cannot read"). */
#define PKT_FILE_MAX ((size_t)64 << 20)

pkt_script *pkt_parse_file(const char *path, pkt_status *status, char *msg, size_t msg_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (f) {
        do {
            if (len == cap && cap >= PKT_FILE_MAX)
                break;
            char *q = grow(buf, &cap, len, 1);
            if (!q)
                break;
            buf = q;
            n = fread(buf + len, 1, cap - len, f);
            len += n;
        } while (n > 0);
    }
    if (!f || ferror(f) || len == cap) {
        if (f)
            fclose(f);
        free(buf);
        *status = PKT_ERROR;
        snprintf(msg, msg_len, "%s: cannot read", path);
        return NULL;
    }
    fclose(f);
    pkt_script *s = pkt_parse(path, buf, len, status, msg, msg_len);
    free(buf);
    return s;
}

void pkt_script_free(pkt_script *s)
{
    if (!s)
        return;
    free(s->arena);
    free(s->ev);
    free(s->ex);
    free(s->opt);
    free(s->set);
    free(s);
}

size_t pkt_script_events(const pkt_script *s)
{
    return s->nev;
}

const pkt_event *pkt_script_event(const pkt_script *s, size_t i)
{
    return i < s->nev ? &s->ev[i] : NULL;
}

const pkt_expr *pkt_script_expr(const pkt_script *s, uint32_t index)
{
    return index < s->nex ? &s->ex[index] : NULL;
}

size_t pkt_script_options(const pkt_script *s)
{
    return s->nopt;
}

const pkt_option *pkt_script_option(const pkt_script *s, size_t i)
{
    return i < s->nopt ? &s->opt[i] : NULL;
}

const pkt_setting *pkt_script_setting(const pkt_script *s, uint32_t index)
{
    return index < s->nset ? &s->set[index] : NULL;
}
