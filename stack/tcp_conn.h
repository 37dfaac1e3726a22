/*
 * tcp_conn — the private view of the stack: the connection (RFC 9293 §3.3.1
 * "Transmission Control Block"), the stack object, and the functions the
 * stack's files call on each other. Nothing outside stack/ includes this.
 *
 * Invariants every file relies on:
 *  1. c->state is written only by tcp_set_state (tcp_state.c), except at
 *     the two ends of a connection's life, where no transition is
 *     reported: tcp_state_init_child puts a new child in LISTEN, and the
 *     pool resets a reclaimed connection to CLOSED; and where a TIME_WAIT
 *     minisock is rebuilt into a connection (tcp_tw_restore), which takes
 *     up the state it had.
 *  2. Every connection is in exactly one of: the stack's pool free list, or
 *     the id table. A connection is in the tuple table while it has a remote
 *     endpoint and is not CLOSED, and in the listener table while in LISTEN.
 *     A minisock (tcp_tw) stands in a connection's place in the id and
 *     tuple tables and the heap, and a listener record (tcp_ls) in a
 *     listener's place in the id and listener tables, except while a call
 *     works on the listener rebuilt in a frame (tcp_frame: the rarer
 *     calls on a listener, tcp_ls below); the tables and heap hold
 *     tcp_sk entries.
 *  3. A timer is armed iff its deadline (tcp_timer_at) is not TCP_NEVER;
 *     arming is a store (tcp_timer_store). The deadline heap is brought up to date by
 * tcp_stack_settle(), which every entry point calls on each connection it touched before it
 *     returns; settle is also the only place a connection is reclaimed.
 *  4. Sequence numbers are compared only through tcp_seq.h.
 */
#ifndef TCP_CONN_H
#define TCP_CONN_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"
#include "tcp_check.h"
#include "tcp_seq.h"

#define TCP_NEVER       UINT64_MAX
#define TCP_OOO_MAX     8u   /* out-of-order ranges held; a ninth is dropped */
#define TCP_SACK_BLOCKS 4u   /* SACK blocks kept (Linux TCP_NUM_SACKS) */
#define TCP_MSS_DEFAULT 536u /* RFC 9293 §3.7.1: no MSS option received */
#define TCP_TS_OPT_LEN  12u  /* RFC 7323 §3.2: timestamps, padded to 32 bits */
#define TCP_HEAP_NONE   UINT32_MAX
/* Room before a ring's first byte for the IPv4 and TCP headers of a
 * datagram built in place (tcp_ring_lend). */
#define TCP_RING_ROOM (TCP_IPV4_HDR + TCP_HDR_MIN + TCP_OPT_MAX)

/* A byte ring; data == NULL until the first byte (buffers are lazy), then
 * its capacity (tcp_ring_cap, kept in the memory's header) grows by
 * doubling up to the connection's buffer size (tcp_buf.c). Its memory is
 * reference counted (a datagram may hold it: tcp_ring_lend); only
 * tcp_buf.c allocates or frees it. */
typedef struct tcp_ring {
    union {
        uint8_t *data;          /* the ring's memory (tcp_buf.c), NULL: none yet */
        const tcp_pattern *pat; /* a send queue of pattern bytes (tcp_conn.snd_pat) */
    };
    uint32_t head, len; /* snd_pat: head is the queue's phase in the pattern */
} tcp_ring;

/* What the stack's tables and deadline heap hold: the first member of a
 * full connection (tcp_conn), of a TIME_WAIT minisock (tcp_tw) and of a
 * listener record (tcp_ls), so a pointer to any is a pointer to its tcp_sk
 * and back (C11 §6.7.2.1). */
#define TCP_HEAP_SEQ_BITS 30u
typedef struct tcp_sk {
    struct tcp_sk *id_next, *tuple_next; /* hash chains */
    uint64_t heap_at;                    /* key this entry has in the heap, with heap_seq */
    uint32_t heap_idx;                   /* TCP_HEAP_NONE: not in the heap */
    uint32_t heap_seq : TCP_HEAP_SEQ_BITS;
    uint32_t tw : 1; /* a tcp_tw, not a tcp_conn */
    uint32_t ls : 1; /* a tcp_ls, not a tcp_conn */
} tcp_sk;

/* The out-of-order ranges a receive ring holds (ooo_n of them in use),
 * sorted and disjoint; allocated at the first and kept with the
 * connection (tcp_buf.c). On a connection that agreed SACK, the blocks
 * it reports (nsack of them, most recent first: tcp_sack.c) cover the
 * same octets. */
typedef struct tcp_ooo {
    uint32_t start[TCP_OOO_MAX], end[TCP_OOO_MAX];
    uint32_t sack_start[TCP_SACK_BLOCKS], sack_end[TCP_SACK_BLOCKS];
    uint32_t last_start, last_end;   /* the segment last held (tcp_sack_note), which the
                                      * first block holds while it lies above RCV.NXT */
    uint32_t dsack_start, dsack_end; /* the D-SACK block (RFC 2883), while dsack */
    uint8_t nsack;
    bool dsack; /* a D-SACK block waits to be sent once, before the others */
} tcp_ooo;

typedef struct tcp_conn tcp_conn;

/* Timers that are never armed together share a deadline slot. The RTO
 * and the persist timer (a zero window stops the retransmissions: Linux
 * keeps both in icsk_timeout), and with them the 2MSL and the FIN_WAIT_2
 * timeouts: each of those runs only in its state, where nothing is left
 * to send or retransmit (our FIN is acknowledged), and entering
 * TIME_WAIT stops every other timer (Linux runs both on the timewait or
 * keepalive timer). The delayed ACK and keepalive have their own. */
#define TCP_TIMER_SLOTS 3u
static inline unsigned tcp_timer_slot(tcp_timer_kind k)
{
    switch (k) {
    case TCP_TIMER_DELACK:
        return 1;
    case TCP_TIMER_KEEPALIVE:
        return 2;
    default: /* RTX, PERSIST, TIME_WAIT, FIN_WAIT_2 */
        return 0;
    }
}

/* A listener's queues, allocated at its first tcp_listen and kept with
 * the connection (a listener is one connection in many): children in
 * SYN_RECEIVED, and established ones waiting for tcp_accept (FIFO). */
typedef struct tcp_lq {
    tcp_conn *syn_q, *acc_head, *acc_tail;
    uint32_t backlog;
    uint32_t syn_n, acc_n; /* lengths of the two queues */
} tcp_lq;

/* The options of tcp_setopt that keep the profile's value in nearly
 * every connection: a connection has this record once a tcp_setopt has
 * set one of them (or it is the child of a listener that has one), and
 * reads them through tcp_opt_* below, which fall back on the profile.
 * A TIME_WAIT minisock keeps its connection's (for the MSL). */
typedef struct tcp_conn_opts {
    uint64_t ka_idle_ns, ka_intvl_ns;
    uint64_t user_timeout_ns; /* TCP_OPT_USER_TIMEOUT_NS; 0: none */
    uint64_t msl_ns;          /* TCP_OPT_MSL_NS, while c->msl_set */
    uint32_t isn;             /* TCP_OPT_ISN, while c->isn_set */
    uint8_t ka_cnt;
} tcp_conn_opts;

