/*
 * pkt_call — system call events: "[...END] name(args) = result [ERRNO (text)]
 * [(note)]", their argument expressions, and the symbols and errno names a
 * TCP/IPv4 script may use, with Linux's values (include/uapi headers, x86-64
 * and the generic ABI). A call or symbol outside that set is PKT_UNSUPPORTED
 * naming it, so a script never reaches a runner with a name it cannot mean.
 */
#include <stdio.h>
#include <string.h>

#include "pkt_internal.h"

/* The calls issue 12 asks for, nothing else. */
static const char *const CALLS[] = {
    "socket", "bind",     "listen", "accept",   "connect",    "read",       "write", "send", "recv",
    "sendto", "recvfrom", "close",  "shutdown", "setsockopt", "getsockopt", "fcntl", "ioctl"};

typedef struct sym {
    const char *name;
    int64_t value;
} sym;

static const sym SYMBOLS[] = {
    {"AF_INET", 2},           {"PF_INET", 2},         {"SOCK_STREAM", 1},
    {"SOCK_NONBLOCK", 04000}, {"IPPROTO_TCP", 6},     {"IPPROTO_IP", 0},
    {"SOL_SOCKET", 1},        {"SOL_TCP", 6},         {"SO_REUSEADDR", 2},
    {"SO_ERROR", 4},          {"SO_SNDBUF", 7},       {"SO_RCVBUF", 8},
    {"SO_KEEPALIVE", 9},      {"SO_LINGER", 13},      {"SO_REUSEPORT", 15},
    {"TCP_NODELAY", 1},       {"TCP_MAXSEG", 2},      {"TCP_CORK", 3},
    {"TCP_KEEPIDLE", 4},      {"TCP_KEEPINTVL", 5},   {"TCP_KEEPCNT", 6},
    {"TCP_SYNCNT", 7},        {"TCP_LINGER2", 8},     {"TCP_DEFER_ACCEPT", 9},
    {"TCP_INFO", 11},         {"TCP_QUICKACK", 12},   {"TCP_USER_TIMEOUT", 18},
    {"F_GETFL", 3},           {"F_SETFL", 4},         {"O_RDWR", 2},
    {"O_NONBLOCK", 04000},    {"SHUT_RD", 0},         {"SHUT_WR", 1},
    {"SHUT_RDWR", 2},         {"SIOCINQ", 0x541B},    {"FIONREAD", 0x541B},
    {"SIOCOUTQ", 0x5411},     {"TIOCOUTQ", 0x5411},   {"SIOCOUTQNSD", 0x894B},
    {"MSG_PEEK", 0x2},        {"MSG_DONTWAIT", 0x40}, {"MSG_WAITALL", 0x100},
    {"MSG_NOSIGNAL", 0x4000}, {"MSG_MORE", 0x8000},   {"INADDR_ANY", 0},
    {"TCP_ESTABLISHED", 1},   {"TCP_SYN_SENT", 2},    {"TCP_SYN_RECV", 3},
    {"TCP_FIN_WAIT1", 4},     {"TCP_FIN_WAIT2", 5},   {"TCP_TIME_WAIT", 6},
    {"TCP_CLOSE", 7},         {"TCP_CLOSE_WAIT", 8},  {"TCP_LAST_ACK", 9},
    {"TCP_LISTEN", 10},       {"TCP_CLOSING", 11},    {"TCP_CA_Open", 0},
    {"TCP_CA_Disorder", 1},   {"TCP_CA_CWR", 2},      {"TCP_CA_Recovery", 3},
    {"TCP_CA_Loss", 4},
};

