/*
 * tcp — our TCP (RFC 9293): one stack per host address, many connections per
 * stack, no globals.
 *
 * The stack's whole view of the world is tcp_env: the current time, a source
 * of random numbers (ISNs, ephemeral ports), a way to hand an IPv4 datagram
 * to the network, and a way to report events. It never sleeps and never
 * ticks: the host asks tcp_stack_next_deadline() and calls
 * tcp_stack_on_time() when that instant arrives. The same stack runs on the
 * simulator's virtual clock or on a real-time clock.
 *
 * Rules a caller may rely on:
 *  1. env->output and env->event are called synchronously from inside stack
 *     calls; they must not call back into the same stack. (Run any reaction
 *     after the stack call returns.)
 *  2. Socket ids are never reused within a stack; 0 is never an id. A
 *     stack that gave out all 2^32 - 1 refuses new sockets (TCP_EMFILE;
 *     a SYN to a listener is then dropped, "out of socket ids").
 *  3. tcp_close and tcp_abort release the caller's hold on an id, whatever
 *     they answer (tcp_close's TCP_ENOTCONN on a deleted TCB included); the
 *     connection may live on (TIME_WAIT, FIN_WAIT_2, LAST_ACK...) as an
 *     orphan and keeps reporting events with its id until it is reclaimed.
 *     State and counters can be read while the connection exists; after it
 *     is reclaimed the state reads TCP_CLOSED and the counters NULL.
 *  4. Malformed input is counted, reported (TCP_EV_DROP with a reason) and
 *     dropped; it never reaches the state machine and never crashes it.
 */
#ifndef TCP_H
#define TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_wire.h"

/* ---- States ---------------------------------------------------------- */

/* X(enum suffix, canonical name (scenario API), RFC 9293 spelling, Linux spelling) */
#define TCP_STATES(X)                                                                              \
    X(CLOSED, "CLOSED", "CLOSED", "CLOSE")                                                         \
    X(LISTEN, "LISTEN", "LISTEN", "LISTEN")                                                        \
    X(SYN_SENT, "SYN_SENT", "SYN-SENT", "SYN_SENT")                                                \
    X(SYN_RECEIVED, "SYN_RECEIVED", "SYN-RECEIVED", "SYN_RECV")                                    \
    X(ESTABLISHED, "ESTABLISHED", "ESTABLISHED", "ESTABLISHED")                                    \
    X(FIN_WAIT_1, "FIN_WAIT_1", "FIN-WAIT-1", "FIN_WAIT1")                                         \
    X(FIN_WAIT_2, "FIN_WAIT_2", "FIN-WAIT-2", "FIN_WAIT2")                                         \
    X(CLOSE_WAIT, "CLOSE_WAIT", "CLOSE-WAIT", "CLOSE_WAIT")                                        \
    X(CLOSING, "CLOSING", "CLOSING", "CLOSING")                                                    \
    X(LAST_ACK, "LAST_ACK", "LAST-ACK", "LAST_ACK")                                                \
    X(TIME_WAIT, "TIME_WAIT", "TIME-WAIT", "TIME_WAIT")

typedef enum tcp_state {
#define TCP_X_ENUM(e, n, r, l) TCP_##e,
    TCP_STATES(TCP_X_ENUM)
#undef TCP_X_ENUM
        TCP_STATE_COUNT
} tcp_state;

const char *tcp_state_name(tcp_state s);       /* "SYN_RECEIVED" */
const char *tcp_state_rfc_name(tcp_state s);   /* "SYN-RECEIVED" */
const char *tcp_state_linux_name(tcp_state s); /* "SYN_RECV" */
/* Accepts any of the three spellings, case-sensitive; -1 if unknown. */
int tcp_state_parse(const char *name, tcp_state *out);

/* ---- Errors ---------------------------------------------------------- */

typedef enum tcp_err {
    TCP_OK = 0,
    TCP_EINVAL = -1,       /* bad argument or wrong state for the call */
    TCP_EBADF = -2,        /* no such socket, or the caller released it */
    TCP_EADDRINUSE = -3,   /* port or 4-tuple already in use */
    TCP_EAGAIN = -4,       /* nothing to accept / receive / no send-buffer room now */
    TCP_ENOTCONN = -5,     /* not connected yet */
    TCP_EPIPE = -6,        /* sending after shutdown (RFC 9293: "connection closing") */
    TCP_ECONNREFUSED = -7, /* RST in answer to our SYN */
    TCP_ECONNRESET = -8,   /* RST on a synchronized connection */
    TCP_ETIMEDOUT = -9,    /* retransmissions or keepalive probes exhausted */
    TCP_ENOMEM = -10,
    TCP_EISCONN = -11,       /* connect on a connected socket */
    TCP_EADDRNOTAVAIL = -12, /* ephemeral ports exhausted */
    TCP_ECONNABORTED = -13,  /* accept after the listener's receive side was shut (bsd) */
    TCP_EOPNOTSUPP = -14,    /* connect on a listening socket (bsd) */
    TCP_EMFILE = -15         /* the stack gave out its 2^32 - 1 socket ids (rule 2) */
} tcp_err;
const char *tcp_err_name(int err); /* "ECONNREFUSED"; "OK" for 0 */

/* ---- Behaviour profiles ------------------------------------------------ */