struct tcp_conn {
    tcp_sk sk; /* first: the tables and the heap hold &c->sk */
    tcp_stack *stack;
    tcp_sock_id id, parent; /* parent: the listener of a passive open */

    uint32_t raddr;
    uint16_t lport, rport;

    /* RFC 9293 §3.3.1 send sequence variables, plus: snd_max (highest
     * sequence sent, to tell retransmissions), snd_buf_seq (sequence of the
     * first byte in sndq) and max_snd_wnd (RFC 5961 §5). */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_snd_wnd, snd_buf_seq;
    /* Receive sequence variables; rcv_adv is the right edge last advertised
     * (RCV.NXT + RCV.WND); peer_fin_seq the sequence number of the peer's
     * FIN once seen (it may arrive before the data in front of it). */
    uint32_t irs, rcv_nxt, rcv_adv, peer_fin_seq, last_ack_sent;
    uint32_t rcv_ssthresh; /* profile grow_window: the most the window may offer; 0 unset */

    /* RFC 5681 congestion control, RFC 6582 recovery point. */
    uint32_t cwnd, ssthresh, recover;
    uint16_t snd_mss, rcv_mss;
    uint8_t snd_wscale, rcv_wscale; /* RFC 7323 §2 shifts, 0 if not agreed */
    uint16_t mss;                   /* option (tcp_setopt, below) */
    uint32_t snd_sml;               /* end of the last runt sent (Minshall's Nagle) */
    uint32_t retries;               /* RTO expiries of this segment (saturates) */
    uint32_t persist_unanswered;    /* probes since the last ACK (saturates) */
    uint8_t dupacks, ka_probes, persist_backoff, ooo_n;
    uint8_t quick_left;   /* immediate ACKs left (profile quickack) */
    uint8_t syn_timeouts; /* RTO expiries of our SYN or SYN,ACK */
    uint16_t oow_n;       /* challenge / out-of-window ACKs sent in this window */
    uint64_t oow_start_ns;

    /* RFC 6298 (nanoseconds); rtt_seq is the segment being timed. */
    uint64_t srtt_ns, rttvar_ns, rto_ns, rtt_start_ns;
    uint32_t rtt_seq;
    uint32_t ts_recent; /* RFC 7323 §4.3 */

    uint64_t timer_slot[TCP_TIMER_SLOTS]; /* tcp_timer_at, below; TCP_NEVER: not armed */
    uint64_t last_rcv_ns;                 /* keepalive idle reference */
    /* Never both read: the persist timer does not run in TIME_WAIT, the
     * last state of a connection that enters it. */
    union {
        uint64_t probe_stamp_ns; /* the first persist expiry of this episode (zwp_stamped) */
        uint64_t check_tw_at;    /* TIME_WAIT: tcp_check's deadline last seen */
    };

    /* rcvq also holds out-of-order bytes past its len. sndq may be a count
     * of pattern bytes instead of a ring (snd_pat: tcp_buf.c, "The send
     * queue"): only the tcp_sndq_* calls read it then. */
    tcp_ring sndq, rcvq;
    tcp_ooo *ooo; /* the ranges held out of order; NULL until the first */

    /* Options (tcp_setopt); start as the profile's values. */
    uint64_t rtx_stamp_ns;   /* the first RTO retransmission, or SYN (valid: retries > 0) */
    tcp_conn_opts *opts;     /* NULL: the rest at the profile's values (tcp_opt_*) */
    uint32_t sndbuf, rcvbuf; /* and mss, above */

    bool user_held : 1;    /* the user holds the id (rule 3 of tcp.h) */
    bool released : 1;     /* the user called close or abort: an orphan */
    bool ever_used : 1;    /* listen or connect was called */
    bool passive : 1;      /* came from LISTEN (RFC 9293 §3.10.7.4 RST, SYN) */
    bool msl_set : 1;      /* TCP_OPT_MSL_NS given (opts->msl_ns): TIME_WAIT is 2 MSL */
    bool isn_set : 1;      /* TCP_OPT_ISN given for the next SYN */
    bool linger_zero : 1;  /* TCP_OPT_LINGER_ZERO */
    bool keepalive : 1;    /* TCP_OPT_KEEPALIVE */
    bool nodelay : 1;      /* TCP_OPT_NODELAY */
    bool cork : 1;         /* TCP_OPT_CORK */
    bool cork_wait : 1;    /* the persist deadline is the corked data's */
    bool zwp_stamped : 1;  /* probe_stamp_ns is set */
    bool fin_queued : 1;   /* user closed the send side: FIN after the data */
    bool fin_pending : 1;  /* the peer's FIN is known (peer_fin_seq) */
    bool fin_rcvd : 1;     /* the peer's FIN was processed (end of stream) */
    bool ack_now : 1;      /* an ACK must go out before this call returns */
    bool ack_due : 1;      /* ATO engine: the segment owes an ACK, decided after its FIN */
    bool ack_due_now : 1;  /* ... and asks for it at once (out of order, a hole filled) */
    bool in_recovery : 1;  /* RFC 6582 fast recovery */
    bool probing : 1;      /* a zero-window probe is outstanding */
    bool ts_ok : 1;        /* RFC 7323 timestamps agreed */
    bool sack_ok : 1;      /* peer sent SACK-permitted (tcp_sack_agreed) */
    bool peer_wscale : 1;  /* peer's SYN carried window scale */
    bool in_accept_q : 1;  /* child on its listener's accept queue */
    bool in_syn_q : 1;     /* child on its listener's SYN queue */
    bool rtt_timing : 1;   /* rtt_seq is being timed (RFC 6298, Karn) */
    bool syn_rexmit : 1;   /* the SYN timed out at least once (RFC 6298 §5.7) */
    bool has_srtt : 1;     /* srtt_ns and rttvar_ns hold a measurement */
    bool quick_init : 1;   /* quick_left was set at the first data segment */
    bool port_bound : 1;   /* counted in the stack's port table */
    bool idle_bound : 1;   /* bound, not yet used by listen or connect */
    bool sndq_freed : 1;   /* the send buffer was used, ring or pattern (its size stays fixed) */
    bool rcvbuf_set : 1;   /* TCP_OPT_RCVBUF given: it, not rcvbuf_max, sets the scale */
    bool pingpong : 1;     /* interactive: no quick ACKs (profile pingpong) */
    bool tlp_armed : 1;    /* the RTX deadline is a loss-probe timeout, not the RTO */
    bool tlp_out : 1;      /* a loss probe is outstanding (one per tail) */
    bool rd_shut : 1;      /* tcp_shutdown_read: the receive side is closed */
    bool acc_abort : 1;    /* listener: the next accept fails (listen_shut bsd) */
    bool pushed : 1;       /* read_ack: a pushed or short segment came since the last ACK */
    bool pushed2 : 1;      /* ... and another short one after it */
    bool sndbuf_set : 1;   /* TCP_OPT_SNDBUF given: the buffer is never grown */
    bool snd_pat : 1;      /* sndq holds sndq.len bytes of sndq.pat by count (never 0) */
    bool snd_nospace : 1;  /* the last send found the buffer full (Linux SOCK_NOSPACE) */
    bool ratio_known : 1;  /* profile scaling_ratio measured: it sizes the receive space */
    bool comp_timer : 1;   /* the DELACK deadline is a compressed ACK's (comp_sack) */
    bool rcv_rtt_seen : 1; /* Linux would have a receive-side RTT sample (comp_sack) */
    bool framed : 1;       /* a listener record rebuilt in a tcp_frame (tcp_ls.c) */
    bool err_told : 1;     /* a call reported err, which profile err_once clears */
    bool deleted : 1;      /* RFC 9293 deleted the TCB: an RST or a timeout ended it
                            * (tcp_conn_drop), or it ended normally (tcp_conn_delete) */
    bool wr_shut : 1;      /* shutdown() shut the send side where no FIN could be queued
                            * (SYN-SENT: FreeBSD socantsendmore) */
    tcp_state state : 8;
    uint32_t tlp_high_seq; /* SND.NXT when the loss probe went (valid while tlp_out) */
    uint8_t timer_kind[TCP_TIMER_SLOTS]; /* whose deadline each slot holds */
    int8_t err; /* the tcp_err that ended the connection, 0 while none (after
                 * timer_kind: the byte free before stats) */