static const sym ERRNOS[] = {
    {"EPERM", 1},         {"ENOENT", 2},         {"EINTR", 4},          {"EBADF", 9},
    {"EAGAIN", 11},       {"EWOULDBLOCK", 11},   {"ENOMEM", 12},        {"EFAULT", 14},
    {"EINVAL", 22},       {"EPIPE", 32},         {"ENOTSOCK", 88},      {"EDESTADDRREQ", 89},
    {"EMSGSIZE", 90},     {"ENOPROTOOPT", 92},   {"EOPNOTSUPP", 95},    {"EAFNOSUPPORT", 97},
    {"EADDRINUSE", 98},   {"EADDRNOTAVAIL", 99}, {"ENETUNREACH", 101},  {"ECONNABORTED", 103},
    {"ECONNRESET", 104},  {"ENOBUFS", 105},      {"EISCONN", 106},      {"ENOTCONN", 107},
    {"ETIMEDOUT", 110},   {"ECONNREFUSED", 111}, {"EHOSTUNREACH", 113}, {"EALREADY", 114},
    {"EINPROGRESS", 115},
};

/* Names that take a script outside TCP/IPv4, with what to call them. */
static const struct {
    const char *name, *what;
} OUTSIDE[] = {
    {"AF_INET6", "IPv6"},
    {"PF_INET6", "IPv6"},
    {"IPPROTO_IPV6", "IPv6"},
    {"SOL_IPV6", "IPv6"},
    {"SOCK_DGRAM", "UDP"},
    {"IPPROTO_UDP", "UDP"},
    {"SOL_UDP", "UDP"},
    {"SOCK_RAW", "raw sockets"},
    {"IPPROTO_ICMP", "ICMP"},
    {"IPPROTO_ICMPV6", "ICMP"},
    {"TCP_FASTOPEN", "Fast Open"},
    {"TCP_FASTOPEN_CONNECT", "Fast Open"},
    {"TCP_FASTOPEN_KEY", "Fast Open"},
    {"TCP_FASTOPEN_NO_COOKIE", "Fast Open"},
    {"MSG_FASTOPEN", "Fast Open"},
    {"TCP_MD5SIG", "MD5 signatures"},
    {"TCP_MD5SIG_EXT", "MD5 signatures"},
    {"IPPROTO_MPTCP", "MPTCP"},
    {"IP_TOS", "IP TOS/ECN"},
    {"TCP_CONGESTION", "congestion control choice"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const sym *find(const sym *table, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].name) == len && !memcmp(table[i].name, name, len))
            return &table[i];
    return NULL;
}

/* A symbol in value position: known (value in e->num) or unsupported. */
static int check_symbol(pkt_parser *p, pkt_expr *e)
{
    const pkt_tok *t = &p->tok;
    char what[96];
    const sym *s = find(SYMBOLS, COUNT(SYMBOLS), t->p, t->n);
    if (s) {
        e->num = s->value;
        return 0;
    }
    if ((s = find(ERRNOS, COUNT(ERRNOS), t->p, t->n))) { /* [ECONNREFUSED] for SO_ERROR */
        e->num = s->value;
        return 0;
    }
    for (size_t i = 0; i < COUNT(OUTSIDE); i++)
        if (pkt_tok_is(t, OUTSIDE[i].name)) {
            snprintf(what, sizeof what, "%s (%s)", OUTSIDE[i].what, OUTSIDE[i].name);
            return pkt_unsupported(p, t->line, what);
        }
    snprintf(what, sizeof what, "symbol %.*s", (int)(t->n > 60 ? 60 : t->n), t->p);
    return pkt_unsupported(p, t->line, what);
}

static int parse_expr(pkt_parser *p, uint32_t *out);

/* Items up to `close`, separated by ','; returns the first in *first. */
static int parse_items(pkt_parser *p, char close, uint32_t *first)
{
    uint32_t prev = PKT_NONE, e;
    *first = PKT_NONE;
    while (!pkt_tok_char(&p->tok, close)) {
        if (prev != PKT_NONE) {
            if (!pkt_tok_char(&p->tok, ','))
                return pkt_expected(p, close == ')'   ? "',' or ')'"
                                       : close == ']' ? "',' or ']'"
                                                      : "',' or '}'");
            if (pkt_advance(p))
                return -1;
        }
        if (parse_expr(p, &e))
            return -1;
        if (prev == PKT_NONE)
            *first = e;
        else
            p->s->ex[prev].next = e;
        prev = e;
    }
    return pkt_advance(p);
}