typedef enum tcp_tw_rst_policy {
    TCP_TW_RST_CLOSE, /* RFC 9293 with RFC 5961: an RST at exactly RCV.NXT ends TIME_WAIT */
    TCP_TW_RST_IGNORE /* RFC 1337 protection: RSTs in TIME_WAIT are ignored */
} tcp_tw_rst_policy;

typedef enum tcp_tw_syn_policy {
    TCP_TW_SYN_CHALLENGE,      /* RFC 9293 §3.10.7.4 + RFC 5961 §4: challenge ACK */
    TCP_TW_SYN_ACCEPT_NEWER,   /* RFC 1122 §4.2.2.13: a SYN above RCV.NXT reopens */
    TCP_TW_SYN_ACCEPT_NEWER_TS /* and RFC 6191: a newer TS.Val reopens, an older one
                                  is refused by PAWS whatever its sequence number */
} tcp_tw_syn_policy;

/* D-SACK (RFC 2883): a receiver on a SACK connection reports octets it
 * received twice as the first block, before its SACK blocks. */
typedef enum tcp_dsack_rule {
    TCP_DSACK_NONE,  /* no D-SACK (RFC 2018 alone) */
    TCP_DSACK_LINUX, /* Linux tcp_dsack_set (sysctl tcp_dsack = 1): old octets as end_seq
                      * counts them, a FIN included */
    TCP_DSACK_BSD    /* FreeBSD tcp_do_segment's todrop and tcp_update_dsack_list: data
                      * octets only, and an ACK at once for old octets (TF_ACKNOW) */
} tcp_dsack_rule;

/* The options an active RST carries (ABORT, linger 0, close with unread
 * data, a timeout's give-up) on a connection that agreed them. An RST
 * answering a segment carries none (Linux tcp_v4_send_reset, FreeBSD
 * tcp_respond). */
typedef enum tcp_rst_opts {
    TCP_RST_OPTS_NONE,   /* no options */
    TCP_RST_OPTS_TS,     /* timestamps (RFC 7323 §3.2: "SHOULD be sent in an <RST>
                          * segment"; FreeBSD tcp_drop -> tcp_output: TOF_TS with
                          * TF_RCVD_TSTMP, SACK blocks only in an established state,
                          * and the state is CLOSED by then) */
    TCP_RST_OPTS_TS_SACK /* timestamps and SACK blocks (Linux tcp_send_active_reset ->
                          * tcp_transmit_skb -> tcp_established_options) */
} tcp_rst_opts;

typedef enum tcp_backlog_policy {
    TCP_BACKLOG_DROP, /* SYN silently dropped when queues are full (Linux) */
    TCP_BACKLOG_RST   /* answered with RST */
} tcp_backlog_policy;

/* How full a listener's queues may get (see docs/stack.md, Listeners). */
typedef enum tcp_backlog_model {
    TCP_BACKLOG_RFC,   /* SYN refused when SYN_RECEIVED + unaccepted >= max(backlog, 1) */
    TCP_BACKLOG_LINUX, /* accept queue holds backlog + 1; full: SYN dropped, third ACK
                        * dropped (child stays SYN_RECEIVED); SYN queue unlimited (cookies) */
    TCP_BACKLOG_BSD    /* SYN refused when SYN_RECEIVED + unaccepted > 3 * backlog / 2 */
} tcp_backlog_model;

/* ABORT (or close with linger 0) in CLOSING or LAST_ACK. */
typedef enum tcp_abort_rst {
    TCP_ABORT_RST_NEVER,  /* RFC 9293 §3.10.5: delete the TCB, no reset */
    TCP_ABORT_RST_UNSENT, /* Linux tcp_disconnect: reset if data is unsent */
    TCP_ABORT_RST_ALWAYS  /* FreeBSD tcp_drop: reset in every synchronized state */
} tcp_abort_rst;

/* RST and SYN arriving in SYN_RECEIVED of a passive open. */
typedef enum tcp_syn_recv_rules {
    TCP_SYN_RECV_RFC,   /* RFC 9293 §3.10.7.4 + RFC 5961: RST not at RCV.NXT gets a challenge
                         * ACK; an in-window SYN returns the child to LISTEN silently */
    TCP_SYN_RECV_LINUX, /* tcp_check_req: any in-window RST or SYN ends the request; the SYN
                         * is answered with RST */
    TCP_SYN_RECV_BSD    /* syncache: RST as RFC 5961; a SYN draws the SYN,ACK again */
} tcp_syn_recv_rules;

/* shutdown() on a listening socket (docs/stack.md, Listeners). */
typedef enum tcp_listen_shut {
    TCP_LISTEN_SHUT_CLOSE, /* RFC 9293 §3.10.4 CLOSE in LISTEN: any shutdown closes it */
    TCP_LISTEN_SHUT_LINUX, /* inet_shutdown: SHUT_WR does nothing; SHUT_RD closes it */
    TCP_LISTEN_SHUT_BSD    /* soshutdown: ENOTCONN, it keeps listening; after SHUT_RD the
                            * next accept fails once with ECONNABORTED */
} tcp_listen_shut;

/* connect() on a listening socket. */
typedef enum tcp_listen_connect {
    TCP_LISTEN_CONNECT_OPEN,      /* RFC 9293 §3.10.1: LISTEN -> SYN_SENT */
    TCP_LISTEN_CONNECT_EISCONN,   /* Linux __inet_stream_connect: not TCP_CLOSE */
    TCP_LISTEN_CONNECT_EOPNOTSUPP /* FreeBSD soconnectat: SO_ACCEPTCONN */
} tcp_listen_connect;