    tcp_stats stats;

    /* A passive child never listens (it is born in use) and only a
     * passive child is queued on a listener: one word serves both. */
    union {
        tcp_conn *q_next; /* passive: link in its listener's queue (tcp_lq) */
        tcp_lq *lq;       /* not passive: NULL until the first tcp_listen */
    };
};

/* c's listen queues: NULL for a passive child (its word is q_next) and
 * for a connection that never listened. */
static inline tcp_lq *tcp_conn_lq(const tcp_conn *c)
{
    return c->passive ? NULL : c->lq;
}

/* The deadline of timer k, TCP_NEVER while it is not armed. */
static inline uint64_t tcp_timer_at(const tcp_conn *c, tcp_timer_kind k)
{
    unsigned s = tcp_timer_slot(k);
    return c->timer_kind[s] == k ? c->timer_slot[s] : TCP_NEVER;
}

/* Stores timer k's deadline (tcp_timer_set, tcp_timer.c, is the one to
 * call: it adds what arming the RTO implies). Stopping a timer whose slot
 * holds the other kind's deadline leaves that one armed. */
static inline void tcp_timer_store(tcp_conn *c, tcp_timer_kind k, uint64_t at)
{
    unsigned s = tcp_timer_slot(k);
    if (at == TCP_NEVER) {
        if (c->timer_kind[s] == k)
            c->timer_slot[s] = TCP_NEVER;
        return;
    }
    assert(c->timer_slot[s] == TCP_NEVER || c->timer_kind[s] == k); /* never armed together */
    c->timer_slot[s] = at;
    c->timer_kind[s] = (uint8_t)k;
}

/* The state of Linux's engines, which a profile may turn on: on the
 * receive side the delayed-ACK timeout (delack_max_ns), receive buffer
 * autotuning (rcv_autotune) and SACK compression (comp_sack_*); on the
 * send side the RTT estimator with rto_min on its variance term
 * (rto_min_var). It follows the connection in its
 * pool slot (tcp_tune) in a stack whose profile turns either on, and nowhere else: a connection of
 * another profile does not pay for it. */
typedef struct tcp_rcv_tune {
    uint64_t ato_ns, lrcv_ns; /* delayed-ACK engine: ATO (0: no data yet), last data in */
    uint32_t rcv_rtt_us8;     /* rcv_autotune: receive-side RTT x 8 (rcv_rtt_est), 0: none */
    /* rcv_autotune (Linux rcvq_space, rcv_rtt_last_tsecr): the octets
     * read in the last measured RTT, the read sequence and the
     * microsecond clock (low 32 bits) when that measure began, and the
     * TSecr of the last RTT sample. */
    uint32_t rcvq_space, rcvq_seq, rcvq_us, rcv_rtt_tsecr;
    /* SACK compression (comp_sack_*): duplicate ACKs sent at once since
     * RCV.NXT last moved (Linux dup_ack_counter), and those held since
     * the last ACK went out (compressed_ack). */
    uint8_t dup_acks_sent, comp_acks;
    /* rto_min_var (Linux tcp_rtt_estimator, in its units): mdev_us, four
     * times the mean deviation; mdev_max_us, the largest in this window
     * of data; rtt_seq, SND.NXT when the window began. The RTO's variance
     * term (rttvar_us) is the connection's rttvar_ns. */
    uint32_t mdev_us, mdev_max_us, var_seq;
} tcp_rcv_tune;

/* A connection in TIME_WAIT whose user has let it go (tcp_close or
 * tcp_abort) becomes this minisock: what the TIME_WAIT rules, the
 * readers of tcp.h (state, counters, error, endpoints, TCB) and the TCB
 * event need, and nothing else; the full connection and its rings go back
 * to the pool (tcp_tw.c). The TIME_WAIT deadline is the heap key:
 * sk.heap_at while sk.heap_idx != TCP_HEAP_NONE, else not armed. */
typedef struct tcp_tw {
    tcp_sk sk; /* first, as in tcp_conn */
    tcp_stats stats;
    tcp_conn_opts *opts; /* the connection's, owned now (its MSL) */
    uint64_t oow_start_ns;
    tcp_sock_id id, parent;
    uint32_t raddr;
    uint16_t lport, rport;
    uint32_t iss, irs, snd_max, snd_wnd; /* SND.UNA = SND.NXT = SND.MAX */
    uint32_t rcv_nxt, rcv_adv, last_ack_sent, ts_recent, rcvbuf;
    uint32_t rcv_ssthresh; /* with ratio_known: the window an ACK in TIME_WAIT offers */
    uint16_t rcv_mss, oow_n;
    uint8_t rcv_wscale;
    int8_t err;     /* a tcp_err */
    bool ts_ok : 1; /* as in tcp_conn */
    bool msl_set : 1;
    bool passive : 1;
    bool rcvbuf_set : 1;
    bool ratio_known : 1;
} tcp_tw;

/* A listening socket, and one a shutdown stopped listening that its user
 * still holds, is this record (tcp_ls.c) rather than a full connection:
 * what its rules (RFC 9293 §3.10.7.2, the options its children inherit,
 * the backlog and queues) and the readers of tcp.h read; the rest of a
 * tcp_conn is at its blank values there. It stands in the id table, and
 * in the 4-tuple table as (lport, 0, 0) while in LISTEN; never in the
 * heap (no timer runs in LISTEN or CLOSED). The LISTEN rules (a segment
 * for the listener, tcp_input_listen), accept, listen again, send, recv
 * and the readers of state, counters, error, endpoints and TCB work on
 * the record itself. The rarer calls (bind, connect, setopt, getopt,
 * TCP_INFO, shutdown, close, abort) work on a full connection rebuilt
 * from it in the caller's tcp_frame, which the tables hold in its place
 * until tcp_frame_close puts the record back. */
