/*
 * net — the C simulation API: a TCP stack on each simulated host, the
 * re-entry bracket and deferred callbacks, socket records, segment rules
 * with C predicates, and crafted segments. No Lua: a C program builds a
 * world of hosts and links, runs connections and injects faults with this
 * header alone; the run controls stay in sim_world.h (net_world).
 *
 * Rules a caller may rely on (docs/net.md explains each, with its test):
 *  1. A net owns its sim_world, its hosts' stacks, every socket record and
 *     every rule; net_free frees all. Records outlive their connections:
 *     a record index stays valid (and its contents readable) until
 *     net_free, records never move (they live in fixed chunks).
 *  2. Every call into a host's stack is bracketed; when the bracket closes
 *     the host's one timer is re-armed at the stack's next deadline.
 *  3. observer.on_event runs synchronously inside the stack call: it may
 *     record, never call net_*. observer.on_state runs after the outermost
 *     stack call has returned, in the order the changes happened, and may
 *     call any net_* function; what it causes is run in the same pass.
 *     Then the after-step callback (net_set_after) runs once, like a rule
 *     callback: read-only queries only (a user call answers NET_EBUSY).
 *  4. No net_* function longjmps or returns with the bracket open.
 *     Bindings for other languages check every argument first, then make
 *     one net_* call: an error raised between entering and leaving a stack
 *     call would leave the bracket open forever.
 *  5. A crash frees the host's stack: its live sockets go to CLOSED (cause
 *     user, note "host crash"), packets reaching it are discarded. A
 *     restart starts a new stack with fresh socket ids; a call on a record
 *     of the crashed stack answers NET_EDOWN before the restart, TCP_EBADF
 *     after it (never the new socket holding its id; close and abort
 *     release the record all the same).
 *  6. Rules on a link direction are walked in the order they were added;
 *     the first that acts on a segment decides its fate. net_halt stops
 *     the walk, the deferred callbacks and the world at once. A rule added
 *     during a walk acts from the next segment on.
 *  7. Operating errors return a negative tcp_err (or NET_E*), never abort;
 *     out of memory aborts with a message.
 *  8. With checking on (net_set_check), every host stack checks its
 *     invariants (stack/tcp_check.h) after every event, restarted stacks
 *     included. The first violation goes to observer.on_violation (inside
 *     the stack call, as on_event), halts the net and stays readable as
 *     net_error until net_unhalt.
 *  9. A probe (net_set_probe) sees every stack event after the observer,
 *     and decides the fate of every segment the rules let pass, in the
 *     order segments enter links; it runs inside the world like a rule.
 * 10. With the stepped wire on (net_wire_set), a datagram a host outputs
 *     meets its link's rules and probe at once and then waits in the wire,
 *     in due-time order (output time + the link direction's delay), until
 *     it is delivered: by hand (net_wire_deliver ...), or, while the wire
 *     flows, by one world timer when it falls due. Delivery hands it to
 *     the destination's stack at once. Nothing else of the link applies.
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"
#include "tcp.h"
#include "tcp_wire.h"

typedef struct net net;

#define NET_NONE UINT32_MAX /* "no record / no host" */

/* Errors of their own (the stack's are tcp_err, also negative). */
enum {
    NET_EDOWN = -100,    /* the host is crashed */
    NET_ECLOSED = -101,  /* close/abort was called on this record */
    NET_ETOOBIG = -102,  /* a crafted segment does not fit NET_INJECT_DATA_MAX */
    NET_ENOPORTS = -103, /* a crafted segment has no ports */
    NET_EBUSY = -104,    /* a user call from inside a stack call (a rule callback) */
    NET_ELIMIT = -105    /* a net already holds NET_RULES_MAX rules */
};
/* A message for a tcp_err or NET_E* code. */
const char *net_err_name(int err);

/* ---- The world ---- */

typedef struct net_observer {
    void *ctx;
    /* Every stack event, inside the stack call (rule 3). May be NULL. */
    void (*on_event)(void *ctx, uint32_t host, const tcp_event *ev);
    /* Free text the glue has to say ("A crashed"). May be NULL. */
    void (*on_note)(void *ctx, uint64_t time_ns, const char *text);
    /* A record changed state, after the stack call (rule 3). May be NULL. */
    void (*on_state)(void *ctx, uint32_t sock, tcp_state from, tcp_state to);
    /* A broken stack invariant, one line "host A: TIME_WAIT violated by
     * ..." (rule 8); the net halts after it returns. May be NULL. */
    void (*on_violation)(void *ctx, uint32_t host, const char *report);
} net_observer;

