/*
 * ladder — the ladder model shared by the text and SVG ladders (private to
 * sim/render/): a list of items in log order (state changes, notes, a
 * segment leaving, arriving or being lost) and a list of segments, each
 * knowing the items where it left and where it ended.
 */
#ifndef LADDER_H
#define LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render.h"
#include "rlog.h"

/* Longest text beside a lane (a state, a user call, a note), with its NUL. */
#define LADDER_LABEL_MAX 72
/* Hosts beyond this id are not given a lane (a corrupt host id in the log
 * must not make the diagram as wide as the id). */
#define LADDER_LANES_MAX 1024u
/* The header line of a ladder with relative sequence numbers. */
#define LADDER_RELATIVE_NOTE "seq and ack are relative to each side's ISN (its SYN's seq)"

typedef enum lad_kind {
    IT_STATE,  /* a state name written beside the lane */
    IT_LNOTE,  /* a short note inside the lane's gap: user call, timer, error */
    IT_WNOTE,  /* a note across the diagram: scenario notes, links */
    IT_DEPART, /* a segment leaves its sender */
    IT_ARRIVE, /* ... reaches the receiver */
    IT_LOST    /* ... is dropped by the network */
} lad_kind;

typedef struct lad_item {
    lad_kind kind;
    uint64_t t;
    uint32_t lane;
    size_t pkt;
    char text[LADDER_LABEL_MAX];
} lad_item;

typedef struct lad_pkt {
    uint32_t src, dst; /* lanes */
    uint64_t t_send, t_end;
    size_t depart, end; /* items; end is RLOG_NONE while in flight */
    bool lost, dup, held, delayed, corrupt;
    sim_drop_reason drop;
    uint8_t flags;
    char label[64];
} lad_pkt;

/* What the state texts need to know of one socket. */
typedef struct lad_sock {
    uint32_t host, sock;
    bool listener; /* never left CLOSED/LISTEN */
} lad_sock;

/* One direction of a connection and the sequence number its numbers are
 * shown relative to (relative mode). */
typedef struct lad_flow {
    uint32_t src_addr, dst_addr;
    uint16_t src_port, dst_port;
    uint32_t isn;
} lad_flow;

typedef struct ladder {
    const rlog *log;
    bool relative;
    lad_flow *flows;
    size_t nflows, capflows;
    lad_item *items;
    size_t nitems, capitems;
    lad_pkt *pkts;
    size_t npkts, cappkts;
    size_t *pkt_of; /* entry index -> pkts index, for the entries packets start at */
    lad_sock *socks;
    size_t nsocks;
    bool *multi; /* per lane: more than one connection socket, so name them */
    uint32_t nlanes;
} ladder;

/* Builds the model of the whole log (relative: seq/ack relative to each
 * flow's ISN); ladder_free releases it. */
void ladder_build(ladder *l, const rlog *log, bool relative);
/* The same from the entries of [from_ns, to_ns] only (to_ns 0: no end);
 * with control_only, segments without SYN, FIN or RST are left out. */
void ladder_build_part(ladder *l, const rlog *log, bool relative, uint64_t from_ns, uint64_t to_ns,
                       bool control_only);
void ladder_free(ladder *l);
/* A segment drawn as one arrow: nothing else happened while it flew. */
bool ladder_is_whole(const ladder *l, const lad_pkt *p);
/* The label with its marks: "SYN seq=100 (dup) (delayed)"; cut to fit buf. */
void ladder_full_label(const lad_pkt *p, char *buf, size_t n);

#endif