typedef struct tcp_ls {
    tcp_sk sk; /* first: the tables hold &ls->sk */
    tcp_stats stats;
    tcp_lq *lq;          /* owned, as a listening tcp_conn's */
    tcp_conn_opts *opts; /* owned; NULL: the profile's values */
    tcp_sock_id id;
    uint32_t sndbuf, rcvbuf;
    uint16_t lport, mss;
    bool user_held : 1; /* as in tcp_conn */
    bool released : 1;
    bool ever_used : 1;
    bool port_bound : 1;
    bool msl_set : 1;
    bool isn_set : 1;
    bool linger_zero : 1;
    bool keepalive : 1;
    bool nodelay : 1;
    bool cork : 1;
    bool rd_shut : 1;
    bool acc_abort : 1;
    bool sndbuf_set : 1;
    bool rcvbuf_set : 1;
    uint8_t state; /* TCP_LISTEN or TCP_CLOSED */
    int8_t err;
} tcp_ls;

/* Room for a listener rebuilt for one call: a connection's slot (with
 * the tcp_rcv_tune a tuning profile's slot has) on the caller's C stack,
 * so rebuilding never allocates. ls is the record it was rebuilt from,
 * NULL when the call found a full connection, or when the rebuilt one
 * was reclaimed or moved to the pool. */
typedef struct tcp_frame {
    tcp_conn c;
    tcp_rcv_tune tune;
    tcp_ls *ls;
} tcp_frame;

#define TCP_TABLE_FIRST 2u /* a table's and the heap's slots held in the stack */

/* Intrusive chained hash table; `link` selects the chain field. Its first
 * slots are its own: a host with one or two connections allocates none.
 * Outgrown, their room holds the pointer to the allocated slots. */
typedef struct tcp_table {
    union {
        tcp_sk *first[TCP_TABLE_FIRST]; /* while mask < TCP_TABLE_FIRST */
        tcp_sk **more;                  /* after: mask + 1 slots */
    } at;
    uint32_t mask, count;
} tcp_table;

static inline tcp_sk **tcp_table_slots(const tcp_table *t)
{
    return t->mask < TCP_TABLE_FIRST ? (tcp_sk **)t->at.first : t->at.more;
}

/* tcp_check's state in a stack: where a violation goes, and the event
 * being processed (what a report names). Allocated when the checker is
 * first turned on (a stack that is never checked pays one pointer). */
typedef struct tcp_check_hook {
    bool reported, ev_set;
    uint8_t ev_flags;
    tcp_event_kind ev_kind;
    tcp_check_fn fn;
    void *ctx;
    int ev_detail;
    tcp_sock_id ev_sock;
    uint32_t ev_seq, ev_ack, ev_len;
} tcp_check_hook;

#define TCP_DGRAM_MAX 65535u /* the largest IPv4 datagram */

/* One nesting level of scratch space: a datagram being built and the
 * payload it carries. busy while a stack is building and sending. */
typedef struct tcp_scratch_buf {
    struct tcp_scratch_buf *next;
    bool busy;
    uint8_t out[TCP_DGRAM_MAX];
    uint8_t payload[TCP_DGRAM_MAX];
} tcp_scratch_buf;

/* A ring's memory parked for reuse (tcp_ring_release). */
typedef struct tcp_spare {
    uint8_t *data;
    uint32_t cap; /* 0: the slot is empty */
} tcp_spare;

#define TCP_SPARES 4u /* parked rings per scratch space (so per world) */

/* The levels, allocated as nesting first needs them, freed with the
 * owner; and the parked rings and connection chunk of every stack that
 * shares it. */
struct tcp_scratch {
    tcp_scratch_buf *bufs;
    tcp_spare spare[TCP_SPARES];
    /* A connection pool's first chunk (one connection slot, of
     * spare_conn_size bytes), parked by a stack whose connections are all
     * gone or minisocks, for the next stack with slots of that size that
     * needs one (tcp_stack.c): a minisock's segment rebuilds its
     * connection without allocating. */
    struct tcp_chunk *spare_chunk;
    size_t spare_conn_size; /* its slot's size (conn_slot_size) */
};

/* A local port with at least one user (slot empty while port == 0). */
typedef struct tcp_port_ent {
    uint16_t port;
    uint16_t users; /* connections whose local port this is */
    bool idle;      /* held by a bound socket not yet used (at most one) */
} tcp_port_ent;

/* A chunk of pool slots: the next older chunk, then the slots. The union
 * keeps the slots aligned for their 64-bit members. */
typedef struct tcp_chunk {
    union {
        struct tcp_chunk *older;
        uint64_t align;
    } u;
    /* slots follow */
} tcp_chunk;

/* A pool of fixed-size slots (connections or minisocks) in chunks of 1,
 * 1, 2, 4 ... (tcp_stack.c), listed newest first; a free slot is chained
 * to the next through its first member (sk.id_next, as tcp_sk is first
 * in both). */
typedef struct tcp_pool {
    tcp_chunk *chunks; /* the newest; NULL while none */
    void *free;
    uint32_t nchunks;
    uint32_t used; /* slots taken (pool_get) and not given back */
} tcp_pool;

#define TCP_PORTS_FIRST 2u /* the port table's slots held in the stack: one port */

struct tcp_stack {
    /* The caller's, shared by the stacks of a world; or, when the caller
     * gave no scratch space, the stack's own copy of it with its own
     * scratch space (own_env): env->scratch is the stack's scratch either
     * way (tcp_stack_scratch). */
    const tcp_env *env;
    void *ctx;                  /* env's functions' first argument */
    const tcp_profile *profile; /* the stack's own copy (own_profile), or the caller's */
    uint64_t now;               /* env->now_ns() at the start of the current call */
    uint64_t isn_key[2];        /* RFC 6528 secret, drawn once from env->random */
    uint32_t addr;
    uint32_t next_id; /* ids are never reused */
    /* Tie-break: equal deadlines fire in arming order. It counts up to
     * 2^TCP_HEAP_SEQ_BITS, where the entries in the heap are numbered
     * again from 0 in their order (tcp_stack.c, heap_renumber). */
    uint32_t heap_seq;
    uint32_t heap_len;

    tcp_table by_id;    /* its count: connections, minisocks and listener records */
    tcp_table by_tuple; /* connections, minisocks and, as (lport, 0, 0), listeners */
    /* The deadline heap, 2^heap_bits slots: the first ones in the stack,
     * whose room holds the pointer to allocated ones once it outgrows
     * them (tcp_stack_heap). */
    union {
        tcp_sk *first[TCP_TABLE_FIRST];
        tcp_sk **more;
    } heap;

    tcp_pool pool; /* connections */
    /* Minisocks (tcp_tw.c): allocated with the first and freed with the
     * last chunk, so a host that never holds a TIME_WAIT (a server's, in
     * the race) pays a pointer, not a pool. */
    tcp_pool *tw_pool;