/* The largest buffer, in octets, tcp_setopt takes for TCP_OPT_SNDBUF and
 * TCP_OPT_RCVBUF and a profile's sndbuf, rcvbuf, rcvbuf_max and
 * sndbuf_max may hold: no window offers more (RFC 7323 §2.3, shift 14), and
 * RFC 9293 §3.4's sequence arithmetic needs every window under 2^31. The
 * receive space is capped at it whatever the profile holds. */
#define TCP_BUF_MAX (1u << 30)

/* Every knob is data; a scenario picks a profile by name and overrides
 * single fields. Durations are nanoseconds. */
typedef struct tcp_profile {
    char name[16];
    uint64_t msl_ns;
    uint64_t time_wait_ns;          /* 0: 2*MSL (per connection MSL) */
    uint64_t fin_wait_2_timeout_ns; /* 0: none (RFC 9293); orphans only */
    uint64_t rto_initial_ns, rto_min_ns, rto_max_ns;
    uint32_t syn_retries;    /* SYN retransmissions before ETIMEDOUT */
    uint32_t synack_retries; /* SYN-ACK retransmissions before the child is dropped */
    uint32_t data_retries;   /* retransmissions of data/FIN before ETIMEDOUT */
    uint64_t delack_ns;      /* 0: ACK at once */
    uint64_t keepalive_idle_ns, keepalive_intvl_ns;
    uint32_t keepalive_probes;
    uint32_t sndbuf, rcvbuf;
    uint16_t mss;
    bool rst_on_close_with_unread; /* Linux: close() with unread data sends RST */
    bool rst_on_keepalive_timeout; /* Linux: RST when keepalive gives up */
    bool tw_restart_on_ack;        /* Linux: any ACK-bearing segment restarts TIME_WAIT */
    bool tw_paws_restart;          /* Linux: a PAWS-refused non-SYN is ACKed, restarts TIME_WAIT */
    tcp_tw_rst_policy tw_rst;
    tcp_tw_syn_policy tw_syn;
    tcp_backlog_policy backlog_full;
    bool send_timestamps, send_wscale, send_sack_perm;
    bool rst_on_data_after_close; /* data arriving after close() is answered with RST */
    uint32_t init_cwnd_segs;      /* initial window in segments; 0: RFC 5681 §3.1 rule */
    bool ss_full_ack;             /* slow start grows cwnd by all an ACK covers (Linux
                                   * tcp_slow_start), not one SMSS at most (RFC 5681 §3.1) */
    /* Knobs that make the linux and bsd profiles match their kernels; each
     * is documented in docs/stack.md with the kernel source behind it. */
    bool rst_has_ack;             /* active RSTs are RST,ACK with ACK = RCV.NXT */
    uint32_t orphan_retries;      /* retransmissions after close(); 0: data_retries */
    uint32_t syn_linear_timeouts; /* first N SYN timeouts keep the RTO (no doubling) */
    uint64_t syn_timeout_ns;      /* connection-establishment limit; 0: none */
    uint32_t quickack;            /* immediate ACKs for the first data segments */
    uint32_t oow_ack_limit;       /* challenge/out-of-window ACKs per window; 0: no limit */
    uint64_t oow_ack_window_ns;
    bool oow_ack_data_exempt; /* out-of-window data or FIN (no SYN) answered unlimited */
    uint64_t rto_slop_ns;     /* added to every data RTO */
    uint64_t persist_min_ns, persist_max_ns; /* persist interval bounds; 0: none / rto_max */
    bool zwp_no_data;                        /* zero-window probe <SEQ=SND.UNA-1> without data */
    bool zwp_ack_rearm; /* an ACK during probing re-arms the probe timer; open once the head fits */
    bool nagle_minshall;  /* Nagle holds a runt only while a runt is unacknowledged */
    bool fin_wait_2_idle; /* orphan FIN_WAIT_2 timeout counts idle time */
    tcp_backlog_model backlog_model;
    tcp_syn_recv_rules syn_recv_rules;
    uint16_t port_lo, port_hi;    /* ephemeral port range, inclusive */
    uint16_t mss_floor;           /* smallest effective send MSS */
    uint32_t syn_loss_cwnd_after; /* SYN timeouts after which cwnd starts at 1 MSS */
    tcp_abort_rst abort_rst_closing;
    bool old_segment_ack;           /* a retransmission ending at RCV.NXT has its ACK processed */
    bool zero_window_fin;           /* a bare FIN at RCV.NXT is taken at a zero window */
    bool edge_fin;                  /* a FIN right after data ending at the window's right
                                     * edge is taken: the FIN takes no room in the window */
    bool tw_bsd_rules;              /* TIME_WAIT follows FreeBSD tcp_twcheck */
    bool close_embryonic_silent;    /* close() in an active SYN_RECEIVED sends no FIN */
    tcp_opt_layout opt_layout;      /* order and padding of the options we send */
    uint32_t rcvbuf_max;            /* largest receive buffer: sets the window scale; 0: rcvbuf */
    uint32_t rcv_win_ratio;         /* share of the receive buffer offered as window, in 1/256 */
    bool init_wnd_mss_multiple;     /* a SYN's window is rounded down to whole segments */
    uint64_t syn_bad_ack_rexmit_ns; /* SYN_SENT, unacceptable ACK: SYN again after this; 0: RTO */
    uint64_t delack_max_ns;         /* Linux ATO: grows from delack to this; 0: fixed delack */
    bool pingpong;                  /* with the ATO: interactive mode suspends quick ACKs */
    bool embryo_reset_closed;       /* a passive SYN_RECEIVED an RST or SYN ends goes to CLOSED */
    bool wnd_mss_round;             /* at window scale 0 the window offered is whole segments */
    uint64_t delack_tick_ns;        /* with the ATO, timer_hz 0: a delayed ACK due at ATO 0 waits
                                     * this; 0: none (with timer_hz: the wheel's next tick) */
    uint32_t timer_hz;              /* timers on Linux's jiffies timer wheel at this HZ; 0: exact */
    bool tlp;                       /* tail loss probe (RFC 8985 §7) on SACK connections */
    bool rto_min_var;               /* rto_min floors the RTO's variance term (Linux
                                     * tcp_rtt_estimator), not the RTO (RFC 6298 §2.4) */
    bool read_ack;          /* a read that empties the queue sends the ACK a pushed segment owes */
    uint32_t sndbuf_expand; /* send buffer grown to N x max(10, cwnd) segments; 0: fixed */
    uint32_t sndbuf_max;    /* ... at most this (with sndbuf_expand) */
    bool shut_rd_discard;   /* shutdown SHUT_RD drops held and later data (FreeBSD) */
    bool shut_rd_no_update; /* after shutdown SHUT_RD a read sends no window update (Linux) */
    bool ack_wnd_check;     /* with the ATO: two full segments are ACKed at once only if the
                             * window offered would not shrink (Linux __tcp_ack_snd_check) */
    bool rst_close_wait_epipe;   /* a reset in CLOSE_WAIT leaves the error EPIPE (Linux
                                  * tcp_reset), not ECONNRESET */
    bool grow_window;            /* Linux rcv_ssthresh: the window offered grows per data segment */
    uint32_t scaling_ratio;      /* with grow_window: the receiving driver's len/truesize in 1/256,
                                  * measured from the first data segment; 0: rcv_win_ratio stays */
    bool rcv_autotune;           /* with grow_window: reads grow the receive buffer (Linux DRS) */
    tcp_listen_shut listen_shut; /* shutdown on a listener */
    tcp_listen_connect listen_connect; /* connect on a listener */

    /* SACK compression (Linux __tcp_ack_snd_check): with the ATO, on a SACK
     * connection, duplicate ACKs past the third for one RCV.NXT wait
     * min(SRTT/20, comp_sack_delay) + comp_sack_slack, comp_sack_nr at most. */
    uint64_t comp_sack_delay_ns; /* 0: off, every duplicate ACK at once */
    uint64_t comp_sack_slack_ns;
    uint32_t comp_sack_nr;
    bool listen_drop_syn_fin; /* LISTEN drops a SYN that carries a FIN (Linux) */
    bool beyond_window_drop;  /* a segment ending beyond the window is dropped whole while
                               * bytes wait unread (Linux 6.17 tcp_sequence) */
    bool recv_zero_waits;     /* a zero-length RECEIVE with nothing queued waits like any
                               * other: TCP_EAGAIN (Linux tcp_recvmsg_locked) */
    bool rst_at_fin;          /* in CLOSE_WAIT, CLOSING, LAST_ACK an RST at RCV.NXT - 1 (the
                               * peer's FIN) resets (Linux tcp_reset_check) */
    bool rst_closing_reset;   /* a reset in CLOSING or LAST_ACK leaves the error ECONNRESET
                               * (Linux tcp_reset, FreeBSD tcp_do_segment) */
    bool err_once;            /* a send or receive that reports the error clears it (Linux
                               * sock_error, FreeBSD so_error = 0); later calls find the
                               * connection shut both ways */
    bool recv_err_first;      /* a receive reports the error before end of stream (FreeBSD
                               * soreceive_generic), not after it (Linux SOCK_DONE first) */
    bool send_epipe_first;    /* a send on a connection shut for sending (shutdown, or ended)
                               * fails with EPIPE before the error (FreeBSD sosend_generic) */
    bool rst_sack_edge;       /* an RST at the highest right edge of the SACK blocks we would
                               * send resets (Linux tcp_validate_incoming) */
    bool closed_deletes_tcb;  /* a connection that enters CLOSED (an RST, a timeout, LAST-ACK's
                               * FIN acknowledged, TIME-WAIT expired, shutdown in SYN-SENT)
                               * has its TCB deleted:
                               * queues flushed (bytes unread are gone) and, its error
                               * reported, SEND, RECEIVE and CLOSE answer "connection does
                               * not exist" (TCP_ENOTCONN): RFC 9293 §3.10.7.4, §3.10.8,
                               * §3.10.2-4; Linux and FreeBSD keep the bytes readable, the
                               * socket shut both ways (0, EPIPE) and close 0 */
    tcp_dsack_rule dsack;     /* D-SACK blocks on a SACK connection (RFC 2883) */
    tcp_rst_opts rst_opts;    /* the options an active RST carries */
    bool rst_window;          /* an active RST carries the window an ACK sent then would
                               * (Linux __tcp_transmit_skb: tcp_select_window); else 0 */
    bool sack_fin;            /* a FIN held out of order counts in its SACK block, one past
                               * the data (Linux: end_seq counts it, tcp_sack_new_ofo_skb) */
    bool sack_fin_reset;      /* the FIN taken in sequence forgets the SACK report: blocks and
                               * a waiting D-SACK block (Linux tcp_fin: tcp_sack_reset) */
    /* A send on a socket not connected (CLOSED, never connected or ended by
     * shutdown in SYN-SENT, no error pending; a listener) fails with EPIPE
     * (Linux sk_stream_wait_connect), not ENOTCONN (RFC 9293 §3.10.2). */
    bool send_unconnected_epipe;
} tcp_profile;

