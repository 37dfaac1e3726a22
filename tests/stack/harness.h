/*
 * harness — a few TCP stacks on sim/net, stepped by hand or by the clock,
 * so stack tests read like a ladder diagram:
 *
 *     tcp_sock_id l = h_listen(h, H_B, 80, 8);
 *     tcp_sock_id c = h_connect(h, H_A, H_B, 80, 1000);
 *     h_expect_sent(h, H_A, TCP_SYN, 1000, H_ANY, 0);          // A --SYN-->     B
 *     h_deliver(h);
 *     h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 1001, 0); // A <--SYN,ACK-- B
 *     h_deliver(h);
 *     h_expect_sent(h, H_A, TCP_ACK, 1001, H_ANY, 0);          // A --ACK-->     B
 *     h_deliver(h);
 *     h_expect_trace(h, H_A, c, H_STATES(TCP_CLOSED, TCP_SYN_SENT, TCP_ESTABLISHED));
 *
 * Stacks. Stack i (H_A = 0, H_B = 1, ...) is host i of a net (net.h) named
 * "A", "B", ..., at address 10.0.0.(i+1), with a link to every other stack.
 * Its random stream is the net's ("tcp:A", from the seed). The harness logs
 * every datagram a stack outputs and every event it reports. Tests call a
 * stack directly through h_stack; the harness re-arms the hosts' timers
 * before the world next runs (net_host_sync).
 *
 * The wire is the net's stepped wire (docs/net.md rule 10). Each output
 * datagram is parsed with tcp_wire_parse (bytes it rejects are a harness
 * error) and appended to the sender's sent log; the link's rules (h_drop_sent
 * and the filter are net rules on every link) decide its fate, and it waits
 * on the wire to be delivered at now + the one-way delay (default 0) to the
 * stack owning its destination (H_NOWHERE if none: such datagrams are
 * discarded when their turn comes). The wire stays in delivery-time order,
 * stable, so position 0 is always the next to go. Manual steps (h_deliver,
 * h_drop, h_dup, h_swap, h_delay) act on it by position and never move the
 * clock.
 *
 * Time is the world's: it starts at 0 and moves only in h_advance, h_run,
 * h_run_for and h_settle, which run the world's event loop: each host's one
 * timer fires at its stack's next deadline, and while the wire flows (h_run,
 * h_settle) the wire's timer delivers datagrams as they fall due, every
 * datagram due at one instant in one event. Events at equal instants run in
 * the order they were last armed (sim_queue.h).
 *
 * Invariants. The net runs with its invariant checker on (net_set_check):
 * a broken invariant reaches the harness through on_violation and is a
 * harness error like those below.
 *
 * Failures. Functions spelled as macros fail the running cmocka test at the
 * caller's file:line, printing what was expected and what happened. Harness
 * errors found inside stack callbacks (malformed output, a transition whose
 * `from` is not the socket's previous state, an event stamped with a time
 * other than now, a broken invariant, a run that hits the world's event
 * limit) cannot fail there; they are kept, and reported by the next
 * h_expect_* and by h_teardown.
 *
 * Pointers returned (h_peek, h_sent, h_event_at, ...) stay valid until
 * h_free.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"
#include "tcp_check.h"

/* h_expect_seg fills "any" into every field, then the caller's designated
 * fields override them: an initializer override by design, in test
 * programs only. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define H_STACKS_MAX 8
#define H_A          0u
#define H_B          1u
#define H_C          2u
/* "Any value" for h_expect_sent's flags, seq, ack and len, and h_connect's isn. */
#define H_ANY (-1)
/* h_dgram.to when no stack owns the destination address. */
#define H_NOWHERE ((size_t)-1)
/* Every socket, for h_count. */
#define H_ALL_SOCKS ((tcp_sock_id)UINT32_MAX)

#define H_US(n) ((uint64_t)(n)*1000u)
#define H_MS(n) ((uint64_t)(n)*1000000u)
#define H_S(n)  ((uint64_t)(n)*1000000000u)

