/*
 * rlog — the run log: what a scenario run did, recorded in time order, in a
 * form every output reads (the outputs are in sim/render/, render.h).
 *
 * It joins the two halves: it is fed the core's trace records (packets) and
 * the stacks' events (state changes, timers, user calls, the variables
 * each call leaves a connection with), and parses packet
 * bytes with the stack's wire module. The log owns copies of everything it
 * keeps; callers' pointers are never retained.
 *
 * Rules a caller may rely on:
 *  1. Entries are kept in the order they were recorded, which is the order
 *     things happened; an entry never moves in index once appended, and
 *     pointers into it (rlog_at, e->bytes, e->seg, e->seg->payload, e->text) stay
 *     valid until rlog_free.
 *  2. Every output is a pure function of the entries and hosts: no wall
 *     time, no pointer values, no floating point. The same run writes the
 *     same bytes.
 *  3. Out of memory aborts (the log is the record of the run: a partial log
 *     would be a silent lie).
 */
#ifndef RLOG_H
#define RLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_trace.h"
#include "tcp.h"

typedef struct rlog rlog;

typedef enum rlog_kind {
    RLOG_SEND,    /* a packet entered a link (seg valid) */
    RLOG_DELIVER, /* a packet reached its destination host */
    RLOG_DROP,    /* a packet was lost: reason */
    RLOG_DUP,     /* a clone was made (packet_id = clone, origin_id = original) */
    RLOG_HOLD,
    RLOG_RELEASE,
    RLOG_CORRUPT,
    RLOG_LINK,    /* link direction up/down (value_ns = 1 up, 0 down); host: its sender */
    RLOG_STATE,   /* a connection changed state */
    RLOG_TIMER,   /* a stack timer fired */
    RLOG_USER,    /* a user call */
    RLOG_ERROR,   /* a connection ended with an error */
    RLOG_NOTE,    /* free text from the scenario (log(...)) */
    RLOG_DELAY,   /* extra delay was added to a packet: value_ns */
    RLOG_REJECT,  /* the stack dropped an incoming datagram: note says why */
    RLOG_RESTART, /* a running stack timer started over (TIME_WAIT's 2*MSL, RFC 9293
                     §3.10.7.4): detail is the tcp_timer_kind, seg the header of the
                     segment that restarted it */
    RLOG_KIND_COUNT
} rlog_kind;

/* "send", "deliver", "drop", ... as used by the text and JSON outputs. */
const char *rlog_kind_name(rlog_kind kind);
/* Whether entries of this kind are about one packet (they carry its bytes
 * and its packet id): SEND, DELIVER, DROP, DUP, HOLD, RELEASE, CORRUPT, DELAY. */
bool rlog_is_packet_kind(rlog_kind kind);

#define RLOG_NONE ((size_t)-1) /* "no entry" for the index fields below */

/* An entry: the wide fields first, then the 32-bit ones, then the enums in
 * 8 bits each (every value fits), so the entry has no padding to carry
 * (96 bytes, 39 of them per connection in a short transfer: the parsed
 * segment is shared, not held in each entry; a DELAY or LINK value
 * shares its word with what only connection kinds hold, the bytes with
 * the text; the peer is computed). */
typedef struct rlog_entry {
    uint64_t time_ns;
    union {
        /* Packet kinds: the entry (SEND, DUP, or a DROP that had no SEND) where
         * this packet first appeared; RLOG_NONE if none was recorded. */
        size_t send_index;
        /* STATE and RESTART: the packet entry behind it as far as the log
         * knows yet; read it through rlog_state_cause. RLOG_NONE otherwise.
         * Sharing the field keeps the join in the entry, not in an index
         * per entry beside it. */
        size_t cause_index;
    };
    /* Each kind reads one member (a field read under any other kind holds
     * another's bytes); sharing the word keeps the entry at 96 bytes. */
    union {
        uint64_t value_ns;   /* DELAY/LINK value; SEND in a log without connection
                                entries: when its packet was delivered (rlog_send_fate) */
        struct {             /* connection kinds */
            uint32_t parent; /* a listener's child: the listener's socket id, else 0 */
            int detail; /* TIMER, RESTART: tcp_timer_kind; USER: tcp_user_call; ERROR: tcp_err */
        };
    };
    /* Packet kinds: the parsed segment (valid when seg_ok) and the bytes.
     * A packet that does not parse (corrupted in transit) keeps its bytes,
     * seg_ok false and wire_err saying why. STATE: seg_ok says whether seg
     * holds the header of the segment that caused it (payload NULL).
     * Never NULL: without seg_ok it points to an all-zero segment. The log
     * keeps one parse per distinct datagram, shared by every entry of that
     * packet (SEND, DELIVER ...) and by the state changes its delivery made. */
    /* seg->payload points into bytes; NULL if the segment has none or the
     * log does not keep it */
    const tcp_seg *seg;
    /* One word, read as the kind says (no entry has both). */
    union {
        uint8_t *bytes;   /* packet kinds (NULL, with nheld 0, in other kinds but
                             NOTE and REJECT) */
        const char *text; /* NOTE and REJECT: the whole text (owned by the log) */
    };
    const char *note; /* the stack's short reason, cut at 63 bytes; "" if none. Equal
                         notes share one copy owned by the log */
    uint32_t host;    /* sender (SEND), receiver (DELIVER), owner (STATE...);
                         for the other packet kinds the host the core named;
                         the other end is rlog_peer_host */
    uint32_t link;    /* UINT32_MAX if none */
    uint32_t packet_id, origin_id;
    /* Packet kinds: the sender and the addressee (from the IPv4 destination),
     * UINT32_MAX when unknown. */
    uint32_t src_host, dst_host;
    uint32_t nbytes; /* the datagram's length */
    uint32_t nheld;  /* how many of its bytes `bytes` holds: nbytes, or the headers
                        when the log keeps no payload (rlog_set_payload) */
    /* Connection kinds (and parent and detail above). */
    uint32_t sock;
    rlog_kind kind : 8;
    tcp_state from : 8, to : 8; /* connection kinds */
    tcp_cause cause : 8;
    tcp_wire_err wire_err : 8;
    sim_drop_reason drop : 8;
    uint8_t dir;
    bool seg_ok;
} rlog_entry;