/* Built-in profiles: "rfc9293", "linux", "bsd". NULL if unknown. */
const tcp_profile *tcp_profile_find(const char *name);
/* Names of the built-in profiles, NULL-terminated. */
const char *const *tcp_profile_names(void);
/* The system a built-in profile models, e.g. "FreeBSD 14.x, default sysctls". */
const char *tcp_profile_system(const char *name);
/* The first field in which a and b differ, by the knob name scenarios set
 * it with (the field's own name where none can), skipping the knobs listed
 * in skip (NULL-terminated, may be NULL); NULL when they agree. Every field
 * but `name` is compared, so a knob added to tcp_profile is compared too
 * (tests/stack/test_profiles checks the list covers the struct). */
const char *tcp_profile_diff(const tcp_profile *a, const tcp_profile *b, const char *const *skip);
/* The most rto_initial, rto_min and rto_max may be: an hour. The RTO and
 * its variance term are kept in 32-bit microseconds where Linux keeps them
 * so (tcp_sock mdev_us, rttvar_us; tcp_info tcpi_rto), which 71.6 min
 * would overflow; Linux's own sysctls stay far below (tcp_rto_min_us at
 * most INT_MAX us, tcp_rto_max_ms at most 120 s). */
#define TCP_RTO_LIMIT_NS (3600ull * 1000000000ull)
/* NULL when profile p keeps the bounds above; else the knob name (as
 * tcp_profile_fields gives it) of the first field out of range, with the
 * rule it breaks in *why ("must be at most 1h (...)"; static text; why may
 * be NULL). The knob layers refuse such a profile; the stack itself runs
 * any (past the bounds its 32-bit microsecond figures saturate). */