    /* Local ports with a user: open addressing, 2^ports_bits slots, the
     * first ones in the stack until a second port outgrows them (whose
     * room then holds the pointer: tcp_stack_ports). */
    union {
        tcp_port_ent first[TCP_PORTS_FIRST];
        tcp_port_ent *more;
    } ports;
    uint16_t ports_n;   /* ports with a user (port 0 never has one) */
    uint16_t eph_used;  /* ports of the ephemeral range with a user */
    uint32_t malformed; /* datagrams; saturates (tcp_stack_malformed) */
    uint8_t ports_bits, heap_bits;

    bool check_on;         /* tcp_check runs after every event */
    bool own_profile;      /* profile is the stack's copy (tcp_stack_new), freed with it */
    bool own_env;          /* env is the stack's copy, with its own scratch (freed with it) */
    bool no_tcb;           /* TCP_EV_TCB is not reported (tcp_stack_set_tcb_events) */
    tcp_check_hook *check; /* NULL until the checker is first turned on */
};

/* Whether the heap and the port table are in the stack's own slots. */
static inline bool tcp_stack_heap_inline(const tcp_stack *s)
{
    return s->heap_bits <= 1; /* TCP_TABLE_FIRST slots */
}

static inline bool tcp_stack_ports_inline(const tcp_stack *s)
{
    return s->ports_bits <= 1; /* TCP_PORTS_FIRST slots */
}

static inline tcp_sk **tcp_stack_heap(const tcp_stack *s)
{
    return tcp_stack_heap_inline(s) ? (tcp_sk **)s->heap.first : s->heap.more;
}

static inline tcp_port_ent *tcp_stack_ports(const tcp_stack *s)
{
    return tcp_stack_ports_inline(s) ? (tcp_port_ent *)s->ports.first : s->ports.more;
}

/* The scratch space a stack builds its segments in (tcp_env.scratch,
 * its own when the caller gave none). */
static inline tcp_scratch *tcp_stack_scratch(const tcp_stack *s)
{
    return s->env->scratch;
}

/* tcp_tune's record starts right at the end of a tcp_conn. */
_Static_assert(sizeof(tcp_conn) % _Alignof(tcp_rcv_tune) == 0, "tcp_rcv_tune follows tcp_conn");

/* Whether the profile turns on an engine of tcp_rcv_tune. */
static inline bool tcp_profile_tunes(const tcp_profile *p)
{
    return p->delack_max_ns || p->rcv_autotune || p->comp_sack_delay_ns || p->rto_min_var;
}

/* c's tcp_rcv_tune, right after it in its pool slot; only while the
 * stack's profile tunes (the slot is larger then: tcp_stack.c). */
static inline tcp_rcv_tune *tcp_tune(const tcp_conn *c)
{
    assert(tcp_profile_tunes(c->stack->profile));
    return (tcp_rcv_tune *)(uintptr_t)(c + 1);
}

/* ---- tcp_stack.c: tables, heap, pool, events ---- */
tcp_conn *tcp_conn_new(tcp_stack *s);
/* A connection's pool slot: the tcp_conn, and its tcp_rcv_tune when the
 * profile tunes (tcp_tune). */
size_t tcp_conn_slot_size(const tcp_stack *s);
/* Every field of c (a slot of tcp_conn_slot_size) at its zero value:
 * state CLOSED, no timer, the profile's options, in no table, no id. */
void tcp_conn_blank(tcp_stack *s, tcp_conn *c);
/* The full connection with this id (a listener rebuilt in a frame is
 * one while the frame is open); NULL if none, or if it is a minisock
 * (tcp_stack_find_tw) or a listener record (tcp_stack_find_ls). */
tcp_conn *tcp_stack_find(const tcp_stack *s, tcp_sock_id id);
const tcp_tw *tcp_stack_find_tw(const tcp_stack *s, tcp_sock_id id);
/* Settles a connection after a call touched it: reclaims it if it is dead
 * (CLOSED and not held, or a passive child sent back to LISTEN), otherwise
 * moves it in the deadline heap. */
void tcp_stack_settle(tcp_conn *c);
int tcp_stack_hash(tcp_conn *c); /* into the tuple table */
void tcp_stack_unhash(tcp_conn *c);
int tcp_stack_listen_add(tcp_conn *c);
void tcp_stack_listen_remove(tcp_conn *c);
/* The connection or minisock on this 4-tuple, NULL if none. */
tcp_sk *tcp_stack_lookup(const tcp_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport);
/* The listener on lport, a record or (its record not allocated) a full
 * connection; NULL if none. */
tcp_sk *tcp_stack_listener(const tcp_stack *s, uint16_t lport);
/* The entry of socket id: a connection or a listener record; NULL if none
 * or a minisock. */
tcp_sk *tcp_stack_sk(const tcp_stack *s, tcp_sock_id id);
/* Port table (O(1)): a connection counts as a user of its local port from
 * tcp_stack_port_take until it is reclaimed. */
int tcp_stack_port_take(tcp_conn *c, uint16_t port);
bool tcp_stack_port_used(const tcp_stack *s, uint16_t port);
/* A bound socket not yet listening or connected holds the port. */
bool tcp_stack_port_idle(const tcp_stack *s, uint16_t port);
void tcp_stack_port_set_idle(tcp_conn *c, bool idle);
/* An unused port of the profile's ephemeral range, or TCP_EADDRNOTAVAIL. */
int tcp_stack_port_pick(tcp_stack *s, uint16_t *out);
/* The first scratch level not in use, marked busy; NULL on out-of-memory.
 * Every claim is released before the entry point that made it returns. */
tcp_scratch_buf *tcp_scratch_claim(tcp_stack *s);
void tcp_scratch_release(tcp_scratch_buf *b);
/* RFC 6528 F(4-tuple, secret). */
uint32_t tcp_stack_isn_hash(const tcp_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport);
void tcp_ev(tcp_conn *c, tcp_event_kind kind, int detail, const tcp_seg *seg, const char *note);
void tcp_ev_state(tcp_conn *c, tcp_state from, tcp_cause cause, const tcp_seg *seg,
                  const char *note);
void tcp_ev_nosock(tcp_stack *s, tcp_event_kind kind, const tcp_seg *seg, const char *note);
/* tcp_ev for a listener record (its id, no parent, its state). */
void tcp_ev_ls(tcp_stack *s, const tcp_ls *ls, tcp_event_kind kind, int detail, const tcp_seg *seg,
               const char *note);

/* ---- Listener records (tcp_ls.c: their values; tcp_stack.c: the
 * tables). f->ls is always set (NULL unless a record was rebuilt); every
 * frame an open call filled is closed (tcp_frame_close) before its entry
 * point returns. ---- */
/* The connection with this id, a listener record rebuilt in f, or NULL
 * (none, or a minisock). */
tcp_conn *tcp_stack_open(tcp_stack *s, tcp_sock_id id, tcp_frame *f);
/* For the readers of tcp.h: the connection with this id, or its listener
 * record rebuilt in f and left out of the tables; NULL if none. */
