/*
 * net_int — what the files of sim/net/ share and nobody else sees: the
 * world's and a host's layout, the bracket, the record table.
 */
#ifndef NET_INT_H
#define NET_INT_H

#include <assert.h>

#include "net.h"
#include "sim_rng.h"

/* A host's random numbers (ISNs and ports) are the stream "tcp:NAME":
 * replayed from its seed for each of the first NET_RNG_REPLAY draws, then
 * kept (net_host.c, env_random). */
#define NET_RNG_REPLAY 8u

/* What few hosts need, allocated the first time one does: the stream of a
 * host that drew NET_RNG_REPLAY numbers, the links past a host's first. */
typedef struct net_host_rare {
    sim_rng rng;         /* valid once the host's rng_draws is NET_RNG_REPLAY */
    uint32_t *link_more; /* links 1 .. nlinks - 1 */
    uint32_t caplinks;
} net_host_rare;

/* A host's first stack socket ids map to records in the host itself. */
#define NET_SOCKMAP_FIRST 4u

/* Hosts live in chunks (net_host_at): their addresses never change. Two a
 * connection pair in the race: 88 bytes on LP64. */
typedef struct net_host {
    net *net;
    tcp_stack *stack;           /* NULL while crashed */
    const tcp_profile *profile; /* kept once per world (net_keep.c) */
    sim_timer timer;            /* one timer per stack: its next deadline */
    net_host_rare *rare;        /* NULL until the host needs it */
    uint32_t index;             /* also its sim host id (net_host_simof) */
    /* The links this host is an end of (net_link_add, net_peer_link): the
     * first here, the rest in rare->link_more; net_host_iface_mss reads these. */
    uint32_t link_first, nlinks;
    bool mss_fixed;    /* the profile's mss was set explicitly: the MTU does not override it */
    uint8_t rng_draws; /* numbers drawn, up to NET_RNG_REPLAY (then rare->rng) */
    bool sockmap_out;  /* the socket map has outgrown sockmap.first */
    /* Stack socket id -> record index (NET_NONE: none), read through
     * net_host_sock: in place while the ids fit (a host with up to three
     * sockets, ids starting at 1, allocates none), then an array whose
     * pointer and length take the same room. */
    union {
        uint32_t first[NET_SOCKMAP_FIRST];
        struct {
            uint32_t *ids;
            uint32_t len;
        } more;
    } sockmap;
} net_host;

/* The record h's stack socket `id` maps to, NET_NONE if none. */
static inline uint32_t net_host_sock(const net_host *h, tcp_sock_id id)
{
    if (h->sockmap_out)
        return id < h->sockmap.more.len ? h->sockmap.more.ids[id] : NET_NONE;
    return id < NET_SOCKMAP_FIRST ? h->sockmap.first[id] : NET_NONE;
}

/* h's rare part, allocated (zeroed) on first use; aborts out of memory. */
net_host_rare *net_host_rare_of(net_host *h);

/* Maps stack socket id `id` of h to record `idx`. */
void net_host_map_sock(net_host *h, tcp_sock_id id, uint32_t idx);

/* Notes that link `link` has host `host` as an end. */
void net_host_note_link(net *n, uint32_t host, uint32_t link);

/* A state change or a wake-up to handle once the stack call is over. */
typedef struct net_pending {
    uint32_t sock;
    tcp_state from, to;
} net_pending;

typedef struct net_rule {
    uint32_t link;
    net_rule_opts o;
    uint32_t fired;
    uint32_t *held; /* ids of packets this rule holds */
    uint32_t nheld, capheld;
} net_rule;

/* Indices into net.rules, ascending (the order the rules were added). */
typedef struct net_rule_list {
    uint32_t *idx;
    uint32_t n, cap;
} net_rule_list;

/* One link's rules, the only ones a segment entering it walks (net_rule.c):
 * those without `last`, then those with it. A rule whose count is used up
 * never acts again: it leaves its list when no walk is under way (its
 * index, counters and held packets stay in net.rules); `spent` counts the
 * listed rules that are. */
typedef struct net_link_rules {
    net_rule_list plain, last;
    uint32_t spent;
} net_link_rules;

typedef struct net_kern net_kern;

/* A datagram in the stepped wire (net_wire.c); the wire owns the packet. */
typedef struct net_wire_ent {
    sim_packet *p;
    uint32_t from, to; /* host indices; to NET_NONE: no stack host owns it */
    uint64_t sent_ns, due_ns;
} net_wire_ent;