const char *tcp_profile_check(const tcp_profile *p, const char **why);
/* The compared fields, in declaration order: knob name, offset, size. */
typedef struct tcp_profile_field {
    const char *knob;
    unsigned short off, size;
} tcp_profile_field;
const tcp_profile_field *tcp_profile_fields(size_t *n);

/* ---- Events ------------------------------------------------------------ */

typedef enum tcp_event_kind {
    TCP_EV_STATE,   /* a transition: from -> to, with its cause */
    TCP_EV_SEG_IN,  /* a well-formed segment reached a connection (or none: sock 0) */
    TCP_EV_SEG_OUT, /* a segment was sent */
    TCP_EV_DROP,    /* an incoming datagram was dropped: note says why */
    TCP_EV_TIMER,   /* a timer fired: detail is a tcp_timer_kind */
    TCP_EV_USER,    /* a user call: detail is a tcp_user_call */
    TCP_EV_ERROR,   /* the connection ended with an error: detail is a tcp_err */
    /* A running timer started over (TIME_WAIT's 2*MSL): detail is a
     * tcp_timer_kind, seg the segment that restarted it. */
    TCP_EV_TIMER_RESTART,
    /* A call that can change a connection's variables (a segment, a
     * timer, connect, send, recv, shutdown, close, abort, setopt) left them
     * as tcb says: one per connection it touched, after the call's other
     * events for that connection. listen and accept change none. */
    TCP_EV_TCB
} tcp_event_kind;

typedef enum tcp_cause { TCP_CAUSE_USER, TCP_CAUSE_SEGMENT, TCP_CAUSE_TIMER } tcp_cause;

typedef enum tcp_timer_kind {
    TCP_TIMER_RTX,     /* retransmission (SYN, SYN-ACK, data, FIN) */
    TCP_TIMER_PERSIST, /* zero-window probe */
    TCP_TIMER_DELACK,
    TCP_TIMER_KEEPALIVE,
    TCP_TIMER_TIME_WAIT, /* 2*MSL */
    TCP_TIMER_FIN_WAIT_2 /* orphan timeout (profile) */
} tcp_timer_kind;
#define TCP_TIMER_COUNT (TCP_TIMER_FIN_WAIT_2 + 1)

typedef enum tcp_user_call {
    TCP_CALL_LISTEN,
    TCP_CALL_CONNECT,
    TCP_CALL_ACCEPT,
    TCP_CALL_SEND,
    TCP_CALL_RECV,
    TCP_CALL_SHUTDOWN,
    TCP_CALL_CLOSE,
    TCP_CALL_ABORT
} tcp_user_call;

typedef uint32_t tcp_sock_id;

/* A connection's variables as RFC 9293 §3.3.1 names them, and its timers:
 * what TCP_EV_TCB reports and tcp_sock_tcb reads. Sequence numbers are
 * absolute; the windows are in bytes (scaled). Before the SYN exchange
 * fills them the fields are 0 (IRS and RCV.* in SYN_SENT, all in LISTEN). */