/* A list of states and its length, for h_expect_trace. */
#define H_STATES(...)                                                                              \
    (const tcp_state[]){__VA_ARGS__}, sizeof((const tcp_state[]){__VA_ARGS__}) / sizeof(tcp_state)

typedef struct harness harness;

/* A datagram a stack output. Bytes are the harness's copy. */
typedef struct h_dgram {
    size_t from, to; /* stack indices; to is H_NOWHERE when no stack owns seg.dst_addr */
    uint64_t sent_ns;
    uint32_t packet_id; /* the world's packet id */
    tcp_seg seg;        /* parsed; seg.payload points into bytes */
    const uint8_t *bytes;
    size_t len;
} h_dgram;

/* A recorded tcp_event. seg.payload and seg.sack are NULL (seg.len is
 * kept, nsack is 0): both lay in the stack's buffer. */
typedef struct h_event {
    tcp_event_kind kind;
    uint64_t time_ns;
    tcp_sock_id sock, parent;
    tcp_state from, to;
    tcp_cause cause;
    int detail;
    bool has_seg;
    tcp_seg seg;
    char note[48];
} h_event;

/* The ids h_establish made. */
typedef struct h_pair {
    tcp_sock_id listener; /* on the server stack, still listening */
    tcp_sock_id client;   /* on the client stack */
    tcp_sock_id server;   /* the accepted child on the server stack */
} h_pair;

typedef enum h_verdict {
    H_PASS,
    H_DROP,
    H_DUP /* queue two copies */
} h_verdict;

/* Sees every datagram a stack outputs to another stack (a net hook rule on
 * every link, after the h_drop_sent rules), before it is queued; may move
 * *deliver_ns (later delays it; an H_DUP keeps the due time). Must not call
 * into a stack. */
typedef h_verdict (*h_filter_fn)(harness *h, const h_dgram *d, uint64_t *deliver_ns, void *arg);

/* ---- Lifetime -------------------------------------------------------------- */

/* n_stacks (1..H_STACKS_MAX) stacks with `profile` (NULL: "rfc9293"). */
harness *h_new(size_t n_stacks, const tcp_profile *profile);
/* The linux profile on exact timers (timer_hz 0; a delayed ACK at ATO 0
 * waits delack_tick, one jiffy). Tests of a Linux rule's schedule (which
 * interval, how many) use it so the expected instants are the rule's own;
 * the timer wheel that moves them later is tested on its own
 * (test_wheel) and with the linux profile as shipped. */
const tcp_profile *h_linux_exact(void);
/* The named profile on exact timers: h_linux_exact for "linux", else the
 * profile itself (its timer_hz is already 0); NULL for an unknown name. */
const tcp_profile *h_profile_exact(const char *name);
/* Frees the stacks (tcp_stack_free: nothing is sent), the queue and the logs. */
void h_free(harness *h);
/* cmocka setup/teardown: *state becomes a two-stack "rfc9293" harness.
 * Teardown closes every socket left open, runs 600 s, and fails (returns
 * -1) on pending harness errors or on any connection a stack still holds:
 * nothing may leak past a test. Then it frees. */
int h_setup(void **state);
int h_teardown(void **state);

/* Crash and reboot stack i (net_host_crash, net_host_restart): a fresh stack
 * with the profile it had. Its event log is cleared (ids restart); its sent
 * log and datagrams already on the wire are kept. */
void h_reboot(harness *h, size_t i);

tcp_stack *h_stack(const harness *h, size_t i);
uint32_t h_addr(const harness *h, size_t i);
uint64_t h_now(const harness *h);
/* One-way delay for datagrams output from now on. */
void h_set_delay(harness *h, uint64_t one_way_ns);
/* Builds the net again with world seed `seed` (default 1), so every stack's
 * random stream comes from it. Right after h_new only. */
