/*
 * pkt — packetdrill scripts (the TCP/IPv4 part of the format) parsed into a
 * checked representation, and segments formatted back in the same notation.
 *
 * Promises:
 *  - pkt_parse never trusts its input: every script either parses into
 *    events whose fields are all in range, or fails with exactly one message
 *    naming FILE:LINE. A construct of the format that tcpsim does not run
 *    (python blocks, other shell commands, IPv6, UDP, ICMP, Fast Open, MD5,
 *    ECN...) is PKT_UNSUPPORTED with "unsupported: <what> at FILE:LINE",
 *    never skipped.
 *  - Times are integer nanoseconds, parsed digit by digit; nothing here uses
 *    floating point, the clock or the environment.
 *  - A script owns all its memory; pkt_script_free releases it. Nothing is
 *    allocated after pkt_parse returns, so event pointers stay valid.
 * Knows no simulator and no Lua; uses stack/tcp_wire.h for the flag bits.
 */
#ifndef PKT_H
#define PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_PAYLOAD_MAX                                                                            \
    65495u /* data in one segment: an IPv4 datagram holds 65535 bytes, 40 of them headers */
#define PKT_OPT_BYTES 40u  /* TCP option space */
#define PKT_SACK_MAX  4u   /* SACK blocks that fit in the option space */
#define PKT_MSG_MAX   512u /* room for any parse message */

typedef enum pkt_status {
    PKT_OK = 0,
    PKT_ERROR = 1,      /* malformed: "FILE:LINE: expected ..., got ..." */
    PKT_UNSUPPORTED = 2 /* "unsupported: <what> at FILE:LINE" */
} pkt_status;

/* ---- Times ------------------------------------------------------------ */

typedef enum pkt_time_kind {
    PKT_TIME_NONE,      /* a shell command before the first or after the last event */
    PKT_TIME_ABS,       /* "0.100": start_ns after the script start */
    PKT_TIME_REL,       /* "+0.1": start_ns after the previous event */
    PKT_TIME_ANY,       /* "*": any time (outbound segments only) */
    PKT_TIME_ABS_RANGE, /* "0.1~0.3" (outbound segments only) */
    PKT_TIME_REL_RANGE  /* "+0.1~+0.3" (outbound segments only) */
} pkt_time_kind;

typedef struct pkt_time {
    pkt_time_kind kind;
    uint64_t start_ns, end_ns; /* end_ns only for ranges */
} pkt_time;

/* ---- TCP options -------------------------------------------------------- */

/* Options as they are on the wire (order and padding kept), or "<...>". */
typedef struct pkt_opts {
    bool any;    /* "<...>": not checked (outbound only) */
    uint8_t len; /* bytes used in `bytes`, a multiple of 4 when parsed */
    uint8_t bytes[PKT_OPT_BYTES];
} pkt_opts;

/* The same options as a table, the way a C or Lua caller describes them. */
typedef struct pkt_opt_table {
    bool has_mss, has_wscale, sack_perm, has_ts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;
    uint32_t sack[PKT_SACK_MAX][2]; /* left, right */
} pkt_opt_table;

/* Parses the text between '<' and '>' ("mss 1460,sackOK,nop,wscale 7"; "..." for
 * any). Returns 0, or -1 with a message in err ("expected ... at '...'"). */
int pkt_opts_parse(const char *text, pkt_opts *out, char *err, size_t err_len);
/* Length of the TCP option at b[0..left) (left >= 1), or 0 if it is
 * malformed: a length byte past `left`, or a length that does not fit the
 * kind (MSS 4, window scale 3, SACK-permitted 2, timestamps 10, SACK 2 + 8n). */
size_t pkt_opt_len(const uint8_t *b, size_t left);
/* Formats opts without the brackets, in packetdrill's notation. Returns buf. */
char *pkt_opts_format(const pkt_opts *opts, char *buf, size_t buf_len);
/* Checks raw option bytes (as received) and copies them. -1 if malformed. */
int pkt_opts_from_wire(const uint8_t *bytes, size_t len, pkt_opts *out);
/* Encodes a table in Linux's layout (tcp_options_write): mss, then
 * "sackOK,TS" or "nop,nop,TS" or "nop,nop,sackOK", "nop,wscale",
 * "nop,nop,sack ...". -1 if it does not fit in 40 bytes. */