/* A world seeded with `seed`; NULL when out of memory. */
net *net_new(uint64_t seed);
void net_free(net *n);
sim_world *net_world(const net *n);
void net_set_observer(net *n, const net_observer *obs);
/* Whether socket records keep the bytes read (rx); on by default. Off, a
 * record only counts them (nrx) and rx stays NULL, so memory does not grow
 * with the bytes moved. Set it before the first connection. */
void net_set_keep_rx(net *n, bool keep);
/* Keyed link draws (sim_link.h): on, each TCP segment's loss, jitter,
 * reorder, duplication and corruption on a link are drawn from a key naming
 * the segment (its flow, seq and ack relative to the ISNs, length, flags
 * but PSH/ECE/CWR, and the how-many-th time it is sent: net_draw.c), not
 * from the link's stream, so the same segment meets the same fate whenever
 * it is sent; other datagrams draw from the stream. Off by default (the
 * stream, as every trace so far). Turn it on before the first datagram.
 * Returns 0, or -1 out of memory (the world's error says so). */
int net_set_keyed_draws(net *n, bool on);
bool net_keyed_draws(const net *n);
/* The heap the keyed draws' tables hold: at most NET_KEYED_DRAWS_MAX_BYTES
 * however many segments and connections cross the links (net_draw.c,
 * invariant 3); 0 while off. */
size_t net_keyed_draws_bytes(const net *n);
#define NET_KEYED_DRAWS_MAX_BYTES ((size_t)(4u << 20) + (256u << 10) + 128u)
/* Whether records keep the bytes read (net_set_keep_rx). */
bool net_keeps_rx(const net *n);
/* Room for `hosts` stack hosts in all, said before they are added: the heap
 * is grown once for them, backed by huge pages where the system offers them
 * (sim_mem.h), and the core's lookups of hosts by name and address are
 * made at their final size (sim_host_reserve), the lookup of links by
 * host pair for hosts / 2 links (sim_link_reserve). A hint for speed at
 * hundreds of thousands of hosts: outputs are the same with or without it,
 * and adding more hosts than said still works. The heap asked for is
 * NET_HOST_RESERVE_BYTES a host not yet added: what a host of the race
 * (bench/race) holds at its peak, 2.4 KiB measured (docs/performance.md,
 * "Ninth round"), rounded up; a host holding more grows the heap past the
 * reservation as it would without one. */
#define NET_HOST_RESERVE_BYTES 2560u
void net_reserve(net *n, uint32_t hosts);
/* One more listener: called after every outermost stack call (a segment
 * arriving, a timer, a user call), once the deferred callbacks have run,
 * unless the net halted (rule 3). NULL fn removes it. */
void net_set_after(net *n, void (*fn)(void *ctx), void *ctx);
/* Stops the world and every walk under way (rule 6); net_halted says so
 * until net_unhalt, which also forgets net_error. */
void net_halt(net *n);
bool net_halted(const net *n);
void net_unhalt(net *n);
/* Rule 8: invariant checking on every host stack, now and after every
 * restart. Off by default, on by default in debug builds. Not from inside
 * a stack call. 0, or TCP_ENOMEM when a stack's checker could not be made
 * (checking is then on for the stacks before it; a host started later
 * without memory for its checker fails to start). */
int net_set_check(net *n, bool on);
bool net_check(const net *n);
/* The report of the invariant violation that halted the net, or NULL. */
const char *net_error(const net *n);
/* True while a stack call is under way (a rule callback runs inside one). */
bool net_in_stack(const net *n);

/* ---- Hosts ---- */

/* The stack of a host, for a caller that drives it directly (a stack test),
 * or NULL while the host is crashed. Such a caller makes its calls outside
 * the bracket, so it calls net_host_sync before running the world: the
 * host's timer is re-armed at the stack's next deadline and the deferred
 * callbacks run (rule 2). */
tcp_stack *net_host_stack(const net *n, uint32_t host);
/* Returns 0, NET_EBUSY (inside a stack call) or NET_EDOWN. */
int net_host_sync(net *n, uint32_t host);