typedef struct tcp_tcb {
    tcp_state state;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd;
    uint32_t rcv_nxt, rcv_wnd;          /* RCV.WND: the right edge last offered less RCV.NXT */
    uint64_t timer_at[TCP_TIMER_COUNT]; /* deadline per tcp_timer_kind; UINT64_MAX: not armed */
    uint32_t snd_max; /* the highest SND.NXT sent (SND.NXT falls back on a retransmission) */
} tcp_tcb;

typedef struct tcp_event {
    tcp_event_kind kind;
    uint64_t time_ns;
    tcp_sock_id sock;   /* 0 when no connection is involved */
    tcp_sock_id parent; /* for a listener's child: the listener */
    tcp_state from, to; /* STATE; otherwise both are the current state */
    tcp_cause cause;    /* STATE: what caused it */
    int detail;         /* timer kind, user call, or error, per kind */
    const tcp_seg *seg; /* SEG_IN, SEG_OUT, and a STATE caused by a segment */
    const char *note;   /* short reason: "rcv FIN", "RTO", "close()", "bad checksum" */
    const tcp_tcb *tcb; /* TCB: the connection's variables; NULL for the other kinds */
} tcp_event;

const char *tcp_timer_name(tcp_timer_kind t);
const char *tcp_user_call_name(tcp_user_call c);
const char *tcp_cause_name(tcp_cause c);      /* "user", "segment", "timer" */
const char *tcp_event_name(tcp_event_kind k); /* "STATE", "SEG_IN", ..., "TIMER_RESTART" */

/* ---- The environment ----------------------------------------------------- */

/* Scratch space where the stack builds outgoing segments (128 KiB per
 * nesting level). One may be shared by every stack of a world: it is used
 * only while a segment is built and sent, and a stack that finds it in use
 * (a callback made during one stack's output called into another) takes
 * another level, so sharing is safe under re-entry. Free it after every
 * stack that uses it. NULL on out-of-memory. */
typedef struct tcp_scratch tcp_scratch;
tcp_scratch *tcp_scratch_new(void);
void tcp_scratch_free(tcp_scratch *sc);

typedef struct tcp_env {
    uint64_t (*now_ns)(void *ctx);
    uint64_t (*random)(void *ctx);
    /* Sends an IPv4 datagram; the callee copies the bytes before returning. */
    void (*output)(void *ctx, const uint8_t *datagram, size_t len);
    /* Reports an event; may be NULL. */
    void (*event)(void *ctx, const tcp_event *ev);
    /* Shared scratch space, or NULL: the stack then keeps its own. */
    tcp_scratch *scratch;
    /* Optional (NULL: every datagram goes through output). Sends a datagram
     * without copying it: the bytes are the stack's (a send buffer's memory,
     * with the headers written in place before the payload) and stay valid
     * and unchanged, after the call returns and even after the connection
     * and the stack are freed, until the callee calls release(owner). It
     * must call it exactly once, from outside any stack call or inside one,
     * whether it keeps the datagram, copies it or drops it; the callee must
     * not write the bytes (copy them first). The stack uses it only when a
     * segment's payload can be lent (tcp_buf.c, "Lending"); rule 1 holds. */
    void (*output_lent)(void *ctx, const uint8_t *datagram, size_t len,
                        void (*release)(void *owner), void *owner);
    /* Optional (NULL: such datagrams are flattened and go through output).
     * Sends a datagram in two parts: head (its IPv4 and TCP headers, hlen
     * bytes, valid during the call only: the callee copies them) followed
     * on the wire by tail (tlen payload bytes read from a tcp_pattern given
     * to tcp_send_pattern, which the callee may keep pointing at without
     * copying: they live as long as that pattern, unchanged). Both
     * checksums already cover the tail. The stack uses it for a segment
     * whose payload is all pattern bytes and reads contiguously in the
     * pattern; rule 1 holds. */
    void (*output_split)(void *ctx, const uint8_t *head, size_t hlen, const uint8_t *tail,
                         size_t tlen);
} tcp_env;

typedef struct tcp_stack tcp_stack;

/* A stack for one IPv4 address. The stack keeps env, not a copy (but for
 * an env without scratch space, which it copies to hold its own): *env
 * must stay unchanged until tcp_stack_free, and every stack of a world can
 * share one; ctx, the stack's own, is the first argument of each of env's
 * functions. `profile` is copied. NULL on out-of-memory. */
tcp_stack *tcp_stack_new(const tcp_env *env, void *ctx, uint32_t addr, const tcp_profile *profile);
/* The same, without the copy: the stack reads *profile, which must stay
 * unchanged until tcp_stack_free (many stacks can share one profile). */
tcp_stack *tcp_stack_new_shared(const tcp_env *env, void *ctx, uint32_t addr,
                                const tcp_profile *profile);
/* Frees every connection without sending anything (a host crash). */
void tcp_stack_free(tcp_stack *s);
const tcp_profile *tcp_stack_profile(const tcp_stack *s);

/* A received IPv4 datagram (any bytes: this is the fuzzing entry point). */
void tcp_stack_input(tcp_stack *s, const uint8_t *datagram, size_t len);
/* The earliest instant a timer is due, or UINT64_MAX when none is armed. */
uint64_t tcp_stack_next_deadline(const tcp_stack *s);
/* Runs every timer due at or before env->now_ns(). */
void tcp_stack_on_time(tcp_stack *s);
/* Whether the stack reports TCP_EV_TCB (on when made). Off, it does not
 * build them: for an environment whose event callback drops them. */
void tcp_stack_set_tcb_events(tcp_stack *s, bool on);