int pkt_opts_from_table(const pkt_opt_table *t, pkt_opts *out);
/* Decodes opts into a table; -1 if malformed or "<...>". */
int pkt_opts_to_table(const pkt_opts *opts, pkt_opt_table *t);

/* ---- Segments ---------------------------------------------------------- */

typedef struct pkt_seg {
    bool outbound;               /* '>' sent by the stack under test; '<' injected */
    uint8_t flags;               /* TCP_SYN | TCP_ACK ... (tcp_wire.h) */
    uint16_t src_port, dst_port; /* 0: the script's default ports */
    uint32_t seq, len;           /* "seq:seq+len(len)" */
    uint32_t ack;                /* meaningful when flags has TCP_ACK */
    bool has_win;                /* inbound segments always have one */
    uint16_t win;
    uint16_t urg;
    bool has_opts; /* false: no "<...>" written (no options) */
    pkt_opts opts; /* when has_opts */
} pkt_seg;

/* One segment on its own, as a scenario writes it: "[time] [<|>] segment"
 * ("+0.1 S. 0:0(0) ack 1 win 65535 <mss 1460>"; without a time,
 * time->kind is PKT_TIME_NONE). `outbound` says which side it is: a
 * direction written must agree, and "*" and ranges, as in scripts, are for
 * outbound segments only; an inbound one needs "win N". Returns PKT_OK, or
 * the status with one line in msg (no file or line: the caller knows
 * where the text came from). */
pkt_status pkt_seg_parse_line(const char *text, bool outbound, pkt_time *time, pkt_seg *out,
                              char *msg, size_t msg_len);

/* Compares a segment received with the one expected, as packetdrill does
 * (flags with PSH, seq, length, ack when the ACK flag is set, win when
 * expected->has_win, urg, options kind by kind with values, a timestamp's
 * values excepted, none checked for "<...>"). Sequence numbers must be in
 * one space already. Returns NULL when they agree, else the first field
 * that differs ("flags", "seq", "length", "ack", "win", "urg", "options"). */
const char *pkt_seg_mismatch(const pkt_seg *expected, const pkt_seg *got);

struct tcp_seg;
/* Reads an IPv4 datagram carrying TCP: *seg as stack/tcp_wire.h parses it
 * and *out in the notation's fields (outbound, numbers as on the wire,
 * options from its own bytes). Returns 0, or -1 if it is malformed. */
int pkt_seg_from_dgram(const uint8_t *dgram, size_t len, struct tcp_seg *seg, pkt_seg *out);

/* "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>": flags in
 * packetdrill's order (F S R P . U), "ack" iff the ACK flag, "win" if set,
 * options if any. Returns buf. */
char *pkt_seg_format(const pkt_seg *seg, char *buf, size_t buf_len);
/* "S." for SYN|ACK, "-" for none. Returns buf (at least 8 bytes). */
char *pkt_flags_format(uint8_t flags, char *buf, size_t buf_len);

/* ---- System calls --------------------------------------------------------- */

typedef enum pkt_expr_kind {
    PKT_EXPR_ELLIPSIS, /* ... */
    PKT_EXPR_INT,      /* 3, -1, 0x10 */
    PKT_EXPR_WORD,     /* SOCK_STREAM: a known symbol, value in num */
    PKT_EXPR_STRING,   /* "text" (without the quotes, escapes kept) */
    PKT_EXPR_LIST,     /* [1] or [] */
    PKT_EXPR_STRUCT,   /* {onoff=1, linger=0} */
    PKT_EXPR_FIELD,    /* name=value inside a struct; child is the value */
    PKT_EXPR_CALL,     /* htons(8080), inet_addr("192.0.2.1") */
    PKT_EXPR_OR        /* a|b; children are the operands */
} pkt_expr_kind;

/* Expressions form a tree by index into the script's expression array:
 * `child` is the first child, `next` the next sibling, PKT_NONE for none. */