/* Adds a host running a stack with `profile`; its random stream is named
 * "tcp:<name>". Returns 0 or -1 with sim_world_error set (or out of memory). */
int net_host_add(net *n, const char *name, uint32_t addr, const tcp_profile *profile,
                 uint32_t *out);
uint32_t net_host_count(const net *n);
sim_host *net_host_sim(const net *n, uint32_t host);
const tcp_profile *net_host_profile(const net *n, uint32_t host);
bool net_host_up(const net *n, uint32_t host);
/* Connections the host's stack holds (0 while crashed). */
size_t net_host_conns(const net *n, uint32_t host);
/* New sockets of the host take their MSS from its interface: the smallest
 * MTU of the links leaving it, less 40 (IPv4 + TCP headers), at least 64;
 * socket options may still override it. net_host_keep_mss makes them keep
 * the profile's mss instead (a caller that set the mss knob says so after
 * net_host_add). net_host_iface_mss returns 0 when the host has no link or
 * keeps the profile's mss. */
void net_host_keep_mss(net *n, uint32_t host);
uint16_t net_host_iface_mss(const net *n, uint32_t host);
/* Hands a datagram to the host's stack now, as if it had just arrived
 * (hostile bytes welcome: the stack counts and drops what it rejects). The
 * bytes are not kept. Returns 0, NET_EDOWN or NET_EBUSY. */
int net_host_input(net *n, uint32_t host, const uint8_t *bytes, size_t len);
/* Rule 5. Return 0, or NET_EDOWN (crash of a crashed host) / -1 (restart
 * of a running host, or out of memory). */
int net_host_crash(net *n, uint32_t host);
int net_host_restart(net *n, uint32_t host);

/* ---- Socket records ---- */

/* The longest note a step keeps; a longer one is cut. */
#define NET_NOTE_MAX 31u

/* One state step: 16 bytes, as every socket keeps all of its steps. */
typedef struct net_trace_step {
    uint64_t time_ns;
    uint32_t note; /* its text: net_step_note (valid until net_free) */
    uint8_t state; /* a tcp_state */
    uint8_t cause; /* a tcp_cause */
} net_trace_step;

/* Steps kept in the record itself: a listener's two (socket(), LISTEN)
 * take no allocation; later steps go to step_more, holding 2, 6, 14, ...
 * (the net's pool, net_sock.c) */
#define NET_TRACE_INLINE 2u

/* What the glue remembers of one socket, for its whole life and after.
 * Its steps are read with net_sock_step, never through the fields. Three
 * records a connection pair (client, listener, child), so the record
 * holds no room counts (rx keeps its room in front of its bytes) and the
 * send queue lives apart while it holds bytes (txq): 104 bytes on LP64. */
typedef struct net_sock {
    uint32_t host;
    tcp_sock_id id;
    uint32_t parent; /* index of the listener's record, or NET_NONE */
    uint32_t raddr;
    uint16_t lport, rport; /* remembered once known */
    uint32_t ntrace;       /* state steps so far */
    int error;
    uint8_t state;             /* a tcp_state */
    uint8_t tx_phase;          /* where the next bytes queued stand in the pattern
                                  while txq is NULL (net_call.c) */
    bool alive : 1;            /* the stack still has the connection */
    bool released : 1;         /* close/abort called: no more user calls */
    bool autoread : 1;         /* read everything as it arrives; a listener's child:
                                  from accept() on, never before */
    bool accepted : 1;         /* handed out by accept() */
    bool close_pending : 1;    /* wait for tx to drain */
    bool shutdown_pending : 1; /* likewise */
    bool rd_shut : 1;          /* the user shut the read side (shutdown "rd"): bytes after it
                                  may be discarded (profile shut_rd_discard), none are owed */
    bool tx_bytes : 1;         /* while txq is NULL: the pattern queued next is kept as bytes */
    bool tx_moved : 1;         /* while txq is NULL: the queue's position is past 0 (at a
                                  multiple of 26, tx_phase 0 does not say) */
    tcp_stats *kept_stats;     /* the counters as the stack let the connection
                                  go; NULL while it lives (net_sock_stats reads
                                  the stack then) or if it never went */
    net_trace_step step_in[NET_TRACE_INLINE]; /* steps 0 .. NET_TRACE_INLINE-1 */
    net_trace_step *step_more;                /* the later ones, or NULL */
    char *rx;                                 /* bytes read so far (NULL when the net keeps none) */
    size_t nrx;
    struct net_txq *txq; /* bytes given to send() not yet taken by the stack
                            (net_call.c); NULL while there are none */
} net_sock;

