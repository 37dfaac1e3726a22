/*
 * pkt_lex — packetdrill's tokens: numbers, words, "strings", `commands`,
 * %{ code }%, "...", --options and single characters; // and C comments
 * skipped; newlines are only counted (a statement may span lines). Every
 * token carries the line it starts on. Nothing is copied: tokens are spans
 * of the source.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pkt_internal.h"

int pkt_lex_init(pkt_parser *p, const char *src, size_t len)
{
    p->src = p->cur = src;
    p->end = src + len;
    p->line = 1;
    p->has_la = false;
    memset(&p->tok, 0, sizeof p->tok);
    return pkt_advance(p);
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static bool at(const pkt_parser *p, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(p->end - p->cur) >= n && !memcmp(p->cur, s, n);
}

static bool digit_at(const pkt_parser *p, const char *q)
{
    return q < p->end && isdigit((unsigned char)*q);
}

/* Skips blanks and comments. -1 on an unterminated C comment. */
static int skip_space(pkt_parser *p)
{
    for (;;) {
        if (p->cur >= p->end)
            return 0;
        if (*p->cur == '\n') {
            p->line++;
            p->cur++;
        } else if (isspace((unsigned char)*p->cur)) {
            p->cur++;
        } else if (at(p, "//")) {
            while (p->cur < p->end && *p->cur != '\n')
                p->cur++;
        } else if (at(p, "/*")) {
            uint32_t line = p->line;
            for (p->cur += 2; p->cur < p->end && !at(p, "*/"); p->cur++)
                p->line += *p->cur == '\n';
            if (p->cur >= p->end)
                return pkt_fail(p, line, "unterminated comment: expected '*/'");
            p->cur += 2;
        } else {
            return 0;
        }
    }
}

/* A delimited token: `...`, "..." or %{...}%. The span is the inside. */
static int lex_delimited(pkt_parser *p, pkt_tok *t, pkt_tok_kind kind, const char *open,
                         const char *close, bool escapes)
{
    t->kind = kind;
    p->cur += strlen(open);
    t->p = p->cur;
    while (p->cur < p->end && !at(p, close)) {
        if (escapes && *p->cur == '\\' && p->cur + 1 < p->end)
            p->cur++;
        p->line += *p->cur == '\n';
        p->cur++;
    }
    if (p->cur >= p->end)
        return pkt_fail(p, t->line, "unterminated %s: expected '%s'",
                        kind == PKT_T_STRING  ? "string"
                        : kind == PKT_T_BACKQ ? "shell command"
                                              : "code block",
                        close);
    t->n = (uint32_t)(p->cur - t->p);
    p->cur += strlen(close);
    return 0;
}

/* Counts "a.b.c.d" after the first run of digits; true for an IPv4 address. */
static bool ipv4_ahead(const pkt_parser *p, const char *q)
{
    int dots = 0;
    while (dots < 3 && q < p->end && *q == '.' && digit_at(p, q + 1)) {
        q++;
        while (digit_at(p, q))
            q++;
        dots++;
    }
    return dots == 3;
}

static void lex_number(pkt_parser *p, pkt_tok *t)
{
    const char *q = p->cur;
    if (*q == '-')
        q++;
    if (q + 1 < p->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && q == p->cur &&
        q + 2 < p->end && isxdigit((unsigned char)q[2])) {
        for (q += 2; q < p->end && isxdigit((unsigned char)*q);)
            q++;
        t->kind = PKT_T_HEX;
    } else {
        while (digit_at(p, q))
            q++;
        t->kind = PKT_T_INT;
        if (*p->cur != '-' && ipv4_ahead(p, q)) {
            t->kind = PKT_T_IPV4;
            for (int dots = 0; dots < 3; dots++)
                for (q++; digit_at(p, q);)
                    q++;
        } else if (q < p->end && *q == '.' && digit_at(p, q + 1)) {
            t->kind = PKT_T_FLOAT;
            for (q++; digit_at(p, q);)
                q++;
        }
    }
    if (t->kind != PKT_T_FLOAT && t->kind != PKT_T_IPV4 && *p->cur != '-') {
        bool word = false;
        while (q < p->end && is_word_char(*q))
            q++, word = true;
        if (word)
            t->kind = PKT_T_WORD; /* "1a", "0xfg" */
    }
    t->p = p->cur;
    t->n = (uint32_t)(q - p->cur);
    p->cur = q;
}

static void lex_option(pkt_parser *p, pkt_tok *t)
{
    t->kind = PKT_T_OPTION;
    p->cur += 2;
    t->p = p->cur;
    while (p->cur < p->end && is_word_char(*p->cur))
        p->cur++;
    t->n = (uint32_t)(p->cur - t->p);
    t->val = p->cur;
    t->val_n = 0;
    if (p->cur < p->end && *p->cur == '=') {
        t->val = ++p->cur;
        while (p->cur < p->end && !isspace((unsigned char)*p->cur))
            p->cur++;
        t->val_n = (uint32_t)(p->cur - t->val);
    }
}

static int lex(pkt_parser *p, pkt_tok *t)
{
    memset(t, 0, sizeof *t);
    if (skip_space(p))
        return -1;
    t->line = p->line;
    t->p = p->cur;
    if (p->cur >= p->end) {
        t->kind = PKT_T_EOF;
        return 0;
    }
    char c = *p->cur;
    if (at(p, "%{"))
        return lex_delimited(p, t, PKT_T_CODE, "%{", "}%", false);
    if (c == '`')
        return lex_delimited(p, t, PKT_T_BACKQ, "`", "`", true);
    if (c == '"')
        return lex_delimited(p, t, PKT_T_STRING, "\"", "\"", true);
    if (at(p, "...")) {
        t->kind = PKT_T_ELLIPSIS;
        t->n = 3;
        p->cur += 3;
    } else if (at(p, "--") && p->cur + 2 < p->end && is_word_char(p->cur[2])) {
        lex_option(p, t);
    } else if (isdigit((unsigned char)c) || (c == '-' && digit_at(p, p->cur + 1)) ||
               (c == '.' && digit_at(p, p->cur + 1))) {
        lex_number(p, t);
    } else if (isalpha((unsigned char)c) || c == '_') {
        t->kind = PKT_T_WORD;
        while (p->cur < p->end && is_word_char(*p->cur))
            p->cur++;
        t->n = (uint32_t)(p->cur - t->p);
    } else {
        t->kind = PKT_T_CHAR;
        t->c = c;
        t->n = 1;
        p->cur++;
    }
    return 0;
}

