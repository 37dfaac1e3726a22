/*
 * pkt_internal — what the parser's files share: tokens, the lexer, the
 * parser state and the script's storage. Not part of the contract.
 */
#ifndef PKT_INTERNAL_H
#define PKT_INTERNAL_H

#include "pkt.h"

typedef enum pkt_tok_kind {
    PKT_T_EOF,
    PKT_T_INT,      /* 12, -1 */
    PKT_T_HEX,      /* 0x70403 */
    PKT_T_FLOAT,    /* 0.100, .1 */
    PKT_T_IPV4,     /* 192.0.2.1 */
    PKT_T_WORD,     /* [A-Za-z_][A-Za-z0-9_]* (also digits then letters) */
    PKT_T_STRING,   /* "..." : span is the inside */
    PKT_T_BACKQ,    /* `...` : span is the inside */
    PKT_T_CODE,     /* %{ ... }% */
    PKT_T_ELLIPSIS, /* ... */
    PKT_T_OPTION,   /* --name[=value]: span is name, val/val_n the value */
    PKT_T_CHAR      /* any other single character, in c */
} pkt_tok_kind;

typedef struct pkt_tok {
    pkt_tok_kind kind;
    uint32_t line;
    const char *p; /* span in the source */
    uint32_t n;
    const char *val; /* PKT_T_OPTION value */
    uint32_t val_n;
    char c; /* PKT_T_CHAR */
} pkt_tok;

struct pkt_script {
    char *arena; /* strings; sized at parse start, never moves */
    size_t arena_len, arena_cap;
    pkt_event *ev;
    size_t nev, cap_ev;
    pkt_expr *ex;
    size_t nex, cap_ex;
    pkt_option *opt;
    size_t nopt, cap_opt;
    pkt_setting *set;
    size_t nset, cap_set;
};

typedef struct pkt_parser {
    pkt_script *s;
    const char *file; /* NULL: messages carry no location */
    const char *src, *end, *cur;
    uint32_t line;
    pkt_tok tok;        /* current token */
    uint32_t prev_line; /* where the token before it started */
    bool has_la;
    pkt_tok la; /* one token of lookahead */
    pkt_status status;
    char msg[PKT_MSG_MAX];
} pkt_parser;

/* Lexer (pkt_lex.c). Both return 0, or -1 with the parser's error set. */
int pkt_lex_init(pkt_parser *p, const char *src, size_t len);
int pkt_advance(pkt_parser *p); /* tok <- next token */
int pkt_peek(pkt_parser *p, const pkt_tok **la);
bool pkt_tok_is(const pkt_tok *t, const char *word); /* a WORD spelled so */
bool pkt_tok_char(const pkt_tok *t, char c);
/* "'S'", "end of file"... for messages. Returns buf. */
const char *pkt_tok_show(const pkt_tok *t, char *buf, size_t len);

/* Messages: each returns -1 and records the first failure only. */
int pkt_fail(pkt_parser *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pkt_expected(pkt_parser *p, const char *what); /* "expected WHAT, got 'TOK'" */
int pkt_unsupported(pkt_parser *p, uint32_t line, const char *what);

/* Numbers from the current token. -1 (error set) when out of range. */
int pkt_tok_u32(pkt_parser *p, const char *what, uint32_t max, uint32_t *out);
int pkt_tok_i64(pkt_parser *p, int64_t *out);

/* Storage (pkt_parse.c). NULL / PKT_NONE (error set) when memory runs out. */
const char *pkt_strdup(pkt_parser *p, const char *text, size_t n);
uint32_t pkt_new_expr(pkt_parser *p, pkt_expr_kind kind);
int pkt_new_setting(pkt_parser *p, const pkt_setting *set);

/* Pieces of the grammar, each starting at the current token. */
int pkt_parse_seconds(pkt_parser *p, uint64_t *ns);              /* "0.100" -> ns */
int pkt_parse_opts(pkt_parser *p, bool outbound, pkt_opts *out); /* after '<' */
int pkt_parse_call(pkt_parser *p, pkt_event *ev);                /* pkt_call.c */
int pkt_parse_command(pkt_parser *p, pkt_cmd *cmd);              /* pkt_shell.c */
int pkt_check_option(pkt_parser *p, const pkt_option *opt);      /* pkt_shell.c */

#endif