/* Connections that exist (including orphans and listeners): leak checks. */
size_t tcp_stack_conns(const tcp_stack *s);
/* Datagrams dropped as malformed since the stack was made (at most
 * 2^32 - 1: the count stops there). */
uint64_t tcp_stack_malformed(const tcp_stack *s);
/* Bytes of state per idle connection (no data buffers). */
size_t tcp_conn_size(void);

/* What a stack holds from the allocator now, by kind. A connection costs
 * conn_bytes / conns plus its rings plus its share of index_bytes; a
 * TIME_WAIT minisock (docs/stack.md, TIME_WAIT) tw_bytes / tws plus its
 * share of index_bytes; a listener (docs/stack.md, Listeners) its part of
 * listener_bytes and its share of index_bytes. Pools grow in chunks and never shrink, so
 * total_bytes also counts free slots. A shared scratch space is not the
 * stack's and is not counted. O(connections): for tests and benchmarks. */
typedef struct tcp_mem {
    size_t conns, conn_bytes;         /* full connections in use and their pool slots */
    size_t tws, tw_bytes;             /* TIME_WAIT minisocks in use and their pool slots */
    size_t listeners, listener_bytes; /* listener records, with their queues and options */
    size_t ring_bytes;                /* send and receive rings: capacity and block headers */
    size_t index_bytes;               /* id, 4-tuple and listener tables, deadline heap, ports */
    size_t total_bytes;               /* all of it: also free pool slots, the stack, its scratch */
} tcp_mem;
void tcp_stack_mem(const tcp_stack *s, tcp_mem *out);

/* ---- Sockets (RFC 9293 §3.10.1 – §3.10.6) ---------------------------------- */

typedef enum tcp_opt {
    TCP_OPT_LINGER_ZERO, /* 1: close() aborts with RST, no TIME_WAIT */
    TCP_OPT_KEEPALIVE,   /* 0/1 */
    TCP_OPT_KEEPIDLE_NS,
    TCP_OPT_KEEPINTVL_NS,
    TCP_OPT_KEEPCNT,
    TCP_OPT_SNDBUF,
    TCP_OPT_RCVBUF,
    TCP_OPT_MSS,
    /* This connection's MSL (TIME_WAIT = 2*MSL); EINVAL in TIME_WAIT. It,
     * the keepalive times and count, the ISN and the user timeout are kept
     * in a record allocated by the first of them set: TCP_ENOMEM if it
     * cannot be, the socket unchanged (docs/stack.md, Memory). */
    TCP_OPT_MSL_NS,
    TCP_OPT_ISN, /* the ISN the next SYN uses (else random) */
    TCP_OPT_NODELAY,
    /* Linux TCP_USER_TIMEOUT (RFC 9293 §3.8.3 R2 as a time): once data has
     * gone unacknowledged this long through retransmissions, the connection
     * ends with ETIMEDOUT; 0: the retransmission count decides. */
    TCP_OPT_USER_TIMEOUT_NS,
    /* Linux TCP_CORK (0/1): the last partial segment waits while corked;
     * full segments go, and so does the FIN. Held data with nothing in
     * flight is sent by the persist timer (docs/stack.md, Corking);
     * uncorking sends it as Nagle allows. */
    TCP_OPT_CORK
} tcp_opt;

/* A new socket in CLOSED. */
int tcp_socket(tcp_stack *s, tcp_sock_id *out);
/* Binds a local port (before listen or connect). 0 picks an ephemeral port. */
int tcp_bind(tcp_stack *s, tcp_sock_id id, uint16_t port);
int tcp_listen(tcp_stack *s, tcp_sock_id id, uint32_t backlog);
int tcp_connect(tcp_stack *s, tcp_sock_id id, uint32_t raddr, uint16_t rport);
/* A connection from the accept queue, or TCP_EAGAIN. */
int tcp_accept(tcp_stack *s, tcp_sock_id listener, tcp_sock_id *out);
/* Queues up to len bytes; returns bytes queued (>= 0) or a tcp_err. */
long tcp_send(tcp_stack *s, tcp_sock_id id, const void *buf, size_t len);
/* A periodic byte source the caller owns, for tcp_send_pattern: byte i of
 * bytes is bytes[i % period] for every i < len (period >= 1, len >= period),
 * so any run of up to len - period + 1 bytes starting in the first period
 * reads contiguously. The caller keeps the struct and the bytes unchanged
 * until the stack is freed and every datagram the stack sent is gone
 * (output_split lends them to the environment). */
typedef struct tcp_pattern {
    const uint8_t *bytes;
    uint32_t period, len;
} tcp_pattern;
/* As tcp_send with the bytes of p from phase on: the k-th byte queued is
 * bytes[(phase + k) % period]. While every byte on the send queue is from
 * one pattern, the queue holds a count and a phase, not a copy (a send
 * buffer of any size costs no memory), and segments read their payload
 * from the pattern (output_split when the environment has it). Bytes of
 * anything else queued behind them (tcp_send, another pattern, a phase
 * that does not continue the queue's) turn the queued pattern bytes into
 * an ordinary send buffer first. */
long tcp_send_pattern(tcp_stack *s, tcp_sock_id id, const tcp_pattern *p, uint32_t phase,
                      size_t len);