/* WORD '(' args ')' inside an argument: htons(), inet_addr(). */
static int parse_fn(pkt_parser *p, pkt_expr_kind kind, uint32_t e)
{
    const pkt_tok *t = &p->tok;
    uint32_t line = t->line, first;
    char what[96];
    if (pkt_tok_is(t, "inet6_addr"))
        return pkt_unsupported(p, line, "IPv6 (inet6_addr)");
    if (!pkt_tok_is(t, "htons") && !pkt_tok_is(t, "inet_addr")) {
        snprintf(what, sizeof what, "function %.*s()", (int)(t->n > 60 ? 60 : t->n), t->p);
        return pkt_unsupported(p, line, what);
    }
    p->s->ex[e].kind = kind;
    p->s->ex[e].text = pkt_strdup(p, t->p, t->n);
    if (!p->s->ex[e].text || pkt_advance(p) || pkt_advance(p) || parse_items(p, ')', &first))
        return -1;
    p->s->ex[e].child = first;
    return 0;
}

/* A WORD: field (name=value), function call, or symbol. */
static int parse_word(pkt_parser *p, uint32_t e)
{
    const pkt_tok *la;
    uint32_t v;
    if (pkt_peek(p, &la))
        return -1;
    if (pkt_tok_char(la, '('))
        return parse_fn(p, PKT_EXPR_CALL, e);
    if (pkt_tok_char(la, '=')) {
        p->s->ex[e].kind = PKT_EXPR_FIELD;
        p->s->ex[e].text = pkt_strdup(p, p->tok.p, p->tok.n);
        if (!p->s->ex[e].text || pkt_advance(p) || pkt_advance(p) || parse_expr(p, &v))
            return -1;
        p->s->ex[e].child = v;
        return 0;
    }
    p->s->ex[e].kind = PKT_EXPR_WORD;
    p->s->ex[e].text = pkt_strdup(p, p->tok.p, p->tok.n);
    if (!p->s->ex[e].text || check_symbol(p, &p->s->ex[e]))
        return -1;
    return pkt_advance(p);
}

static int parse_string(pkt_parser *p, uint32_t e)
{
    /* Adjacent strings concatenate; "text"... means "starts with". */
    p->s->ex[e].kind = PKT_EXPR_STRING;
    p->s->ex[e].text = pkt_strdup(p, p->tok.p, p->tok.n);
    if (!p->s->ex[e].text || pkt_advance(p))
        return -1;
    while (p->tok.kind == PKT_T_STRING) {
        p->s->arena_len--; /* drop the NUL and append */
        if (!pkt_strdup(p, p->tok.p, p->tok.n) || pkt_advance(p))
            return -1;
    }
    if (p->tok.kind == PKT_T_ELLIPSIS)
        return pkt_unsupported(p, p->tok.line, "string prefix match (\"text\"...)");
    return 0;
}

static int parse_primary(pkt_parser *p, uint32_t *out)
{
    const pkt_tok *t = &p->tok;
    uint32_t e = pkt_new_expr(p, PKT_EXPR_ELLIPSIS), first;
    if (e == PKT_NONE)
        return -1;
    *out = e;
    switch (t->kind) {
    case PKT_T_ELLIPSIS:
        return pkt_advance(p);
    case PKT_T_INT:
    case PKT_T_HEX:
        p->s->ex[e].kind = PKT_EXPR_INT;
        return pkt_tok_i64(p, &p->s->ex[e].num) || pkt_advance(p);
    case PKT_T_WORD:
        return parse_word(p, e);
    case PKT_T_STRING:
        return parse_string(p, e);
    case PKT_T_CHAR:
        if (t->c == '[' || t->c == '{') {
            char close = t->c == '[' ? ']' : '}';
            p->s->ex[e].kind = t->c == '[' ? PKT_EXPR_LIST : PKT_EXPR_STRUCT;
            if (pkt_advance(p) || parse_items(p, close, &first))
                return -1;
            p->s->ex[e].child = first;
            return 0;
        }
        break;
    default:
        break;
    }
    return pkt_expected(p, "an argument (number, symbol, \"string\", [...], {...} or ...)");
}

