/*
 * sim_host — an endpoint with a name and an IPv4 address. A protocol
 * instance attaches through the receive hook and sends with sim_host_send;
 * the core never looks inside the datagram beyond the IPv4 addresses.
 */
#ifndef SIM_HOST_H
#define SIM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_packet.h"

typedef struct sim_world sim_world;
typedef struct sim_host sim_host;

/* Receive hook: the receiver owns `p` from this call on (it must free it). */
typedef void (*sim_recv_fn)(void *ctx, sim_host *h, sim_packet *p);

#define SIM_NAME_MAX 31

/* Adds a host. Fails (-1, message in sim_world_error, nothing added) on an
 * empty or too long name, a duplicate name or a duplicate address, or a
 * name or address whose hash lands among 2,048 others' in a row in its
 * lookup (keys chosen to collide; docs/core.md, "Hosts"). */
int sim_host_add(sim_world *w, const char *name, uint32_t ipv4, sim_host **out);
/* Makes room in the lookups by name and by address for `hosts` hosts in
 * all, as a caller that knows how many it will add can say: the adds up to
 * that many then never rehash, and the lookups' arrays are made once at
 * their final size instead of doubling through every smaller one. A hint:
 * it changes no lookup's answer, and adding more hosts than said still
 * works. Returns 0, or -1 when the room cannot be had (out of memory, or
 * past the limit of 2^30 hosts); the lookups then work as before. */
int sim_host_reserve(sim_world *w, uint32_t hosts);
sim_host *sim_host_by_name(const sim_world *w, const char *name);
sim_host *sim_host_by_addr(const sim_world *w, uint32_t ipv4);
sim_host *sim_host_by_id(const sim_world *w, uint32_t id);
uint32_t sim_host_count(const sim_world *w);

uint32_t sim_host_id(const sim_host *h); /* 0, 1, 2 ... in creation order */
const char *sim_host_name(const sim_host *h);
uint32_t sim_host_addr(const sim_host *h);
sim_world *sim_host_world(const sim_host *h);

void sim_host_set_receiver(sim_host *h, sim_recv_fn fn, void *ctx);

/* Sends a datagram: routed by its IPv4 destination to the link joining this
 * host and the destination host. Takes ownership of p in every case; a
 * packet that cannot be routed is traced as dropped (SIM_DROP_NO_ROUTE). */
void sim_host_send(sim_host *h, sim_packet *p);

/* Reports a protocol event into the trace (SIM_TR_HOST). */
void sim_host_report(sim_host *h, uint32_t code, const char *text, const void *data, size_t len);

#endif