/* Reads up to len in-order bytes; returns bytes read, 0 at end of stream (FIN
 * received and everything read), or a tcp_err (TCP_EAGAIN: nothing yet;
 * TCP_ENOTCONN: a listener, or a socket not connected, such as one never
 * connected, a listener a shutdown closed, or under profile
 * closed_deletes_tcb a connection whose TCB was deleted, by a reset, a
 * timeout or a normal ending, once its error was reported). With len 0 it reads nothing
 * and answers as a read that finds no byte, except 0 where that is
 * TCP_EAGAIN. */
long tcp_recv(tcp_stack *s, tcp_sock_id id, void *buf, size_t len);
/* Bytes ready to read. */
size_t tcp_readable(const tcp_stack *s, tcp_sock_id id);
/* Closes the send side (FIN after the queued data); receiving goes on.
 * TCP_ENOTCONN in CLOSED, a connection an error ended included (its error
 * stays for the next send or receive). */
int tcp_shutdown(tcp_stack *s, tcp_sock_id id);
/* Closes the receive side (shutdown SHUT_RD, which RFC 9293 does not
 * define): once the bytes held are read, tcp_recv returns 0 instead of
 * TCP_EAGAIN. Linux keeps queueing later data (it stays readable); the
 * profile's shut_rd_discard drops what is held and what arrives (FreeBSD
 * sorflush, SBS_CANTRCVMORE), still acknowledging it. */
int tcp_shutdown_read(tcp_stack *s, tcp_sock_id id);
/* RFC 9293 §3.10.4 CLOSE; releases the id (rule 3), also when it answers
 * TCP_ENOTCONN: under profile closed_deletes_tcb once the TCB was deleted
 * (§3.10.4 CLOSED: "connection does not exist"). */
int tcp_close(tcp_stack *s, tcp_sock_id id);
/* RFC 9293 §3.10.5 ABORT: RST if synchronized, no TIME_WAIT; releases the id. */
int tcp_abort(tcp_stack *s, tcp_sock_id id);
int tcp_setopt(tcp_stack *s, tcp_sock_id id, tcp_opt opt, uint64_t value);
int tcp_getopt(const tcp_stack *s, tcp_sock_id id, tcp_opt opt, uint64_t *value);

/* A connection's counters. Byte counts are 64-bit (a long transfer passes
 * 4 GiB); counts of segments and events are 32-bit and wrap, as Linux's
 * tcpi_segs_in, tcpi_segs_out and tcpi_total_retrans do. */
typedef struct tcp_stats {
    uint64_t bytes_in, bytes_out;
    uint32_t segs_in, segs_out, retransmits;
    uint32_t dup_acks_in, challenge_acks, keepalive_probes, persist_probes;
} tcp_stats;

/* A connection's status under Linux's TCP_INFO names (struct tcp_info
 * less the tcpi_ prefix), plus the SIOCINQ/SIOCOUTQ byte counts.
 * Counts of segments are derived from bytes (docs/stack.md, TCP_INFO). */
typedef struct tcp_sockinfo {
    tcp_state state;
    uint8_t ca_state;    /* Linux TCP_CA_*: 0 Open, 1 Disorder, 3 Recovery, 4 Loss */
    uint8_t retransmits; /* RTO expiries of the segment at SND.UNA (icsk_retransmits) */
    uint8_t probes;      /* zero-window or keepalive probes unanswered */
    uint8_t backoff;     /* RTO or persist doublings */
    uint32_t rto_us, ato_us, snd_mss, rcv_mss;
    uint32_t unacked, lost, retrans; /* segments: in flight, marked lost, retransmitted */
    uint32_t rtt_us, rttvar_us;
    uint32_t snd_ssthresh, snd_cwnd; /* segments; ssthresh 0x7fffffff while unset */
    uint32_t total_retrans;
    uint32_t inq;  /* SIOCINQ: bytes ready to read (a FIN not counted) */
    uint32_t outq; /* SIOCOUTQ: bytes queued and not acknowledged, a FIN counted */
} tcp_sockinfo;
/* Fills *out; TCP_EBADF for an unknown or released id. */
int tcp_sock_info(const tcp_stack *s, tcp_sock_id id, tcp_sockinfo *out);

tcp_state tcp_sock_state(const tcp_stack *s, tcp_sock_id id);
/* The socket's counters, NULL for an unknown id; the pointer is valid
 * until the stack is next called (read or copy them at once). */
const tcp_stats *tcp_sock_stats(const tcp_stack *s, tcp_sock_id id);
/* The error that ended the connection (0 while none). */
int tcp_sock_error(const tcp_stack *s, tcp_sock_id id);
/* getsockopt(SO_ERROR): the error a send or receive would report now
 * (the one that ended the connection, unless a call reported it already
 * and profile err_once cleared it then), 0 if none; reading it clears it
 * as such a call does (Linux sock_error: xchg(&sk->sk_err, 0); FreeBSD
 * sogetopt SO_ERROR: so_error = 0). TCP_EBADF for an unknown or released
 * id. tcp_sock_error (STATUS) keeps naming the error. */
int tcp_sock_take_error(tcp_stack *s, tcp_sock_id id);
/* The connection's variables and timers now; -1 for an unknown id. */
int tcp_sock_tcb(const tcp_stack *s, tcp_sock_id id, tcp_tcb *out);
/* Local and remote endpoints; -1 for an unknown id. */
int tcp_sock_endpoints(const tcp_stack *s, tcp_sock_id id, uint16_t *lport, uint32_t *raddr,
                       uint16_t *rport);

#endif
