/*
 * sim_link — a point-to-point link between two hosts, each direction
 * configured and impaired on its own.
 *
 * Path of a packet through one direction, in this order:
 *   1. link down                 -> drop (SIM_DROP_LINK_DOWN)
 *   2. larger than mtu           -> drop (SIM_DROP_MTU)
 *   3. fault hook (if set)       -> pass, drop, delay, duplicate or hold
 *   4. random loss               -> drop (SIM_DROP_LOSS)
 *   5. queue full (queue_packets packets waiting to be serialised)
 *                                -> tail drop (SIM_DROP_QUEUE)
 *   6. serialisation at bandwidth_bps (FIFO), then propagation delay_ns plus
 *      a uniform jitter in [0, jitter_ns], plus, with probability reorder,
 *      reorder_delay_ns more
 *   7. duplication (the clone takes the same path from step 6's delivery)
 *   8. corruption (one random bit flipped; the receiver's checksum must
 *      catch it)
 *   9. delivery to the receiving host's hook
 * Random draws come from the direction's own stream "link:A>B" (host
 * names), so they do not depend on any other link. With a draw key hook set
 * on the world (sim_world_set_draw_key) they are keyed instead: see below.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_host.h"
#include "sim_time.h"

typedef struct sim_link sim_link;

typedef struct sim_link_params {
    sim_time_t delay_ns;    /* propagation delay */
    sim_time_t jitter_ns;   /* extra uniform delay in [0, jitter_ns] */
    uint64_t bandwidth_bps; /* 0: infinite (no serialisation delay) */
    uint32_t queue_packets; /* 0: unlimited */
    uint32_t mtu;           /* bytes, 68 .. SIM_PACKET_MAX */
    uint32_t loss_ppb;      /* probabilities in parts per billion */
    uint32_t duplicate_ppb;
    uint32_t reorder_ppb;
    sim_time_t reorder_delay_ns; /* extra delay for a reordered packet */
    uint32_t corrupt_ppb;
    bool up;
} sim_link_params;

/* delay 0, no impairment, unlimited queue and bandwidth, mtu 1500, up. */
void sim_link_params_default(sim_link_params *p);
/* 0, or -1 with a message naming the bad field ("mtu must be in [68,65535], got 20"). */
int sim_link_params_check(const sim_link_params *p, char *err, size_t err_len);

/* Adds a link between a and b with parameters for each direction (a->b is
 * direction 0). At most one link per pair of hosts. Fails (-1, message in
 * sim_world_error, nothing added) on a pair already linked, bad
 * parameters, or a pair whose hash lands among SIM_INDEX_MAX_WALK (2,048)
 * other pairs' in a row: pairs chosen to collide in the lookup. */
int sim_link_add(sim_world *w, sim_host *a, sim_host *b, const sim_link_params *ab,
                 const sim_link_params *ba, sim_link **out);
/* Makes room in the lookup of links by host pair for `links` links in
 * all (as sim_host_reserve for hosts): the adds up to that many never
 * rehash. A hint: it changes no answer, and more links than said still
 * work. Returns 0, or -1 when the room cannot be had (out of memory, or
 * past 2^30 links); the lookup then works as before. */
int sim_link_reserve(sim_world *w, uint32_t links);
sim_link *sim_link_by_id(const sim_world *w, uint32_t id);
sim_link *sim_link_between(const sim_world *w, const sim_host *from, const sim_host *to);
uint32_t sim_link_count(const sim_world *w);
uint32_t sim_link_id(const sim_link *l);
sim_host *sim_link_host(const sim_link *l, int end); /* end 0: a, 1: b */
/* The direction that carries packets from `from` (0 or 1), or -1. */
int sim_link_dir_from(const sim_link *l, const sim_host *from);

/* The direction's parameters: the world's one copy of that value (a copy
 * of its own, unshared, when values made to collide crowd its slots in the
 * table of kept values: compare values, not pointers), valid until the
 * direction's parameters next change (sim_link_params_set,
 * sim_link_set_up: the value is freed once no direction uses it). */
const sim_link_params *sim_link_params_get(const sim_link *l, int dir);
int sim_link_params_set(sim_link *l, int dir, const sim_link_params *p);

/* Partition and heal: now, or at a given instant (scheduled by the world). */
void sim_link_set_up(sim_link *l, int dir, bool up);
int sim_link_set_up_at(sim_link *l, int dir, sim_time_t when, bool up);

/* ---- Fault hook ----------------------------------------------------- */

typedef enum sim_fault_action {
    SIM_FAULT_PASS,
    SIM_FAULT_DROP,
    SIM_FAULT_DELAY,     /* add delay_ns to this packet's delivery */
    SIM_FAULT_DUPLICATE, /* deliver `copies` extra clones as well (>= 1) */
    SIM_FAULT_HOLD       /* keep it until sim_link_release */
} sim_fault_action;

typedef struct sim_fault_verdict {
    sim_fault_action action;
    sim_time_t delay_ns;
    uint32_t copies;
} sim_fault_verdict;

/* Sees every packet entering the direction (step 3 above); must not free or
 * keep `p`. May call back into the world: a packet it sends on this same
 * direction enters as the next event at the same instant (sim_link.c
 * promise 4). */
typedef sim_fault_verdict (*sim_fault_fn)(void *ctx, sim_link *l, int dir, const sim_packet *p);
/* Sets (fn NULL: clears) the direction's hook. Any hook and context may
 * be given to any direction; the first pair set in a world is kept once
 * for every direction given the same pair (sim/net gives all of them
 * one), another pair costs the direction a part of its own. */
void sim_link_set_fault_hook(sim_link *l, int dir, sim_fault_fn fn, void *ctx);

/* Held packets, oldest first. Releasing one sends it on from step 4 at the
 * current time. packet_id 0 releases all. Returns how many were released. */
uint32_t sim_link_held_count(const sim_link *l, int dir);
uint32_t sim_link_release(sim_link *l, int dir, uint32_t packet_id);

/* ---- Keyed draws --------------------------------------------------- */

/* By default a packet's draws (step 4 on: loss, jitter, reorder,
 * duplicate, corruption) are the next values of its direction's stream, so
 * a packet's fate depends on how many packets went before it. With a draw
 * key hook set, each packet admitted at step 4 is first shown to the hook;
 * when it returns true with a key, the packet's draws come from a stream of
 * their own, seeded from (world seed, sending host's name, receiving host's
 * name, key) and from nothing else: two packets with the same key on the
 * same direction meet the same fate, whenever they are sent and whatever
 * went before. When it returns false (no key for this packet) the draws
 * come from the direction's stream as by default. The hook is called once
 * per admission (a packet released after a hold, and each clone a fault
 * hook makes, is admitted once), must not free or keep `p`, and must not
 * call back into the world. NULL (the default) turns keyed draws off. */
typedef bool (*sim_draw_key_fn)(void *ctx, const sim_link *l, int dir, const sim_packet *p,
                                uint64_t *key);
void sim_world_set_draw_key(sim_world *w, sim_draw_key_fn fn, void *ctx);

/* Counters per direction, exact over any run. */
typedef struct sim_link_stats {
    uint64_t sent, delivered, dropped_loss, dropped_queue, dropped_mtu, dropped_down, dropped_fault,
        duplicated, reordered, corrupted, held;
    uint64_t bytes_delivered;
} sim_link_stats;
sim_link_stats sim_link_stats_get(const sim_link *l, int dir);

#endif
