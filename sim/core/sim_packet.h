/*
 * sim_packet — a datagram in flight: real bytes (an IPv4 datagram), drawn
 * from the world's pool.
 *
 * Ownership: a packet has exactly one owner at a time. sim_packet_new and
 * sim_packet_clone give the caller a packet it must pass on (sim_host_send
 * takes it) or free. A receive hook is handed the packet and owns it from
 * then on. A duplicate is always a clone with its own id.
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
    uint8_t *data;
} sim_packet;

/* A packet of `len` bytes (contents undefined), or NULL when len exceeds
 * SIM_PACKET_MAX or memory is exhausted. */
sim_packet *sim_packet_new(sim_world *w, size_t len);
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