void h_set_seed(harness *h, uint64_t seed);
/* Datagrams discarded because no stack owned their destination. */
uint64_t h_undeliverable(const harness *h);
/* The harness errors kept so far, one per line ("" when none). */
const char *h_errors(const harness *h);

/* ---- Time -------------------------------------------------------------------- */

/* Moves the clock forward by ns, firing timers as they fall due. The wire
 * holds: nothing queued is delivered. */
#define h_advance(h, ns) h_advance_at(__FILE__, __LINE__, (h), (ns))
/* Moves the clock to until_ns (absolute), delivering datagrams when due and
 * firing timers. Returns datagrams delivered. */
#define h_run(h, until_ns) h_run_at(__FILE__, __LINE__, (h), (until_ns))
#define h_run_for(h, ns)   h_run_at(__FILE__, __LINE__, (h), h_now(h) + (ns))
/* Like h_run with no end, but stops as soon as the wire is empty: timers
 * due before the last delivery fire, later ones do not. */
#define h_settle(h) h_settle_at(__FILE__, __LINE__, (h))

/* ---- The wire ------------------------------------------------------------------- */

size_t h_pending(const harness *h);
/* The i-th queued datagram (0: next), or NULL. */
const h_dgram *h_peek(const harness *h, size_t i);
/* When the i-th queued datagram is due. */
uint64_t h_peek_due(const harness *h, size_t i);
/* Delivers the next datagram now. */
#define h_deliver(h) h_deliver_at(__FILE__, __LINE__, (h))
/* Delivers now, repeatedly, until the wire is empty; returns how many. */
#define h_deliver_all(h) h_deliver_all_at(__FILE__, __LINE__, (h))
/* Removes the next datagram. */
#define h_drop(h) h_drop_at(__FILE__, __LINE__, (h))
/* Queues a second copy of the next datagram right behind it. */
#define h_dup(h) h_dup_at(__FILE__, __LINE__, (h))
/* Exchanges the datagrams at positions i and j. Due times stay with the
 * positions, so the one that was behind now arrives first. */
#define h_swap(h, i, j) h_swap_at(__FILE__, __LINE__, (h), (i), (j))
/* Makes the i-th datagram due extra_ns after now (or after its due time,
 * if later) and moves it to its place in time order. */
#define h_delay(h, i, extra_ns) h_delay_at(__FILE__, __LINE__, (h), (i), (extra_ns))
/* Drops the next `count` datagrams stack `from` outputs whose flags equal
 * `flags` (H_ANY: any), as they are output. */
void h_drop_sent(harness *h, size_t from, int flags, size_t count);
void h_set_filter(harness *h, void *arg, h_filter_fn fn);

/* ---- Crafted segments ------------------------------------------------------------- */

/* Encodes seg and hands it to stack `to` now. */
#define h_inject(h, to, seg) h_inject_at(__FILE__, __LINE__, (h), (to), (seg))
void h_inject_raw(harness *h, size_t to, const uint8_t *bytes, size_t len);
/* What sock's peer would send next: addressed to sock, ACK set, window
 * 65535, seq = the last ack sock sent, ack = just past the last segment sock
 * sent (zero if sock has sent nothing). Change a few fields and h_inject. */
#define h_template(h, stack, sock) h_template_at(__FILE__, __LINE__, (h), (stack), (sock))
/* An RST from sock's peer at sock's RCV.NXT (the one RFC 5961 §3.2 says
 * resets), without ACK, handed to stack `stack` now. */
#define h_inject_rst(h, stack, sock) h_inject_rst_at(__FILE__, __LINE__, (h), (stack), (sock))
/* The plain ACK answering `sent`: ends swapped, seq = sent->ack, ack =
 * sent->seq + h_seg_len(sent), window 65535, no options, no data. */
tcp_seg h_reply(const tcp_seg *sent);
/* Sequence space a segment takes: data, plus one for SYN and one for FIN. */
uint32_t h_seg_len(const tcp_seg *s);