const tcp_conn *tcp_stack_view(const tcp_stack *s, tcp_sock_id id, tcp_frame *f);
/* Puts a rebuilt listener back into its record, or, if it no longer
 * fits one (tcp_ls_fits, with the checker on or off), into a pool slot
 * (tcp_stack_unframe); nothing if f->ls is NULL. */
void tcp_frame_close(tcp_frame *f);
/* A listener rebuilt in a frame moved to a pool slot, the record freed
 * (a listener that connects: tcp_connect); c itself if not framed; NULL
 * (c unchanged) on out-of-memory. */
tcp_conn *tcp_stack_unframe(tcp_conn *c);
/* Makes full connection c a listener record if it fits one (tcp_ls_fits);
 * it stays as it is if none can be allocated. */
void tcp_stack_ls_shrink(tcp_conn *c);
/* Listener entry e (tcp_stack_listener, a held socket in LISTEN, or a
 * record a shutdown left in CLOSED: tcp_accept) as a record: e itself,
 * or for a full connection (its record could not be allocated) its
 * values copied into *tmp. Whatever the caller changes in the returned
 * record goes back into the connection with tcp_stack_ls_put, or with
 * tcp_stack_ls_settle, which also does what tcp_stack_settle does after
 * a segment (the checker, the TCB event). */
tcp_ls *tcp_stack_ls_take(tcp_sk *e, tcp_ls *tmp);
void tcp_stack_ls_put(tcp_sk *e, const tcp_ls *ls);
void tcp_stack_ls_settle(tcp_stack *s, tcp_sk *e, const tcp_ls *ls);
/* The listener record with this id; NULL if none (or a full connection). */
const tcp_ls *tcp_stack_find_ls(const tcp_stack *s, tcp_sock_id id);
/* Whether a listener (record or connection) holds lport. */
bool tcp_stack_listening(const tcp_stack *s, uint16_t lport);
/* The queues of the listener with this id (record or connection); NULL
 * if it is gone or never listened. */
tcp_lq *tcp_stack_parent_lq(const tcp_stack *s, tcp_sock_id parent);
/* Whether c has a listener record's shape: LISTEN, or CLOSED after
 * listening (a shutdown) and still held; not in the heap. */
bool tcp_ls_shaped(const tcp_conn *c);
/* Whether c may be a listener record: shaped so, and every field it does
 * not keep at its blank value (checked on a copy rebuilt from one:
 * nothing is lost). */
bool tcp_ls_fits(const tcp_conn *c);
void tcp_ls_save(tcp_ls *ls, const tcp_conn *c);    /* but sk */
void tcp_ls_restore(tcp_conn *c, const tcp_ls *ls); /* c blank; but sk */

/* ---- tcp_tw.c: the TIME_WAIT minisock's values (tcp_stack.c moves it
 * in and out of the tables, the heap and the pools) ---- */
/* True if c may become a minisock now: TIME_WAIT, released by its user,
 * nothing held in its rings, no timer but TIME_WAIT's. */
bool tcp_tw_fits(const tcp_conn *c);
/* Copies what TIME_WAIT needs from c (tcp_tw_fits(c)) into tw, but sk. */
void tcp_tw_save(tcp_tw *tw, const tcp_conn *c);
/* Makes c (fresh from the pool: zero values, the profile's options) the
 * connection tw was saved from, as far as TIME_WAIT can tell, but sk. */
void tcp_tw_restore(tcp_conn *c, const tcp_tw *tw, uint64_t tw_at);

/* ---- tcp_state.c ---- */
/* The one writer of c->state: asserts the edge is legal (RFC 9293 §3.3.2 and
 * §3.10), runs the entry actions of the new state, reports TCP_EV_STATE. */
void tcp_set_state(tcp_conn *c, tcp_state to, tcp_cause cause, const tcp_seg *seg,
                   const char *note);
bool tcp_state_edge_legal(tcp_state from, tcp_state to);
bool tcp_state_synchronized(tcp_state s);
/* A listener's child is born a copy of its listener, in LISTEN, without an
 * event; its first transition (LISTEN -> SYN_RECEIVED) is reported. */
void tcp_state_init_child(tcp_conn *child);
/* Ends the connection: records err (if non-zero, reports TCP_EV_ERROR) and
 * enters CLOSED, deleting the TCB (tcp_conn_delete). */
void tcp_conn_drop(tcp_conn *c, int err, tcp_cause cause, const tcp_seg *seg, const char *note);
/* A normal ending (LAST-ACK's FIN acknowledged, TIME-WAIT expired): RFC
 * 9293's "delete the TCB" before entering CLOSED. What that means for the
 * user still holding the socket is profile closed_deletes_tcb's. */
void tcp_conn_delete(tcp_conn *c, tcp_cause cause, const tcp_seg *seg, const char *note);

/* ---- tcp_input.c ---- */
/* The effective send MSS for a peer MSS (RFC 9293 §3.7.1 MUST-16). */
uint16_t tcp_eff_mss(const tcp_conn *c, uint32_t peer_mss);
void tcp_input(tcp_conn *c, const tcp_seg *seg); /* c not in LISTEN */
/* RFC 9293 §3.10.7.2: a segment for listener entry e (tcp_stack_listener),
 * on its record; settles it (tcp_stack_ls_settle). */
void tcp_input_listen(tcp_stack *s, tcp_sk *e, const tcp_seg *seg);
void tcp_input_no_conn(tcp_stack *s, const tcp_seg *seg);
/* Linux's delayed-ACK engine (profile delack_max_ns): the hooks output and
 * the timers call. */
void tcp_ato_delack_fired(tcp_conn *c);
/* The DELACK deadline that fired was the compressed ACK's (profile
 * comp_sack_*): true, and the ATO is left alone. */
bool tcp_comp_ack_fired(tcp_conn *c);
void tcp_ato_data_sent(tcp_conn *c);
void tcp_ato_ack_sent(tcp_conn *c);

/* ---- tcp_output.c ---- */
void tcp_output(tcp_conn *c); /* data, FIN and a pending ACK, as allowed */
void tcp_out_syn(tcp_conn *c, bool rexmit);
uint8_t tcp_wscale_for(uint32_t buf);
uint32_t tcp_rcv_space(const tcp_conn *c); /* receive buffer offered as window */
/* The part of `space` (tcp_rcv_space) the bytes held in order leave free. */
uint32_t tcp_rcv_free(const tcp_conn *c, uint32_t space);
/* The window the last segment sent offered: RCV.ADV - its ACK number
 * (Linux tp->rcv_wnd). */
uint32_t tcp_wnd_offered(const tcp_conn *c);
uint8_t tcp_rcv_wscale(const tcp_conn *c); /* the window scale we offer */
uint32_t tcp_syn_wnd(const tcp_conn *c);   /* the window of our SYN or SYN,ACK */
void tcp_out_ack(tcp_conn *c);
void tcp_out_challenge_ack(tcp_conn *c);
bool tcp_out_oow_ack(tcp_conn *c); /* an ACK to a bad segment, rate-limited */
/* The ACK to an unacceptable segment: tcp_out_oow_ack, or unlimited for data
 * or a FIN without SYN when the profile's oow_ack_data_exempt says so. */