uint32_t net_sock_count(const net *n);
const net_sock *net_sock_at(const net *n, uint32_t sock);

/* Step i (< k->ntrace) of a record's state trace, oldest first. */
static inline const net_trace_step *net_sock_step(const net_sock *k, uint32_t i)
{
    return i < NET_TRACE_INLINE ? &k->step_in[i] : &k->step_more[i - NET_TRACE_INLINE];
}
/* A step's note: the world's one copy of it, "" for none. */
const char *net_step_note(const net *n, const net_trace_step *step);

/* A socket option and its value, checked by the caller's parser. */
typedef struct net_opt {
    tcp_opt opt;
    uint64_t value;
} net_opt;
#define NET_OPTS_MAX 16

typedef struct net_listen_opts {
    uint16_t port;
    uint32_t backlog;
    bool autoread;
    net_opt opts[NET_OPTS_MAX];
    uint32_t nopts;
    uint32_t failed_opt; /* out: index of the option the stack refused, or NET_NONE */
} net_listen_opts;

typedef struct net_connect_opts {
    uint32_t raddr;
    uint16_t rport;
    uint16_t lport; /* 0: an ephemeral port */
    bool autoread;
    net_opt opts[NET_OPTS_MAX];
    uint32_t nopts;
    uint32_t failed_opt; /* out: as above */
} net_connect_opts;

/* socket + bind + options + listen/connect. On success *out is the new
 * record. On an error the record may exist already (it is not returned). */
int net_listen(net *n, uint32_t host, net_listen_opts *o, uint32_t *out);
int net_connect(net *n, uint32_t host, net_connect_opts *o, uint32_t *out);
/* An active OPEN on an existing socket, a listener (RFC 9293 §3.10.1 OPEN
 * in LISTEN; the profile's listen_connect decides): tcp_connect's result.
 * TCP_EINVAL on a kernel host. */
int net_connect_sock(net *n, uint32_t sock, uint32_t raddr, uint16_t rport);
/* Queues len bytes (data, or NULL for the pattern 'a'..'z' by stream
 * offset) and hands the stack what it takes now; the rest follows as the
 * window opens. Returns 0 or the stack's error (nothing queued then).
 * While only the pattern is queued, neither the record nor the stack
 * holds a copy of it (tcp_send_pattern), and its segments travel as split
 * packets whose payload is read in one shared read-only table: a transfer
 * of any size costs what one of 1 kB does. */
int net_send(net *n, uint32_t sock, const char *data, size_t len);
/* Reads up to max bytes into buf (also kept in the record's rx). Returns
 * the count, 0 at end of stream, TCP_EAGAIN when nothing is ready, or an
 * error. */
long net_recv(net *n, uint32_t sock, char *buf, size_t max);
/* Hands the stack what its send buffer takes now, nothing more (a
 * program's non-blocking send): returns the count taken, TCP_EAGAIN when
 * none fits (or bytes queued by net_send wait in front), or an error. The
 * bytes taken count in the record's tx as net_send's do. */
long net_send_now(net *n, uint32_t sock, const char *data, size_t len);
/* shutdown/close wait for queued bytes; abort drops them. */
int net_shutdown(net *n, uint32_t sock);
/* shutdown(SHUT_RD) (tcp_shutdown_read; on a kernel host the kernel's). */
int net_shutdown_read(net *n, uint32_t sock);
/* The connection's TCP_INFO view (tcp_sock_info; on a kernel host the
 * kernel's getsockopt(TCP_INFO) and SIOCINQ/SIOCOUTQ); TCP_EBADF once the
 * stack no longer has it or the user released it. */
int net_sock_info(net *n, uint32_t sock, tcp_sockinfo *out);
/* The connection's variables (RFC 9293 §3.3.1, tcp_sock_tcb): 0 and *out
 * filled; TCP_EBADF once the stack no longer has it or the user released
 * it; TCP_EINVAL on a kernel host (the kernel's TCB cannot be read). */