/* ---- What was sent ------------------------------------------------------------------ */

size_t h_sent_count(const harness *h, size_t stack);
const h_dgram *h_sent(const harness *h, size_t stack, size_t k);
/* The last segment stack output, or NULL. */
const tcp_seg *h_last_sent(const harness *h, size_t stack);
/* Checks the oldest segment of stack's not yet checked by h_expect_sent
 * and returns it; each argument may be H_ANY. */
#define h_expect_sent(h, stack, flags, seq, ack, len)                                              \
    h_expect_sent_at(__FILE__, __LINE__, (h), (stack), (flags), (seq), (ack), (len))
/* Checks stack sent nothing h_expect_sent has not checked. */
#define h_expect_none_sent(h, stack) h_expect_none_sent_at(__FILE__, __LINE__, (h), (stack))
/* Marks everything stack has sent so far as checked. */
void h_sent_skip(harness *h, size_t stack);
/* What h_expect_seg checks; H_ANY in a field accepts any value. */
typedef struct h_seg_want {
    int flags;
    int64_t seq, ack, len, wnd;
} h_seg_want;
/* h_expect_sent with named fields; the ones not named are H_ANY:
 *     h_expect_seg(h, H_B, .flags = TCP_ACK, .ack = fin->seq + 1);  */
#define h_expect_seg(h, stack, ...)                                                                \
    h_expect_seg_at(                                                                               \
        __FILE__, __LINE__, (h), (stack),                                                          \
        (h_seg_want){                                                                              \
            .flags = H_ANY, .seq = H_ANY, .ack = H_ANY, .len = H_ANY, .wnd = H_ANY, __VA_ARGS__})

/* ---- What happened -------------------------------------------------------------------- */

size_t h_event_count(const harness *h, size_t stack);
const h_event *h_event_at(const harness *h, size_t stack, size_t k);
/* Events of `kind` for sock (H_ALL_SOCKS: any, 0: none) on stack. */
size_t h_count(const harness *h, size_t stack, tcp_sock_id sock, tcp_event_kind kind);
/* The states sock went through: the first transition's `from`, then every
 * `to`; just the current state when it made none. Writes at most max and
 * returns the full count. */
size_t h_trace(const harness *h, size_t stack, tcp_sock_id sock, tcp_state *out, size_t max);
/* h_expect_trace(h, stack, sock, states, n), or with H_STATES(...) for the
 * last two. Prints both traces, with causes and notes, on a mismatch. */
#define h_expect_trace(h, stack, sock, ...)                                                        \
    h_expect_trace_at(__FILE__, __LINE__, (h), (stack), (sock), __VA_ARGS__)
#define h_expect_state(h, stack, sock, state)                                                      \
    h_expect_state_at(__FILE__, __LINE__, (h), (stack), (sock), (state))
/* Checks tcp_stack_conns(stack) == n. */
#define h_expect_conns(h, stack, n) h_expect_conns_at(__FILE__, __LINE__, (h), (stack), (n))
/* sock's last transition, or NULL: for checking its cause and note. */
const h_event *h_last_transition(const harness *h, size_t stack, tcp_sock_id sock);
/* sock's first transition into `to` (0: any socket's), or NULL. */
const h_event *h_find_transition(const harness *h, size_t stack, tcp_sock_id sock, tcp_state to);
/* The k-th connection (0: first) the events show `listener` spawning, or 0. */
tcp_sock_id h_child(const harness *h, size_t stack, tcp_sock_id listener, size_t k);
/* Prints stack's events and sent log. */
void h_dump(const harness *h, size_t stack);
/* "A>B SYN,ACK seq=1 ack=2 wnd=3 len=0 <mss 1460>" style; returns buf. */
char *h_seg_str(const harness *h, const tcp_seg *s, char *buf, size_t buf_len);

/* ---- User calls that must succeed ----------------------------------------------------- */

#define h_listen(h, stack, port, backlog)                                                          \
    h_listen_at(__FILE__, __LINE__, (h), (stack), (port), (backlog), 0)