typedef struct net_wire {
    bool on, flow;
    net_wire_ent *ents; /* ordered by due_ns, stable */
    uint32_t n, cap;
    sim_timer timer; /* armed at ents[0].due_ns while flowing */
    uint64_t delivered, undeliverable;
} net_wire;

#define NET_SOCK_CHUNK 256u

/* A set of values kept once (net_keep.c). No value sits more than
 * NET_KEEP_MAX_WALK slots past its home slot: one that would is kept apart
 * (net_keep.c says why). */
#define NET_KEEP_MAX_WALK 2048u
#define NET_KEEP_HINTS    64u
typedef struct net_keep_set {
    struct net_kept **slots; /* NULL: empty slot */
    uint32_t mask, n;
    const char **byid; /* the kept values' bytes by id (order of first sight) */
    uint32_t capbyid;
    uint64_t steps; /* slots passed over by every walk, growth's included
                     * (tests bound it: a count, the same everywhere) */
    /* Listed values last handed back under each hint (net_keep_note_at,
     * net_keep_profile): none while growth is due, forgotten at each
     * rehash. */
    const struct net_kept *hint[NET_KEEP_HINTS];
} net_keep_set;

typedef struct net_draws net_draws; /* net_draw.c */

/* The blocks of two state steps a record's first spilled steps take
 * (net_sock.c), carved from chunks the net owns. */
typedef struct net_step_pool {
    net_trace_step *free;          /* blocks let go, linked through their first bytes */
    net_trace_step *next;          /* the newest chunk's first step not carved */
    uint32_t left;                 /* and how many blocks follow it there */
    uint32_t nchunks;              /* chunks made (their sizes follow from it) */
    struct net_step_chunk *chunks; /* every chunk, newest first */
} net_step_pool;

struct net {
    sim_world *world;
    net_observer obs;
    net_probe probe;
    uint32_t nhosts;
    net_host **hostchunks; /* net_host_at: timers are embedded, so hosts never move */
    uint32_t nhostchunks, caphostchunks;
    net_host *host_next;   /* the last chunk's first unused host */
    uint32_t hosts_left;   /* and how many are left after it */
    net_sock **sockchunks; /* records in chunks: their addresses never change */
    uint32_t nsocks, capchunks;
    net_pending *pending;
    uint32_t npending, cappending;
    net_rule *rules;
    uint32_t nrules, caprules;
    net_link_rules *link_rules; /* by link id, up to the highest with a rule */
    uint32_t nlink_rules, caplink_rules;
    uint64_t rule_parses;     /* segments parsed for a walk or the probe (tests count them) */
    int in_stack;             /* > 0 while a stack call is under way */
    bool in_pending;          /* the deferred queue is being run */
    void (*after)(void *ctx); /* net_set_after */
    void *after_ctx;
    bool halted;
    net_kern *kern;       /* the host played by the kernel (net_kern.c), or NULL */
    bool check;           /* tcp_check on every host stack (net_set_check) */
    char error[600];      /* the first invariant violation, "" if none (net_error) */
    bool keep_rx;         /* records keep the bytes read (net_set_keep_rx) */
    sim_flat rx_flat;     /* a split datagram's bytes handed to a stack (net_host_receive) */
    sim_flat *rule_flats; /* one per nesting depth of net_rules_decide */
    uint32_t rule_depth, caprule_flats;
    net_wire wire;                        /* the stepped wire (net.h rule 10) */
    tcp_scratch *scratch;                 /* where every host's stack builds its segments */
    tcp_env env;                          /* every host's stack's, with the host as its ctx */
    net_keep_set profiles, notes;         /* each distinct one kept once (net_keep.c) */
    net_step_pool steps;                  /* the records' spilled steps (net_sock.c) */
    struct net_stats_chunk *stats_chunks; /* the records' kept counters (net_sock.c) */
    tcp_stats *stats_next;                /* the newest chunk's first counters not carved */
    uint32_t stats_left, nstats_chunks;   /* how many follow it there; chunks made */
    net_draws *draws;                     /* keyed link draws (net_draw.c), NULL: off */
};

/* Frees the keyed draws' tables (net_draw.c); the world's hook must be
 * unset or the world freed. */
void net_draws_free(net *n);