int net_sock_tcb(const net *n, uint32_t sock, tcp_tcb *out);
/* CLOSE: releases the record, also when the stack answers an error
 * (tcp_close: TCP_ENOTCONN under profile closed_deletes_tcb once the TCB
 * was deleted) and when the record is found dead (its host crashed:
 * TCP_EBADF); 0 while queued bytes defer the call. Nothing is released
 * when the host is down, inside a stack call (NET_EBUSY) or the record
 * was released already. */
int net_close(net *n, uint32_t sock);
int net_abort(net *n, uint32_t sock);
/* The next accepted connection's record, or TCP_EAGAIN. */
int net_accept(net *n, uint32_t listener, uint32_t *out);
/* Applies options in order; *failed_opt as in net_listen_opts. */
int net_setopt(net *n, uint32_t sock, const net_opt *opts, uint32_t nopts, uint32_t *failed_opt);
/* An option's value now (tcp_getopt); TCP_EINVAL on a kernel host. */
int net_getopt(net *n, uint32_t sock, tcp_opt opt, uint64_t *out);
/* getsockopt(SO_ERROR): *err is the error the stack's next send or receive
 * would report (0: none), which reading clears as such a call does
 * (tcp_sock_take_error). Returns 0; TCP_EBADF once the stack no longer has
 * the connection (a crash) or the user released it; TCP_EINVAL on a
 * kernel host (its error is read as it closes: net_sock error). */
int net_sock_take_error(net *n, uint32_t sock, int *err);
void net_set_autoread(net *n, uint32_t sock, bool on);
/* Reads everything the stack holds for the socket into its rx. */
void net_drain(net *n, uint32_t sock);
/* Bytes ready to read now. */
size_t net_readable(const net *n, uint32_t sock);
/* The socket's counters: the stack's own while it has the connection, the
 * last ones it had once it let the connection go, zeros if there never were
 * any (a kernel host). Valid until the next call into the net. */
const tcp_stats *net_sock_stats(const net *n, uint32_t sock);
/* Refreshes the record's ports. */
void net_sock_ports(net *n, uint32_t sock);

/* ---- Links and segment rules ---- */

/* Adds a link between two hosts, with its rule walk installed. Returns 0,
 * or -1 with sim_world_error set. */
int net_link_add(net *n, uint32_t a, uint32_t b, const sim_link_params *ab,
                 const sim_link_params *ba, uint32_t *out);

/* Which segments a rule or query is about. A zeroed filter with dir and len
 * -1 matches every segment. */
typedef struct net_filter {
    int dir;       /* link direction 0/1, or -1 for both */
    uint8_t flags; /* these flags set (or, exact, these flags less PSH) */
    bool exact;
    int64_t len;           /* payload length, or -1 for any */
    bool has_seq, has_ack; /* SEG.SEQ == seq; ACK set and SEG.ACK == ack */
    uint32_t seq, ack;     /* absolute sequence numbers */
    uint64_t after_ns;     /* sent at after_ns or later */
    uint64_t before_ns;    /* when not 0: sent before before_ns (not at it) */
} net_filter;
/* Whether segment `seg` going in direction `dir`, sent (entering the link)
 * at sent_ns, matches f. */
bool net_filter_matches(const net_filter *f, int dir, const tcp_seg *seg, uint64_t sent_ns);

/* A segment on its way through a link, as a rule callback sees it. */
typedef struct net_seg_view {
    uint32_t link;
    int dir;
    const sim_packet *packet;
    const tcp_seg *seg;
    const uint8_t *bytes; /* the whole datagram (packet->len bytes), during the call */
} net_seg_view;

typedef enum net_rule_action {
    NET_RULE_DROP,
    NET_RULE_DUPLICATE,
    NET_RULE_DELAY,
    NET_RULE_HOLD,
    NET_RULE_HOOK /* hook() decides for every matching segment */
} net_rule_action;

typedef struct net_rule_opts {
    net_rule_action action;
    net_filter filter;
    uint32_t skip;  /* matches to let pass first */
    uint32_t count; /* matches to act on */
    uint32_t copies;
    uint64_t delay_ns;
    /* Optional predicates (NULL: true), run inside the world: they may
     * call net_halt, net_rule_add and the read-only queries, no other
     * net_* function. */
    bool (*when)(void *ctx, uint32_t rule);
    bool (*match)(void *ctx, uint32_t rule, const net_seg_view *v);
    /* NET_RULE_HOOK: the verdict for each matching segment. */
    sim_fault_verdict (*hook)(void *ctx, uint32_t rule, const net_seg_view *v);
    void *ctx;
    /* Walked after every rule without `last`, whenever either was added:
     * it sees only the segments no such rule acted on (rule 6). */
    bool last;
} net_rule_opts;