void tcp_out_unacceptable_ack(tcp_conn *c, const tcp_seg *seg);
void tcp_out_rst(tcp_conn *c); /* active reset: <SEQ=SND.MAX><CTL=RST[,ACK]> */
/* RFC 9293 §3.10.7.1 reply to `seg`: <SEQ=SEG.ACK><CTL=RST> if it has ACK,
 * else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. c may be NULL. */
void tcp_out_rst_reply(tcp_stack *s, tcp_conn *c, const tcp_seg *seg);
void tcp_out_rst_reply_ls(tcp_stack *s, tcp_ls *ls, const tcp_seg *seg); /* a listener's */
void tcp_out_keepalive(tcp_conn *c);
void tcp_out_probe(tcp_conn *c);
void tcp_out_retransmit_first(tcp_conn *c); /* the segment at SND.UNA */
void tcp_out_loss_probe(tcp_conn *c);       /* RFC 8985 §7.3: new data, else the last segment */
void tcp_out_wakeup(tcp_conn *c);           /* corked data: one segment, window allowing */
uint32_t tcp_rcv_wnd(const tcp_conn *c);    /* RCV.WND in bytes */
uint32_t tcp_snd_data_end(const tcp_conn *c);
uint32_t tcp_flight(const tcp_conn *c);
void tcp_sndbuf_expand(tcp_conn *c); /* profile sndbuf_expand: at establishment */
void tcp_sndbuf_grow(tcp_conn *c);   /* ... and after an ACK, writer waiting, cwnd not full */
bool tcp_fin_acked(const tcp_conn *c);
/* Profile grow_window: Linux's window_clamp, and rcv_ssthresh kept within
 * it at establishment (tcp_init_buffer_space). */
uint32_t tcp_rcv_clamp(const tcp_conn *c);
void tcp_rcv_init_space(tcp_conn *c);
/* Linux __tcp_select_window with the ATO engine: free space under half the
 * full space leaves no quick ACK (called for every window offered). */
void tcp_quickack_squeeze(tcp_conn *c);
/* The window Linux __tcp_select_window would offer now, against `offered`,
 * the window the last segment offered (no side effect). */
uint32_t tcp_wnd_select(const tcp_conn *c, uint32_t offered);
/* Profile rcv_autotune: Linux tcp_rcv_space_adjust after a read, and
 * tcp_rcvbuf_grow (also for data held out of order). */
void tcp_rcv_space_adjust(tcp_conn *c);
void tcp_rcvbuf_grow(tcp_conn *c, uint32_t newval);

/* ---- tcp_timer.c ---- */
void tcp_timer_run(tcp_conn *c); /* every due timer of c, in kind order */
void tcp_timer_set(tcp_conn *c, tcp_timer_kind k, uint64_t at);
/* now + d, saturating; on the profile's timer wheel when timer_hz is set */
uint64_t tcp_after(const tcp_conn *c, uint64_t d);
uint64_t tcp_after_exact(const tcp_conn *c, uint64_t d); /* now + d, saturating */
void tcp_timer_stop(tcp_conn *c, tcp_timer_kind k);
void tcp_timer_stop_all(tcp_conn *c);
void tcp_timer_arm_rtx(tcp_conn *c); /* at now + RTO unless armed */
void tcp_timer_restart_rtx(tcp_conn *c);
/* After new data or an ACK: the loss-probe timeout instead of the RTO when
 * the profile's tlp allows one now (RFC 8985 §7.2); else as arm/restart. */
void tcp_timer_rtx_or_pto(tcp_conn *c, bool restart);
void tcp_timer_arm_keepalive(tcp_conn *c);
void tcp_timer_enter_state(tcp_conn *c); /* entry actions of c->state */
uint64_t tcp_time_wait_ns(const tcp_conn *c);
uint64_t tcp_persist_interval(const tcp_conn *c); /* the next zero-window probe */
/* The persist timer, one backed-off interval from now (clamped to the user
 * timeout); the backoff is left as it is. */
void tcp_timer_persist_rearm(tcp_conn *c);
void tcp_rtt_sample(tcp_conn *c, uint64_t rtt_ns, uint32_t ack);

/* ---- tcp_buf.c: rings and the out-of-order list ---- */
/* Makes the ring hold at least `need` bytes: on first use takes a parked
 * ring of sc that fits or allocates one, else doubles it up to `max`,
 * keeping every byte at its offset. TCP_EINVAL (the ring unchanged) when
 * need > max, TCP_ENOMEM when memory runs out, else 0. */
int tcp_ring_reserve(tcp_ring *r, uint32_t need, uint32_t max, tcp_scratch *sc);
void tcp_ring_free(tcp_ring *r);
uint32_t tcp_ring_cap(const tcp_ring *r); /* 0 without memory */
/* Lets an empty ring's memory go: parked in sc for the next ring to take
 * (the largest TCP_SPARES are kept), or freed. The ring reads as never
 * used (data NULL, cap 0). */
void tcp_ring_release(tcp_ring *r, tcp_scratch *sc);
void tcp_ring_spares_free(tcp_scratch *sc);
size_t tcp_ring_spares_bytes(const tcp_scratch *sc); /* their capacity */
/* What a ring's memory takes from the allocator: its capacity and the
 * block's header (reference count and header room); 0 without memory. */
size_t tcp_ring_bytes(const tcp_ring *r);
uint32_t tcp_ring_push(tcp_ring *r, const uint8_t *src, uint32_t n);
void tcp_ring_copy_out(const tcp_ring *r, uint32_t off, uint8_t *dst, uint32_t n);
void tcp_ring_write_at(tcp_ring *r, uint32_t off, const uint8_t *src, uint32_t n);
void tcp_ring_consume(tcp_ring *r, uint32_t n);
/* Zero-copy output (tcp_buf.c, "Lending"): when the n bytes at offset off
 * start the ring's memory, lie within len and no datagram holds them yet,
 * a pointer at them with TCP_RING_ROOM writable bytes before it, and
 * *owner set; the bytes stay unchanged until tcp_ring_lent_release(*owner).
 * Otherwise NULL (the caller copies). */
uint8_t *tcp_ring_lend(tcp_ring *r, uint32_t off, uint32_t n, void **owner);
void tcp_ring_lent_release(void *owner);
/* The send queue, whichever form it has (a ring, or a count of pattern
 * bytes); sndq.len is its length either way. */
/* Drops the first n queued bytes (acknowledged). */
void tcp_sndq_consume(tcp_conn *c, uint32_t n);
/* The n pattern bytes at offset off, contiguous in the pattern, or NULL
 * (the queue is a ring, or the run would pass the pattern's len). */
const uint8_t *tcp_sndq_pattern_run(const tcp_conn *c, uint32_t off, uint32_t n);
/* Copies n queued bytes from offset off. */
void tcp_sndq_copy_out(const tcp_conn *c, uint32_t off, uint8_t *dst, uint32_t n);
/* Queues up to len bytes from buf, or (buf NULL) from pattern p at phase;
 * returns how many, or a tcp_err (TCP_ENOMEM). */