static int parse_expr(pkt_parser *p, uint32_t *out)
{
    uint32_t first, e, prev;
    if (parse_primary(p, &first))
        return -1;
    if (!pkt_tok_char(&p->tok, '|')) {
        *out = first;
        return 0;
    }
    if ((e = pkt_new_expr(p, PKT_EXPR_OR)) == PKT_NONE)
        return -1;
    p->s->ex[e].child = prev = first;
    while (pkt_tok_char(&p->tok, '|')) {
        uint32_t next;
        if (pkt_advance(p) || parse_primary(p, &next))
            return -1;
        p->s->ex[prev].next = next;
        prev = next;
    }
    *out = e;
    return 0;
}

/* "(words of a note)"; the text is not kept. */
static int skip_note(pkt_parser *p)
{
    if (pkt_advance(p))
        return -1;
    while (!pkt_tok_char(&p->tok, ')')) {
        if (p->tok.kind == PKT_T_EOF)
            return pkt_expected(p, "')' closing the note");
        if (pkt_advance(p))
            return -1;
    }
    return pkt_advance(p);
}

static int parse_errno(pkt_parser *p, pkt_call *c)
{
    const sym *s = find(ERRNOS, COUNT(ERRNOS), p->tok.p, p->tok.n);
    if (!s)
        return pkt_expected(p, "an errno name (EAGAIN, EINPROGRESS, ECONNRESET, ...)");
    c->errno_name = s->name;
    c->errno_value = (int)s->value;
    if (pkt_advance(p))
        return -1;
    if (!pkt_tok_char(&p->tok, '('))
        return pkt_expected(p, "'(' and the error's text after the errno name");
    return skip_note(p);
}

static int parse_name(pkt_parser *p, pkt_call *c)
{
    const pkt_tok *t = &p->tok;
    char what[96];
    if (t->kind != PKT_T_WORD)
        return pkt_expected(p, "a system call name");
    for (size_t i = 0; i < COUNT(CALLS); i++)
        if (pkt_tok_is(t, CALLS[i])) {
            c->name = CALLS[i];
            return pkt_advance(p);
        }
    snprintf(what, sizeof what, "system call %.*s", (int)(t->n > 60 ? 60 : t->n), t->p);
    return pkt_unsupported(p, t->line, what);
}

int pkt_parse_call(pkt_parser *p, pkt_event *ev)
{
    pkt_call *c = &ev->u.call;
    ev->kind = PKT_EV_CALL;
    c->args = c->result = PKT_NONE;
    if (p->tok.kind == PKT_T_ELLIPSIS) {
        /* "+0.1...0.3 call": the end is on the same base as the start. */
        c->blocking = true;
        c->end.kind = ev->time.kind == PKT_TIME_REL ? PKT_TIME_REL : PKT_TIME_ABS;
        if (pkt_advance(p))
            return -1;
        if (p->tok.kind != PKT_T_INT && p->tok.kind != PKT_T_FLOAT)
            return pkt_expected(p, "the end time of a blocking call after '...'");
        if (pkt_parse_seconds(p, &c->end.start_ns))
            return -1;
        if (c->end.start_ns < ev->time.start_ns)
            return pkt_fail(p, ev->line, "blocking call ends before it starts");
    }
    if (parse_name(p, c))
        return -1;
    if (!pkt_tok_char(&p->tok, '('))
        return pkt_expected(p, "'(' and the arguments of the call");
    if (pkt_advance(p) || parse_items(p, ')', &c->args))
        return -1;
    if (!pkt_tok_char(&p->tok, '='))
        return pkt_expected(p, "'=' and the expected result");
    if (pkt_advance(p) || parse_expr(p, &c->result))
        return -1;
    if (p->tok.kind == PKT_T_WORD && parse_errno(p, c))
        return -1;
    if (pkt_tok_char(&p->tok, '('))
        return skip_note(p);
    return 0;
}

int pkt_errno_value(const char *name)
{
    const sym *s = find(ERRNOS, COUNT(ERRNOS), name, strlen(name));
    return s ? (int)s->value : -1;
}

const char *pkt_errno_name(int value)
{
    for (size_t i = 0; i < COUNT(ERRNOS); i++)
        if (ERRNOS[i].value == value)
            return ERRNOS[i].name;
    return NULL;
}