#define PKT_NONE UINT32_MAX
typedef struct pkt_expr {
    pkt_expr_kind kind;
    int64_t num;      /* INT, and WORD's value when it names a constant */
    const char *text; /* WORD, STRING, FIELD and CALL names */
    uint32_t child, next;
} pkt_expr;

typedef struct pkt_call {
    const char *name;       /* "connect" */
    uint32_t args;          /* first argument (a pkt_expr index) or PKT_NONE */
    bool blocking;          /* "...END name(...)" */
    pkt_time end;           /* when blocking: returns at end.start_ns, ABS or REL as the start */
    uint32_t result;        /* pkt_expr index */
    const char *errno_name; /* "EINPROGRESS" or NULL */
    int errno_value;        /* Linux's number for errno_name */
} pkt_call;

/* Linux's number for an errno name ("ECONNRESET" -> 104), -1 if unknown;
 * and the first name for a number (NULL if none). */
int pkt_errno_value(const char *name);
const char *pkt_errno_name(int value);

/* ---- Shell lines ------------------------------------------------------------ */

/* One setting a shell line makes: a sysctl below net.ipv4 ("tcp_syn_retries"
 * = "5"), or a named default of packetdrill's defaults.sh. */
typedef struct pkt_setting {
    const char *name;  /* "tcp_syn_retries", or a defaults.sh step ("tcp_metrics_flush") */
    const char *value; /* "5", "4096 540000 15728640", "cubic" */
    bool from_defaults;
} pkt_setting;

typedef struct pkt_cmd {
    const char *text;      /* the command as written between the backticks */
    uint32_t first, count; /* settings (pkt_script_setting) it makes */
} pkt_cmd;

/* A default of packetdrill's public gtests/net/common/defaults.sh and what it
 * means for tcpsim: the profile knob that carries it (NULL if none exists
 * today) and why it matters or does not. */
typedef struct pkt_default {
    const char *name, *value;
    const char *knob; /* tcp_profile field, or NULL */
    const char *note;
} pkt_default;
/* The defaults in the order defaults.sh applies them; *count set. */
const pkt_default *pkt_defaults(size_t *count);
/* The tcp_profile field a net.ipv4 sysctl maps to, NULL if none exists. */
const char *pkt_sysctl_knob(const char *name);

/* ---- Scripts -------------------------------------------------------------------- */

typedef enum pkt_event_kind { PKT_EV_SEGMENT, PKT_EV_CALL, PKT_EV_COMMAND } pkt_event_kind;

typedef struct pkt_event {
    pkt_event_kind kind;
    uint32_t line; /* where the event starts */
    pkt_time time;
    union {
        pkt_seg seg;
        pkt_call call;
        pkt_cmd cmd;
    } u;
} pkt_event;

/* A "--name=value" line at the top of a script. */
typedef struct pkt_option {
    const char *name, *value; /* value "" when none */
    uint32_t line;
} pkt_option;

typedef struct pkt_script pkt_script;

/* Parses `len` bytes of `text`; `file` names it in messages. Returns the
 * script, or NULL with *status PKT_ERROR / PKT_UNSUPPORTED and one line in
 * msg (no trailing newline). NULL with PKT_ERROR and "out of memory" if an
 * allocation fails. */
pkt_script *pkt_parse(const char *file, const char *text, size_t len, pkt_status *status, char *msg,
                      size_t msg_len);
/* Reads and parses a file; a read failure is PKT_ERROR "FILE: cannot read". */
pkt_script *pkt_parse_file(const char *path, pkt_status *status, char *msg, size_t msg_len);
void pkt_script_free(pkt_script *s);

size_t pkt_script_events(const pkt_script *s);
const pkt_event *pkt_script_event(const pkt_script *s, size_t i);
const pkt_expr *pkt_script_expr(const pkt_script *s, uint32_t index);
size_t pkt_script_options(const pkt_script *s);
const pkt_option *pkt_script_option(const pkt_script *s, size_t i);
const pkt_setting *pkt_script_setting(const pkt_script *s, uint32_t index);

#endif