/* The other end of the link for packet kinds (the addressee of a packet
 * its sender holds, the sender of one its addressee holds), else
 * UINT32_MAX: computed from the ends, not kept in each entry. */
static inline uint32_t rlog_peer_host(const rlog_entry *e)
{
    return e->host == e->src_host ? e->dst_host : e->host == e->dst_host ? e->src_host : UINT32_MAX;
}

typedef struct rlog_host {
    char name[32];
    uint32_t addr;
} rlog_host;

rlog *rlog_new(void);
void rlog_free(rlog *log);
/* Whether packet entries keep their payload bytes (the default) or only the
 * IPv4 and TCP headers of a segment that parses (nheld < nbytes, seg.len
 * still the payload's length, seg.payload NULL); a packet that does not
 * parse keeps every byte. Only pcap and pcapng read payload bytes: a caller
 * that writes neither can turn it off, and memory no longer grows with the
 * bytes moved. Set it before the first entry. */
void rlog_set_payload(rlog *log, bool keep);

/* Hosts are registered in creation order; their index is the sim host id. */
void rlog_add_host(rlog *log, uint32_t host_id, const char *name, uint32_t addr);
size_t rlog_host_count(const rlog *log);
const rlog_host *rlog_host_at(const rlog *log, uint32_t host_id);
/* The host's name; "?" for UINT32_MAX or a host never registered. */
const char *rlog_host_name(const rlog *log, uint32_t host_id);

/* Where a log that registers hosts lazily learns them: the host with an id
 * (its name and address) and the host with an address (its id), each
 * false if there is none. The addresses must be distinct, as the core's
 * are; the ids are the same as rlog_add_host would be given. */
typedef struct rlog_host_source {
    bool (*by_id)(void *ctx, uint32_t host_id, const char **name, uint32_t *addr);
    bool (*by_addr)(void *ctx, uint32_t addr, uint32_t *host_id);
    void *ctx;
} rlog_host_source;
/* Registers hosts lazily instead of through rlog_add_host: a host is
 * registered, under its own id, when a recorded packet first names it (its
 * sender, or its addressee by the IPv4 destination), so a log that records
 * no packet holds no host table. Packet entries' hosts are the same as if
 * every host had been registered at its creation; rlog_host_count,
 * rlog_host_at and rlog_host_name know only the hosts registered so far,
 * so a caller whose outputs list the hosts registers them all instead.
 * Set it before the first entry; src is copied. */
void rlog_set_host_source(rlog *log, const rlog_host_source *src);

/* A sim_trace sink: records packet events (HOST records are ignored; the
 * stacks' events come through rlog_tcp_event). ctx is the rlog. */
void rlog_sim_trace(void *ctx, const sim_trace_rec *rec);
/* Records a stack event of host `host_id`. SEG_IN and SEG_OUT are not
 * entries (packets come from the core's trace) but teach the log each
 * socket's ports; DROP becomes an RLOG_REJECT entry. */
void rlog_tcp_event(rlog *log, uint32_t host_id, const tcp_event *ev);
/* Records a free-text note. */
void rlog_note(rlog *log, uint64_t time_ns, const char *text);

size_t rlog_count(const rlog *log);
/* The bytes the log holds: its arrays and maps at their capacity, and the
 * used part of its arena (bytes, parsed segments, notes, texts). Without
 * payload (rlog_set_payload) it depends on what was recorded, not on how
 * many payload bytes the packets carried. */
size_t rlog_bytes(const rlog *log);
const rlog_entry *rlog_at(const rlog *log, size_t i);

/*
 * The packet entry behind STATE (or RESTART) entry i, or RLOG_NONE:
 *  - a change (or restart) caused by a segment: the DELIVER (at the same
 *    instant, on the same host, carrying that segment) whose processing made it;
 *  - a change caused by a user call or a timer: the SEND from that host at
 *    the same instant that it accompanies (the SYN of CLOSED -> SYN_SENT,
 *    the FIN of ESTABLISHED -> FIN_WAIT_1 or CLOSE_WAIT -> LAST_ACK, the
 *    RST of an abort), when there is one.
 */