/* h_listen with TCP_OPT_RCVBUF = rcvbuf set before bind (its children's
 * receive buffer, and so their window scale). */
#define h_listen_rcvbuf(h, stack, port, backlog, rcvbuf)                                           \
    h_listen_at(__FILE__, __LINE__, (h), (stack), (port), (backlog), (rcvbuf))
/* socket, TCP_OPT_ISN = isn unless H_ANY, bind to an ephemeral port, connect
 * to stack `to`'s address and port. */
#define h_connect(h, stack, to, port, isn)                                                         \
    h_connect_at(__FILE__, __LINE__, (h), (stack), (to), (port), (isn))
#define h_accept(h, stack, listener) h_accept_at(__FILE__, __LINE__, (h), (stack), (listener))
/* listen on server:port, connect from client, h_settle, accept; both ends
 * ESTABLISHED, and both sent logs marked checked. */
#define h_establish(h, client, server, port)                                                       \
    h_establish_at(__FILE__, __LINE__, (h), (client), (server), (port))
/* Queues all of text (tcp_send must take every byte). */
#define h_send(h, stack, sock, text) h_send_at(__FILE__, __LINE__, (h), (stack), (sock), (text))
/* Reads exactly strlen(text) bytes and compares them with text. */
#define h_expect_recv(h, stack, sock, text)                                                        \
    h_expect_recv_at(__FILE__, __LINE__, (h), (stack), (sock), (text))

/* Closes every socket on every stack, runs 600 s, and checks no stack holds
 * a connection any more: the end of a test that leaves nothing behind. */
#define h_finish(h) h_finish_at(__FILE__, __LINE__, (h))

/* ---- The functions behind the macros ---------------------------------------------------- */

void h_advance_at(const char *file, int line, harness *h, uint64_t ns);
size_t h_run_at(const char *file, int line, harness *h, uint64_t until_ns);
size_t h_settle_at(const char *file, int line, harness *h);
void h_deliver_at(const char *file, int line, harness *h);
size_t h_deliver_all_at(const char *file, int line, harness *h);
void h_drop_at(const char *file, int line, harness *h);
void h_dup_at(const char *file, int line, harness *h);
void h_swap_at(const char *file, int line, harness *h, size_t i, size_t j);
void h_delay_at(const char *file, int line, harness *h, size_t i, uint64_t extra_ns);
void h_inject_at(const char *file, int line, harness *h, size_t to, const tcp_seg *seg);
tcp_seg h_template_at(const char *file, int line, const harness *h, size_t stack, tcp_sock_id sock);
void h_inject_rst_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock);
const tcp_seg *h_expect_sent_at(const char *file, int line, harness *h, size_t stack, int flags,
                                int64_t seq, int64_t ack, int64_t len);
void h_expect_none_sent_at(const char *file, int line, harness *h, size_t stack);
const tcp_seg *h_expect_seg_at(const char *file, int line, harness *h, size_t stack,
                               h_seg_want want);
void h_finish_at(const char *file, int line, harness *h);
void h_expect_trace_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                       const tcp_state *states, size_t n);
void h_expect_state_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                       tcp_state state);
void h_expect_conns_at(const char *file, int line, harness *h, size_t stack, size_t n);
tcp_sock_id h_listen_at(const char *file, int line, harness *h, size_t stack, uint16_t port,
                        uint32_t backlog, uint32_t rcvbuf);
tcp_sock_id h_connect_at(const char *file, int line, harness *h, size_t stack, size_t to,
                         uint16_t port, int64_t isn);
tcp_sock_id h_accept_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id listener);
h_pair h_establish_at(const char *file, int line, harness *h, size_t client, size_t server,
                      uint16_t port);
void h_send_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
               const char *text);
void h_expect_recv_at(const char *file, int line, harness *h, size_t stack, tcp_sock_id sock,
                      const char *text);

#endif
