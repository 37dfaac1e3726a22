/*
 * tcp_check — the stack's invariants, checked after every event.
 *
 * When checking is on, every connection an entry point touched (a segment
 * arriving, a timer firing, a user call) is checked before the entry point
 * returns, and every transition is checked as it happens. The invariants:
 *
 *  1. SEQ_ORDER      SND.UNA <= SND.NXT <= SND.MAX (modulo 2^32).
 *  2. PENDING_TIMER  a connection with unacknowledged or unsent data, or a
 *                    FIN still to send or to be acknowledged, has its
 *                    retransmission or persist timer armed.
 *  3. STUCK          a connection outside CLOSED has a timer armed, or a user
 *                    call can still move it on (its owner can close an
 *                    ESTABLISHED, CLOSE_WAIT or LISTEN connection); an
 *                    orphan in FIN_WAIT_2 waits for the peer's FIN without a
 *                    timer only in a profile with no FIN_WAIT_2 timeout
 *                    (RFC 9293 has none).
 *  4. TIME_WAIT      in TIME_WAIT only the TIME_WAIT timer is armed (RFC 9293
 *                    §3.10.7.4 "turn off the other timers"), due no later than
 *                    the profile's TIME_WAIT length from now; it is started
 *                    afresh only on entry, by a retransmitted FIN, or, in a
 *                    profile that restarts on ACKs, by an ACK-bearing segment.
 *  5. EDGE           each transition is an edge of RFC 9293's diagram (§3.3.2
 *                    plus the §3.10 edges to CLOSED) with a cause that edge
 *                    allows, and, where profiles differ, allowed by the
 *                    profile: FIN_WAIT_2 -> CLOSED on a timer needs a
 *                    FIN_WAIT_2 timeout or keepalive; TIME_WAIT -> CLOSED on
 *                    an RST needs the profile to accept RSTs there, on a SYN
 *                    needs it to reopen on a newer SYN.
 *  6. SACK           the SACK blocks a receiver keeps (RFC 2018 §4): none
 *                    unless SACK was agreed, at most TCP_SACK_BLOCKS kept and
 *                    no more carried than the option has room for (3
 *                    beside timestamps, 4 without: §3); each block
 *                    non-empty, above RCV.NXT, within the right edge of
 *                    the window offered, inside a range held out of order
 *                    and disjoint from the others; the first holds the
 *                    segment last held out of order while that lies above
 *                    RCV.NXT ("the first SACK block ... MUST specify the
 *                    contiguous block of data containing the segment which
 *                    triggered this ACK").
 *
 * A violation is reported once per stack (the first one), to the function
 * given to tcp_check_enable; with no function the report is printed on
 * stderr and the process aborts, like a failed assertion. Checking is on by
 * default in debug builds (TCP_CHECK_DEFAULT_ON), off otherwise.
 */
#ifndef TCP_CHECK_H
#define TCP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

typedef enum tcp_check_inv {
    TCP_CHECK_SEQ_ORDER,
    TCP_CHECK_PENDING_TIMER,
    TCP_CHECK_STUCK,
    TCP_CHECK_TIME_WAIT,
    TCP_CHECK_EDGE,
    TCP_CHECK_SACK,
    TCP_CHECK_INV_COUNT
} tcp_check_inv;

/* What broke, where, and after which event. */
typedef struct tcp_check_report {
    tcp_check_inv inv;
    uint64_t time_ns;
    tcp_sock_id sock;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    tcp_state state; /* EDGE: the state the transition went to */
    tcp_state from;  /* EDGE: the state it left; otherwise == state */
    char detail[224];
    char event[128]; /* "segment ACK seq=1 ack=2 len=0", "timer RTX", "user close" */
} tcp_check_report;

typedef void (*tcp_check_fn)(void *ctx, const tcp_check_report *r);

/* "SEQ_ORDER", "PENDING_TIMER", ... ; "?" if out of range. */
const char *tcp_check_name(tcp_check_inv inv);
/* One line: "TIME_WAIT violated by sock 3 10.0.0.1:80>10.0.0.2:49152 in
 * TIME_WAIT at t=...ns after segment ...: detail". Returns snprintf's
 * count. */
int tcp_check_format(const tcp_check_report *r, char *buf, size_t len);
/* Turns checking on or off for s; fn (may be NULL: print and abort) gets
 * the first violation. Its state is allocated the first time it is turned
 * on: 0, or TCP_ENOMEM with checking left as it was. */
int tcp_check_enable(tcp_stack *s, bool on, tcp_check_fn fn, void *ctx);
bool tcp_check_enabled(const tcp_stack *s);
/* True in builds where checking is on by default (debug builds). */
bool tcp_check_default(void);

#endif