int pkt_advance(pkt_parser *p)
{
    p->prev_line = p->tok.line;
    if (p->has_la) {
        p->tok = p->la;
        p->has_la = false;
        return 0;
    }
    return lex(p, &p->tok);
}

int pkt_peek(pkt_parser *p, const pkt_tok **la)
{
    if (!p->has_la) {
        if (lex(p, &p->la))
            return -1;
        p->has_la = true;
    }
    *la = &p->la;
    return 0;
}

bool pkt_tok_is(const pkt_tok *t, const char *word)
{
    return t->kind == PKT_T_WORD && strlen(word) == t->n && !memcmp(t->p, word, t->n);
}

bool pkt_tok_char(const pkt_tok *t, char c)
{
    return t->kind == PKT_T_CHAR && t->c == c;
}

const char *pkt_tok_show(const pkt_tok *t, char *buf, size_t len)
{
    switch (t->kind) {
    case PKT_T_EOF:
        snprintf(buf, len, "end of file");
        break;
    case PKT_T_STRING:
        snprintf(buf, len, "\"%.*s\"", (int)(t->n > 40 ? 40 : t->n), t->p);
        break;
    case PKT_T_BACKQ:
        snprintf(buf, len, "a shell command");
        break;
    case PKT_T_CODE:
        snprintf(buf, len, "a code block");
        break;
    case PKT_T_OPTION:
        snprintf(buf, len, "'--%.*s'", (int)t->n, t->p);
        break;
    default:
        snprintf(buf, len, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
        break;
    }
    return buf;
}

/* ---- Messages ----------------------------------------------------------- */

/* A message is one line: control characters quoted from the input become '?'. */
static void one_line(char *msg)
{
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = '?';
}

int pkt_fail(pkt_parser *p, uint32_t line, const char *fmt, ...)
{
    if (p->status != PKT_OK)
        return -1;
    char text[PKT_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    p->status = PKT_ERROR;
    if (p->file)
        snprintf(p->msg, sizeof p->msg, "%.200s:%u: %s", p->file, (unsigned)line, text);
    else
        snprintf(p->msg, sizeof p->msg, "%s", text);
    one_line(p->msg);
    return -1;
}

int pkt_expected(pkt_parser *p, const char *what)
{
    char got[64];
    /* Running out of input is reported where the statement was. */
    uint32_t line = p->tok.kind == PKT_T_EOF && p->prev_line ? p->prev_line : p->tok.line;
    return pkt_fail(p, line, "expected %s, got %s", what, pkt_tok_show(&p->tok, got, sizeof got));
}

int pkt_unsupported(pkt_parser *p, uint32_t line, const char *what)
{
    if (p->status != PKT_OK)
        return -1;
    p->status = PKT_UNSUPPORTED;
    if (p->file)
        snprintf(p->msg, sizeof p->msg, "unsupported: %.200s at %.200s:%u", what, p->file,
                 (unsigned)line);
    else
        snprintf(p->msg, sizeof p->msg, "unsupported: %s", what);
    one_line(p->msg);
    return -1;
}

/* ---- Numbers ------------------------------------------------------------ */

int pkt_tok_i64(pkt_parser *p, int64_t *out)
{
    const pkt_tok *t = &p->tok;
    uint64_t v = 0;
    uint32_t i = 0;
    bool neg = false;
    if (t->kind == PKT_T_HEX) {
        for (i = 2; i < t->n; i++) {
            int d = isdigit((unsigned char)t->p[i]) ? t->p[i] - '0'
                                                    : tolower((unsigned char)t->p[i]) - 'a' + 10;
            if (v > (UINT64_MAX >> 4))
                return pkt_fail(p, t->line, "number %.*s out of range", (int)t->n, t->p);
            v = v << 4 | (uint64_t)d;
        }
    } else if (t->kind == PKT_T_INT) {
        neg = t->p[0] == '-';
        for (i = neg; i < t->n; i++) {
            if (v > (UINT64_MAX - 9) / 10)
                return pkt_fail(p, t->line, "number %.*s out of range", (int)t->n, t->p);
            v = v * 10 + (uint64_t)(t->p[i] - '0');
        }
    } else {
        return pkt_expected(p, "a number");
    }
    if (v > (uint64_t)INT64_MAX)
        return pkt_fail(p, t->line, "number %.*s out of range", (int)t->n, t->p);
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int pkt_tok_u32(pkt_parser *p, const char *what, uint32_t max, uint32_t *out)
{
    int64_t v;
    if (p->tok.kind != PKT_T_INT && p->tok.kind != PKT_T_HEX) {
        char buf[80];
        snprintf(buf, sizeof buf, "%s (a number)", what);
        return pkt_expected(p, buf);
    }
    if (pkt_tok_i64(p, &v))
        return -1;
    if (v < 0 || (uint64_t)v > max)
        return pkt_fail(p, p->tok.line, "%s %lld out of range (0..%lu)", what, (long long)v,
                        (unsigned long)max);
    *out = (uint32_t)v;
    return 0;
}