/* The byte at position `off` of a record's send queue when it was queued
 * as the pattern. */
static inline char net_pattern_byte(size_t off)
{
    return (char)('a' + off % 26);
}

/* The library's one growth helper: grows p to hold `need` elements of
 * `elem` bytes (capacity *cap, doubling from 8); aborts when out of memory.
 * net_grow is the same for the tables whose counts are uint32_t. */
void *net_grow_to(void *p, size_t *cap, size_t need, size_t elem);
void *net_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
/* Out of memory mid-run has no way back: a message, then abort. */
_Noreturn void net_oom(void);

/* A record by index; an index never handed out is a programmer error. */
static inline net_sock *net_sock_mut(const net *n, uint32_t i)
{
    assert(i < n->nsocks);
    return &n->sockchunks[i / NET_SOCK_CHUNK][i % NET_SOCK_CHUNK];
}

/* Hosts live in chunks of 4, 4, 8, 16 ... 512 hosts, then 1024 each
 * (net_host.c, host_alloc): chunk k > 0 below 1024 holds the hosts from
 * 2^(k+1) on, so a host's place follows from its index and the net keeps
 * no table of host pointers (8 bytes a host). */
#define NET_HOST_CHUNK_FIRST 4u
#define NET_HOST_CHUNK_MAX   1024u

/* Host i (< nhosts). */
static inline net_host *net_host_at(const net *n, uint32_t i)
{
    assert(i < n->nhosts);
    if (i >= NET_HOST_CHUNK_MAX)
        return &n->hostchunks[8 + i / NET_HOST_CHUNK_MAX][i % NET_HOST_CHUNK_MAX];
    if (i < NET_HOST_CHUNK_FIRST)
        return &n->hostchunks[0][i];
    uint32_t top = 2; /* floor(log2(i)): 2 .. 9 */
    while (i >> (top + 1))
        top++;
    return &n->hostchunks[top - 1][i - (1u << top)];
}

/* The simulated host under h: a stack host's index is its sim host id. */
static inline sim_host *net_host_simof(const net_host *h)
{
    return sim_host_by_id(h->net->world, h->index);
}

/* net_host.c: every stack call sits between these two (rule 2). */
void net_stack_enter(net *n);
void net_stack_leave(net *n, net_host *h);
void net_note(net *n, const char *text);

/* net_keep.c: the world's one copy of a profile equal to *p; the id of a
 * note (cut at NET_NOTE_MAX bytes; NULL and "" give 0, which names "";
 * net_step_note gives the text back). */
const tcp_profile *net_keep_profile(net *n, const tcp_profile *p);
uint32_t net_keep_note(net *n, const char *note);
/* The same, the note compared first with the one last kept under `hint`
 * (any number: a state step's state and cause), which is the note's id when
 * they are equal (no hash, no walk). */
uint32_t net_keep_note_at(net *n, const char *note, uint32_t hint);
void net_keep_free(net_keep_set *t);
/* The hash a kept value is filed under (unkeyed: declared so that tests
 * can choose values that collide, as anyone can offline). */
uint64_t net_keep_hash(const void *p, size_t len);

/* net_sock.c */
uint32_t net_sock_record(net *n, uint32_t host, tcp_sock_id id, uint32_t parent, tcp_state st);
void net_sock_on_event(net *n, net_host *h, const tcp_event *ev);
/* Keeps *st as the record's counters once the stack no longer has them. */
void net_sock_keep_stats(net *n, net_sock *k, const tcp_stats *st);
/* Autoread, and feeding queued send data / a deferred close to the stack. */
void net_sock_service(net *n, net_sock *k);
void net_sock_free_all(net *n);
/* A record's send queue (net_call.c), allocated while it holds bytes: of
 * three records a connection pair, most never hold any. Bytes [offtx, ntx)
 * wait; pattern byte i is net_pattern_byte(i), positions agreeing modulo
 * 26 with the count since the queue's last reset (net_tx_reset). A queue
 * emptied without a reset is freed by net_tx_park, which keeps what the
 * next one needs of it in the record (tx_phase, tx_bytes, tx_moved): the
 * same bytes go to the stack, by the same calls, as if it had stayed. */
typedef struct net_txq {
    char *tx; /* NULL while only the pattern is queued (ntx - offtx bytes of it) */
    size_t ntx, offtx;
} net_txq;

