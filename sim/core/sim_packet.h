/*
 * sim_packet — a datagram in flight: real bytes (an IPv4 datagram), drawn
 * from the world's pool.
 *
 * Ownership: a packet has exactly one owner at a time. sim_packet_new and
 * sim_packet_clone give the caller a packet it must pass on (sim_host_send
 * takes it) or free. A receive hook is handed the packet and owns it from
 * then on. A duplicate is always a clone with its own id.
 *
 * Lent bytes: sim_packet_new_lent makes a packet whose data points at
 * bytes someone else owns (a sender's buffer) instead of a copy. Readers
 * see the same contiguous datagram at data either way. The lender keeps
 * those bytes unchanged until `release(owner)` is called, exactly once,
 * when the packet is freed, made writable, or its world is freed (also
 * when sim_packet_new_lent fails). The core never writes lent bytes:
 * whoever changes a packet's bytes calls sim_packet_writable first, which
 * copies them into the packet's own storage (copy-on-write); a clone is
 * always a copy.
 *
 * Split bytes: sim_packet_new_split makes a packet whose first bytes (the
 * head: a datagram's headers) are copied into its own storage and whose
 * remaining bytes (the tail: a payload) are read where they lie, borrowed
 * without a copy and without a release: their owner keeps them unchanged
 * for as long as the world lives. For such a packet data holds the head
 * only (sim_packet_head_len bytes); a reader that needs the whole
 * datagram asks sim_flat_bytes (a contiguous copy in a buffer it owns)
 * or sim_packet_copy_out, and a writer calls sim_packet_writable, which
 * moves every byte to the packet's own storage. A clone of a split packet
 * is split too (its own head, the same tail).
 */
#ifndef SIM_PACKET_H
#define SIM_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "sim_queue.h"

typedef struct sim_world sim_world;

/* The largest datagram the core carries (IPv4 total length is 16 bits). */
#define SIM_PACKET_MAX 65535u

typedef struct sim_packet {
    sim_timer timer;         /* private: delivery event while in flight */
    struct sim_packet *next; /* private: pool free list / held list */
    uint32_t id;             /* unique within the world, in creation order */
    uint32_t origin_id;      /* id of the packet this was cloned from, else id */
    uint32_t len;            /* bytes used */
    uint32_t cap;            /* bytes available at data */
    uint32_t link_id;        /* private: where it is travelling */
    uint8_t dir;             /* private */
    uint8_t lent;            /* private: data is borrowed (its release is kept in the slot) */
    uint8_t split;           /* private: data holds the head, a borrowed tail follows */
    uint8_t *data;           /* lent bytes are read-only: see sim_packet_writable; split:
                                the first sim_packet_head_len bytes only */
} sim_packet;

/* A packet of `len` bytes (contents undefined), or NULL when len exceeds
 * SIM_PACKET_MAX or memory is exhausted. */
sim_packet *sim_packet_new(sim_world *w, size_t len);
/* A packet of `len` bytes that reads `data` (lent, not copied), or NULL
 * (release(owner) has then been called). */
sim_packet *sim_packet_new_lent(sim_world *w, const uint8_t *data, size_t len,
                                void (*release)(void *owner), void *owner);
/* A packet of hlen + tlen bytes: hlen bytes copied from head, then tlen
 * bytes read at tail (borrowed: unchanged and alive as long as the world,
 * never released), or NULL (the world has failed). tlen 0 makes an
 * ordinary packet. */
sim_packet *sim_packet_new_split(sim_world *w, const uint8_t *head, size_t hlen,
                                 const uint8_t *tail, size_t tlen);
/* How many bytes from the first are contiguous at data: len, or a split
 * packet's head. */
size_t sim_packet_head_len(const sim_packet *p);
/* Copies n bytes from offset off (off + n <= len), head and tail alike. */
void sim_packet_copy_out(const sim_packet *p, size_t off, uint8_t *dst, size_t n);

/* A buffer that shows any packet as one contiguous datagram: its owner
 * keeps one per use that may be active at once (zero-initialized;
 * sim_flat_free when done). Memory grows to the largest split packet
 * shown and is reused, so a steady flow allocates nothing. */
typedef struct sim_flat {
    uint8_t *buf;
    uint32_t cap;
} sim_flat;
/* The whole datagram p: p->data itself, or (split) a copy in f, valid
 * until f is next used or freed. NULL only when f cannot grow (out of
 * memory). */
const uint8_t *sim_flat_bytes(sim_flat *f, const sim_packet *p);
void sim_flat_free(sim_flat *f);

/* p itself, or (if its bytes are lent or split) the same packet (id,
 * origin, length, bytes) moved to storage of its own, p freed and its bytes released; NULL
 * when out of memory (p is then untouched). p must not be in flight. */
sim_packet *sim_packet_writable(sim_world *w, sim_packet *p);
/* A copy with a new id and origin_id = the original's origin_id. */
sim_packet *sim_packet_clone(sim_world *w, const sim_packet *p);
void sim_packet_free(sim_world *w, sim_packet *p);
/* Packets currently owned by anyone (tests check this returns to zero). */
size_t sim_packets_in_use(const sim_world *w);

/* IPv4 header fields the core reads to route (bytes 12..19). A datagram
 * shorter than 20 bytes has source and destination 0. */
uint32_t sim_packet_src(const sim_packet *p);
uint32_t sim_packet_dst(const sim_packet *p);

#endif