long tcp_sndq_push(tcp_conn *c, const uint8_t *buf, const tcp_pattern *p, uint32_t phase,
                   size_t len);
/* Frees the queue (tcp_ring_free for a ring). */
void tcp_sndq_free(tcp_conn *c);
/* Memory it holds (tcp_ring_bytes; a count holds none). */
size_t tcp_sndq_bytes(const tcp_conn *c);
/* Zero-copy output of a ring's bytes: tcp_ring_lend on a ring, NULL on a
 * count. */
uint8_t *tcp_sndq_lend(tcp_conn *c, uint32_t off, uint32_t n, void **owner);
/* Records [start, end) as held out of order; false if no room. */
bool tcp_ooo_add(tcp_conn *c, uint32_t start, uint32_t end);
/* Advances rcv_nxt over held ranges now in order; returns bytes gained. */
uint32_t tcp_ooo_advance(tcp_conn *c);

/* ---- tcp_sack.c: the SACK blocks a receiver reports (RFC 2018 §4) ---- */
/* RFC 2018 §2: both SYNs carried SACK-permitted (the peer's, and ours,
 * which the profile's send_sack_perm sends). */
static inline bool tcp_sack_agreed(const tcp_conn *c)
{
    return c->sack_ok && c->stack->profile->send_sack_perm;
}
/* The place in the list of the first block [seq, end) touches or
 * overlaps; the block count if none. */
unsigned tcp_sack_slot(const tcp_conn *c, uint32_t seq, uint32_t end);
/* [seq, end) was just held out of order (tcp_ooo_add succeeded, SACK
 * agreed): its block goes first. May send the ACK SACK compression holds
 * (Linux tcp_sack_compress_send_ack). */
void tcp_sack_note(tcp_conn *c, uint32_t seq, uint32_t end);
/* A bare FIN at fin_seq was held out of order: with profile sack_fin
 * (Linux tcp_data_queue_ofo queues it) its octet is noted as a block. */
void tcp_sack_note_fin(tcp_conn *c, uint32_t fin_seq);
/* RCV.NXT moved: blocks it reaches are gone. */
void tcp_sack_prune(tcp_conn *c);
/* Forgets the SACK report: no block, no D-SACK block waiting (Linux
 * tcp_sack_reset). The ranges held stay. */
void tcp_sack_reset(tcp_conn *c);
/* Profile sack_fin: the peer's FIN waits beyond RCV.NXT, held out of
 * order as Linux holds it, so a block may end one past it. */
static inline bool tcp_sack_fin_held(const tcp_conn *c)
{
    return c->stack->profile->sack_fin && c->fin_pending && !c->fin_rcvd &&
           tcp_seq_ge(c->peer_fin_seq, c->rcv_nxt);
}
/* How many blocks a segment carries now (0 unless SACK was agreed), and
 * the option bytes they take (tcp_wire's NOP,NOP,SACK). */
unsigned tcp_sack_count(const tcp_conn *c);
uint32_t tcp_sack_opt_len(const tcp_conn *c);
/* Writes tcp_sack_count blocks at out (8 bytes each, tcp_seg.sack's
 * form); returns their count. */
unsigned tcp_sack_write(const tcp_conn *c, uint8_t *out);
/* The highest right edge of the blocks: false when there are none. */
bool tcp_sack_highest_edge(const tcp_conn *c, uint32_t *edge);
/* RFC 2883 (profile dsack): [seq, end) was received twice. Linux
 * tcp_dsack_set: it becomes the D-SACK block the next segment carries
 * first; tcp_dsack_extend: a block already waiting grows if [seq, end)
 * touches it, else stays. Nothing on a connection that did not agree SACK,
 * or if the out-of-order record cannot be allocated. */
void tcp_dsack_set(tcp_conn *c, uint32_t seq, uint32_t end);
void tcp_dsack_extend(tcp_conn *c, uint32_t seq, uint32_t end);
/* The first range held out of order that [seq, end) overlaps, cut to
 * [seq, end), as a D-SACK block; no-op if none. ofo: [seq, end) is held
 * out of order (Linux tcp_data_queue_ofo: tcp_dsack_set where it starts
 * inside held data, else tcp_dsack_extend); else it came in order (Linux
 * tcp_ofo_queue: tcp_dsack_extend). */
void tcp_dsack_held(tcp_conn *c, uint32_t seq, uint32_t end, bool ofo);
/* A segment carrying the blocks went out: the D-SACK block is reported
 * once (Linux tcp_options_write, FreeBSD tcp_clean_dsack_blocks). */
void tcp_sack_sent(tcp_conn *c);

/* ---- tcp_check.c: the hooks tcp_stack.c calls, and direct checks ---- */
/* Notes the event an entry point is processing (segment in, timer, user). */
void tcp_check_event(tcp_conn *c, tcp_event_kind kind, int detail, const tcp_seg *seg);
/* The same for socket id (a listener record's event: tcp_ev_ls). */
void tcp_check_note(tcp_stack *s, tcp_sock_id id, tcp_event_kind kind, int detail,
                    const tcp_seg *seg);
/* Checks the transition c just made from `from` (reports a violation). */
void tcp_check_transition(tcp_conn *c, tcp_state from, tcp_cause cause, const tcp_seg *seg);
/* Checks c as an entry point leaves it (reports a violation). */
void tcp_check_after(tcp_conn *c);
/* Invariants 1-4 of tcp_check.h on c now: true and *r filled if one fails. */
bool tcp_check_conn(const tcp_conn *c, tcp_check_report *r);
/* Invariant 5 for a transition from -> to: true and *r filled if illegal. */
bool tcp_check_edge(const tcp_conn *c, tcp_state from, tcp_state to, tcp_cause cause,
                    const tcp_seg *seg, tcp_check_report *r);

/* ---- tcp_user.c ---- */
void tcp_conn_init_opts(tcp_conn *c, const tcp_profile *p);
/* The options of tcp_conn_opts: c's record, else the profile's values. */
uint64_t tcp_opt_ka_idle_ns(const tcp_conn *c);
uint64_t tcp_opt_ka_intvl_ns(const tcp_conn *c);
uint32_t tcp_opt_ka_cnt(const tcp_conn *c);
uint64_t tcp_opt_user_timeout_ns(const tcp_conn *c);
uint64_t tcp_opt_msl_ns(const tcp_conn *c);
/* Gives child the options of tcp_conn_opts it inherits from its
 * listener's record of them, lo (NULL: the profile's values; the ISN is
 * not inherited): TCP_ENOMEM if the child's cannot be allocated, else 0. */
int tcp_conn_inherit_opts(tcp_conn *child, const tcp_conn_opts *lo);
/* RFC 6528: the ISN for the 4-tuple of c now. */
uint32_t tcp_conn_isn_hash(const tcp_conn *c);
void tcp_conn_init_seq(tcp_conn *c, uint32_t iss);

#endif