/* The most rules one net holds (a hook adding a hook for every segment
 * would otherwise double them per segment). */
#define NET_RULES_MAX (1u << 16)

/* Adds a rule to link `link` (one the world made: another is a programmer
 * error, an assertion); *out is its index, the count of the net's rules
 * before it. Returns 0, TCP_EINVAL (a hook rule without a hook) or
 * NET_ELIMIT. May be called from a rule callback: the rule takes effect
 * from the next segment entering a link. An index never handed out reads
 * as a rule that never fired. */
int net_rule_add(net *n, uint32_t link, const net_rule_opts *o, uint32_t *out);
uint32_t net_rule_fired(const net *n, uint32_t rule);
uint32_t net_rule_held(const net *n, uint32_t rule);
/* Lets every packet the rule holds continue now; returns how many. */
uint32_t net_rule_release(net *n, uint32_t rule);
/* Releases every held packet on the link; returns how many. */
uint32_t net_link_release(net *n, uint32_t link);

/* The largest crafted payload: the segment with every option still fits
 * a 1500-byte MTU (1400 + 20 IPv4 + 60 TCP). */
#define NET_INJECT_DATA_MAX  1400u
#define NET_INJECT_DGRAM_MAX (NET_INJECT_DATA_MAX + TCP_IPV4_HDR + TCP_HDR_MIN + TCP_OPT_MAX)

/* Sends a crafted segment from the host at the `dir` end of the link, as
 * that host would (through the link's impairments and rules). The bytes
 * are copied before return. Returns 0, NET_ETOOBIG or NET_ENOPORTS. */
int net_inject(net *n, uint32_t link, int dir, const tcp_seg *seg);
/* The largest crafted datagram net_inject_opts sends: one IPv4 datagram
 * (the total length field is 16 bits, RFC 791), so at most 65495 bytes of
 * data without options and 65455 with all 40 bytes of them. */
#define NET_INJECT_OPTS_DGRAM_MAX 65535u
/* Like net_inject, with `opts` (optlen raw option bytes, at most
 * TCP_OPT_MAX, written in that order and padded with zero bytes to a
 * multiple of 4: RFC 9293 §3.1's padding, which reads as EOL) instead of
 * seg's option flags, and data as long as the datagram fits
 * NET_INJECT_OPTS_DGRAM_MAX. The IPv4 header is the stack's own (DF set).
 * The link's MTU applies as to any datagram (a larger one is dropped).
 * Returns 0, NET_ETOOBIG or NET_ENOPORTS. */
int net_inject_opts(net *n, uint32_t link, int dir, const tcp_seg *seg, const uint8_t *opts,
                    size_t optlen);

/* ---- The stepped wire (rule 10) ---- */

/* A datagram waiting in the wire. */
typedef struct net_wire_dgram {
    uint32_t from;            /* the sending host */
    uint32_t to;              /* the stack host owning the destination, or NET_NONE */
    uint32_t packet_id;       /* sim_packet ids: a copy has its own id and the */
    uint32_t origin_id;       /* origin_id of the datagram it was copied from */
    uint64_t sent_ns, due_ns; /* due_ns SIM_TIME_NEVER: held by a rule */
    const uint8_t *data;
    uint32_t len;
} net_wire_dgram;

/* Turns the wire on or off. Off is refused (TCP_EINVAL) while datagrams
 * wait. Not from inside a stack call. */
int net_wire_set(net *n, bool on);
bool net_wire_on(const net *n);
/* While the wire flows, each datagram is delivered when it falls due (all
 * those due at one instant in one world event, in wire order). */
void net_wire_flow(net *n, bool on);
/* Datagrams waiting. */
uint32_t net_wire_count(const net *n);
/* The i-th waiting datagram (0: the next due): true and *out set (its
 * bytes valid until the wire next changes), or false. */
