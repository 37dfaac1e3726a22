/*
 * sim_trace — typed records of everything that happens to packets, plus
 * protocol events reported by hosts, in the order they happen.
 *
 * The world hands each record to one sink (set with sim_world_set_trace).
 * A record and every pointer in it are valid only during the sink call: a
 * sink that keeps anything copies it. Outputs (text, JSON lines, pcap,
 * ladder) are built on top of this by the layer above.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim_time.h"

typedef enum sim_trace_kind {
    SIM_TR_SEND,      /* a host handed a packet to a link direction */
    SIM_TR_DROP,      /* the packet is gone: see reason */
    SIM_TR_DELIVER,   /* the packet reached the receiving host's hook */
    SIM_TR_DUPLICATE, /* a clone was made (packet_id = clone, origin_id = original) */
    SIM_TR_CORRUPT,   /* bits were flipped in transit */
    SIM_TR_DELAY,     /* extra delay added (reordering or fault hook): value_ns */
    SIM_TR_HOLD,      /* the fault hook holds the packet until released */
    SIM_TR_RELEASE,   /* a held packet continues */
    SIM_TR_LINK,      /* a link direction went up (value_ns = 1) or down (0) */
    SIM_TR_HOST       /* a protocol event reported by a host: code, text, data */
} sim_trace_kind;

typedef enum sim_drop_reason {
    SIM_DROP_NONE,
    SIM_DROP_LOSS,       /* random loss */
    SIM_DROP_QUEUE,      /* tail drop: the queue was full */
    SIM_DROP_MTU,        /* larger than the link MTU */
    SIM_DROP_LINK_DOWN,  /* partitioned */
    SIM_DROP_FAULT,      /* the fault hook said drop */
    SIM_DROP_NO_ROUTE,   /* no link from the sender to the destination */
    SIM_DROP_NO_RECEIVER /* the destination host has no receive hook */
} sim_drop_reason;

typedef struct sim_trace_rec {
    sim_time_t time;
    sim_trace_kind kind;
    sim_drop_reason reason; /* SIM_TR_DROP only */
    uint32_t host_id;       /* sender for SEND, receiver for DELIVER, reporter for HOST */
    uint32_t link_id;       /* UINT32_MAX when not on a link */
    uint8_t dir;            /* 0: a->b, 1: b->a */
    uint32_t packet_id, origin_id;
    const uint8_t *bytes; /* packet bytes, or the HOST event's data */
    size_t len;
    uint64_t value_ns; /* DELAY amount, LINK up flag */
    uint32_t code;     /* HOST: the protocol's own event code */
    const char *text;  /* HOST: a short description, or NULL */
} sim_trace_rec;

typedef void (*sim_trace_fn)(void *ctx, const sim_trace_rec *rec);

const char *sim_trace_kind_name(sim_trace_kind kind);
const char *sim_drop_reason_name(sim_drop_reason reason);

/* One text line per record, stable across compilers (used by the
 * determinism tests): "0.050000000 DELIVER host=1 link=0 dir=0 pkt=3 len=40".
 * Returns the length it wanted, like snprintf. */
size_t sim_trace_format(const sim_trace_rec *rec, char *buf, size_t buf_len);

#endif