/* Whether bytes wait in k's send queue. */
static inline bool net_tx_waiting(const net_sock *k)
{
    return k->txq && k->txq->offtx < k->txq->ntx;
}
/* Offers k's queued bytes (tx + offtx, or while only the pattern is
 * queued, tx NULL, the shared pattern by count: tcp_send_pattern) to its
 * stack; returns what tcp_send returns. k's queue holds bytes. */
long net_tx_offer(const net_sock *k, tcp_stack *st);
/* Offers len bytes of data (NULL: the pattern from k's tx_phase) to k's
 * stack while k has no queue; returns what tcp_send returns. */
long net_tx_send(const net_sock *k, tcp_stack *st, const char *data, size_t len);
/* Queues len bytes of data (NULL: the pattern) on k's send queue. */
void net_tx_queue(net_sock *k, const char *data, size_t len);
/* Frees k's queue if it is empty (net_tx_waiting false), keeping its
 * position. */
void net_tx_park(net_sock *k);
/* Frees k's queue, whatever it holds; the next one starts again at 0. */
void net_tx_reset(net_sock *k);
/* Counts the bytes read into k->nrx and keeps them in k->rx (unless the
 * net was told not to keep them). */
void net_rx_append(const net *n, net_sock *k, const char *data, size_t len);
void net_trace_append(net *n, net_sock *k, uint64_t t, tcp_state st, tcp_cause cause,
                      const char *note);

/* net_rule.c */
void net_link_install(net *n, sim_link *l);
void net_rules_free(net *n);
/* The rule walk and the probe for a segment entering link/dir (rule 6, 9). */
sim_fault_verdict net_rules_decide(net *n, uint32_t link, int dir, const sim_packet *p);

/* net_host.c: hands a datagram to a host's stack (bracketed); frees p. */
void net_host_receive(net_host *h, sim_packet *p);

/* net_wire.c */
void net_wire_init(net *n);
void net_wire_free(net *n);
/* A datagram host h output while the wire is on; the wire takes p. */
void net_wire_output(net *n, net_host *h, sim_packet *p);
/* Makes the wire's datagram with packet id `id` held by a rule due now;
 * returns 1, or 0 if the wire has no such datagram. */
uint32_t net_wire_release_held(net *n, uint32_t id);

/* net_kern.c, net_rt.c: the kernel endpoint (net_kern.h). Each user call
 * of net_call.c hands a kernel host's records to its net_kern_ twin. */
int net_kern_open(net *n);
void net_kern_free(net_kern *k);
void net_kern_install(net *n);
uint64_t net_kern_vnow(const net *n);
void net_kern_shift(net *n, int64_t ns);
void net_kern_sample(net *n);
bool net_kern_quiet(net *n);
/* Whether a kernel record changed since the last call. */
bool net_kern_take_change(net *n);
uint64_t net_kern_last_io(const net *n);
uint64_t net_kern_last_sample(const net *n);
/* Reads one datagram the kernel wrote, waiting at most wait_ns, and sends
 * it into the link at the wall clock's instant, but never past `limit`
 * (the run call's deadline): 1 if one was read. */
int net_kern_pump(net *n, uint64_t wait_ns, sim_time_t limit);
/* Runs every event due by the wall clock, and sets the clock to it, but
 * never past `limit`: a run call ends at its deadline even when the
 * machine woke the loop late. */
void net_rt_catch_up(net *n, sim_time_t limit);
int net_kern_listen(net *n, net_listen_opts *o, uint32_t *out);
int net_kern_connect(net *n, net_connect_opts *o, uint32_t *out);
int net_kern_send(net *n, uint32_t sock, const char *data, size_t len);
long net_kern_recv(net *n, uint32_t sock, char *buf, size_t max);
void net_kern_drain(net *n, uint32_t sock);
int net_kern_shutdown(net *n, uint32_t sock);
int net_kern_shutdown_read(net *n, uint32_t sock);
int net_kern_sock_info(net *n, uint32_t sock, tcp_sockinfo *out);
int net_kern_close(net *n, uint32_t sock, bool abort_it);
int net_kern_accept(net *n, uint32_t listener, uint32_t *out);
int net_kern_setopt(net *n, uint32_t sock, const net_opt *opts, uint32_t nopts,
                    uint32_t *failed_opt);
int net_kern_refuse(net *n, const char *why);

#endif