bool net_wire_at(const net *n, uint32_t i, net_wire_dgram *out);
/* By position. Each returns 0, or TCP_EINVAL when there is no datagram i
 * (or j); deliver also NET_EBUSY inside a stack call. deliver hands the
 * datagram to its destination's stack now (to NET_NONE: it is discarded
 * and counted); drop discards it; dup puts a copy right behind it, due at
 * the same time; swap exchanges two datagrams, due times staying with the
 * positions; delay makes datagram i due extra_ns after its due time or now,
 * whichever is later, behind those due before or then. */
int net_wire_deliver(net *n, uint32_t i);
int net_wire_drop(net *n, uint32_t i);
int net_wire_dup(net *n, uint32_t i);
int net_wire_swap(net *n, uint32_t i, uint32_t j);
int net_wire_delay(net *n, uint32_t i, uint64_t extra_ns);
/* Datagrams the wire delivered (or discarded at delivery because no stack
 * host owns their destination: also counted by net_wire_undeliverable). */
uint64_t net_wire_delivered(const net *n);
uint64_t net_wire_undeliverable(const net *n);

/* ---- Raw peers ---- */

/* An endpoint with no stack of its own on a simulated host address: every
 * datagram that reaches it is copied into its queue, in arrival order, with
 * its arrival time; it sends whatever bytes its caller crafts. A peer is
 * the caller's: free it with net_peer_free after the last run of the world
 * (before or after net_free). */
typedef struct net_peer net_peer;

typedef struct net_peer_dgram {
    uint64_t time_ns; /* arrival */
    const uint8_t *data;
    uint32_t len;
} net_peer_dgram;

/* The largest datagram a peer sends or keeps: one IPv4 datagram. */
#define NET_PEER_DGRAM_MAX 65535u

/* A peer on a new simulated host `name` at `addr`; NULL with
 * sim_world_error set (duplicate name or address). Stack hosts come first:
 * net_host_add refuses a host once a peer exists (a stack host's index is
 * its sim host id, which run logs rely on). */
net_peer *net_peer_new(net *n, const char *name, uint32_t addr);
void net_peer_free(net_peer *p);
sim_host *net_peer_sim(const net_peer *p);
/* Links the peer to a stack host (direction 0 carries the peer's datagrams),
 * with the link's rule walk installed. Returns 0, or -1 with sim_world_error. */
int net_peer_link(net *n, net_peer *p, uint32_t host, const sim_link_params *to_host,
                  const sim_link_params *from_host, uint32_t *link);
/* Sends an IPv4 datagram as it is (the bytes are copied). Returns 0 or
 * NET_ETOOBIG. */
int net_peer_send(net_peer *p, const uint8_t *dgram, size_t len);
/* Encodes seg with `opts` (raw option bytes, a multiple of 4, at most 40)
 * instead of seg's option flags; payload seg->len bytes from seg->payload
 * (zeros when NULL). The IPv4 header is tcp_wire_encode's: DF set, TTL 64
 * unless seg->ttl. Returns the datagram length, or 0 when it does not fit
 * buf or NET_PEER_DGRAM_MAX. */
size_t net_peer_encode(const tcp_seg *seg, const uint8_t *opts, size_t optlen, uint8_t *buf,
                       size_t cap);
/* Datagrams queued and not yet taken. */
uint32_t net_peer_queued(const net_peer *p);
/* Takes the oldest queued datagram: true and *out set (its bytes stay
 * valid until the next net_peer_take or net_peer_free), or false. */
bool net_peer_take(net_peer *p, net_peer_dgram *out);
/* The i-th queued datagram (0: the oldest) without taking it: true and
 * *out set (its bytes stay valid until the world runs or the peer is
 * freed), or false when fewer are queued. */
bool net_peer_peek(const net_peer *p, uint32_t i, net_peer_dgram *out);

/* ---- A probe: one more listener and one more decider (rule 9) ---- */

typedef struct net_probe {
    void *ctx;
    /* Every segment entering a link that no rule acted on (each decision
     * point, in order). PASS lets it go on. May be NULL. */
    sim_fault_verdict (*decide)(void *ctx, const net_seg_view *v);
    /* Every stack event, after the observer's on_event. May be NULL. */
    void (*on_event)(void *ctx, uint32_t host, const tcp_event *ev);
} net_probe;

/* Sets (or, with NULL, removes) the net's one probe. */
void net_set_probe(net *n, const net_probe *p);

#endif