size_t rlog_state_cause(const rlog *log, size_t i);
/* A socket's local and remote ports as learned from its segments; -1 if the
 * log never saw a segment of (host, sock). */
int rlog_sock_ports(const rlog *log, uint32_t host, uint32_t sock, uint16_t *lport,
                    uint16_t *rport);

/*
 * The variables of one connection (its TCB, RFC 9293 §3.3.1, and its timer
 * deadlines) as a stack call left them (TCP_EV_TCB), kept when they differ
 * from the same socket's previous record. A call's records hold from the
 * entry that began it: the DELIVER of the segment it processed, or the
 * TIMER or USER entry of the timer or call; so at a DELIVER the receiver's
 * record already says what that segment did. Records are in recording
 * order, and `at` never decreases among one host's records.
 */
typedef struct rlog_tcb {
    size_t at; /* the first entry it holds at (rlog_count() if none yet) */
    uint64_t time_ns;
    uint32_t host, sock;
    size_t prev; /* the same socket's previous record, or RLOG_NONE */
    tcp_tcb tcb;
} rlog_tcb;

/* Whether the log keeps these records (the default). Only the stepper page
 * (rlog_html) reads them: a caller that does not write it can turn them off,
 * and rlog_tcb_count stays 0. Set it before the first entry. */
void rlog_set_tcbs(rlog *log, bool keep);
size_t rlog_tcb_count(const rlog *log);

/* Whether the log keeps the connection entries (STATE, TIMER, USER, ERROR,
 * REJECT, RESTART), the sockets' ports and the TCB records (the default),
 * or only packet entries, LINK entries and notes. The outputs (sim/render)
 * read connection entries; a scenario's link queries (link:segments,
 * link:last, link.exchange) read only SEND entries and their fates
 * (rlog_send_fate). A caller that writes no output can turn them off;
 * then a packet's first delivery after its SEND is also no entry of its
 * own but kept in the SEND entry (value_ns): of a transfer's entries only
 * the SENDs are left, and rlog_sock_ports always returns -1. Set it
 * before the first entry. */
void rlog_set_conns(rlog *log, bool keep);

/* What became of the packet sent at SEND entry i: its first delivery or
 * drop after i (kind RLOG_DELIVER or RLOG_DROP, its time, and a drop's
 * reason), whether recorded as an entry or, without connection entries,
 * in the SEND entry. False if neither was recorded. */
typedef struct rlog_fate {
    rlog_kind kind;
    uint64_t time_ns;
    sim_drop_reason drop;
} rlog_fate;
bool rlog_send_fate(const rlog *log, size_t i, rlog_fate *out);
const rlog_tcb *rlog_tcb_at(const rlog *log, size_t i);

/* The first DELIVER or DROP entry of packet `packet_id` after entry
 * `after` (what became of it), or RLOG_NONE. Indexed: constant time unless
 * the packet has a second fate after its first. In a log without
 * connection entries a first delivery held in its SEND entry is no entry:
 * it is not found here (a later fate is, by a scan from `after`); ask
 * rlog_send_fate what became of a SEND. */
size_t rlog_packet_fate(const rlog *log, uint32_t packet_id, size_t after);

/* Whether the log holds an entry of packet `packet_id`. A caller that
 * leaves some packets out of the log (a link no query can name) still
 * records every later event of one it kept, so that its fate is known. */
bool rlog_has_packet(const rlog *log, uint32_t packet_id);

/*
 * Checks the invariants the log keeps, in O(entries):
 *  - time order (rule 1): every entry is of a known kind and no earlier
 *    than the one before it;
 *  - arena (rule 1): every note, text and byte an entry points to is the
 *    log's own copy (an empty note may be the literal ""), a note is at
 *    most 63 bytes, NOTE and REJECT entries have a text and no packet bytes,
 *    a parsed segment is the log's copy (an entry without one points at
 *    the empty segment), and its payload lies inside the bytes kept;
 *  - packet joins: a packet entry's send_index is where its packet first
 *    appeared (no later than the entry, the same packet id) and a DELIVER
 *    or DROP has a fate no later than itself (rlog_packet_fate);
 *  - state joins: only STATE and RESTART entries have a cause, and it is a
 *    packet entry of the same instant and host that fits (rlog_state_cause);
 *    a change still waiting for its packet is of the last entry's instant.
 * Returns 0 (why set to ""), or -1 with the first broken invariant and its
 * entry written to why, e.g. "time order: entry 7 (note at 1 ns) comes
 * after entry 6 (deliver at 50000000 ns)".
 */
int rlog_check(const rlog *log, char *why, size_t len);

/* The hosts at the sending and receiving ends of a link direction, as seen
 * on the packets it carried; -1 if it carried none. */
int rlog_link_ends(const rlog *log, uint32_t link, uint8_t dir, uint32_t *from, uint32_t *to);

#endif
