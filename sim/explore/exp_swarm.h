/*
 * exp_swarm — random exploration (swarm testing): each seed draws its own
 * link knobs and fault rates within ranges, and a run under them is checked
 * against the explorer's invariants (explore.h). Plain C over sim/net.
 *
 * Rules a caller may rely on:
 *  1. The knobs of seed N are a pure function of (N, ranges): each knob
 *     draws from its own stream ("swarm:loss", ...) seeded with N, so a
 *     knob's range never moves another knob's value, and the order, jobs or
 *     shard that runs the seed changes nothing.
 *  2. A knob whose range was given (by the scenario or the command line) is
 *     drawn for every seed; a knob left to its default range is drawn for
 *     about half the seeds and left off for the others (swarm testing: a
 *     seed that omits a feature reaches what the feature would mask).
 *  3. A knob that is off leaves the link as the scenario made it; a knob
 *     that is on replaces the scenario's value for that parameter, in both
 *     directions, as `link:set{...}` made right after the link would.
 *  4. The fault rates act at decision points (explore.h rule 1): each point
 *     draws once from the run's stream "swarm:faults" (seeded with the first
 *     net's seed) and gets at most one fault of the explorer's kinds. The
 *     faults drawn are added to the run's schedule while it has room
 *     (EXP_FAULTS_MAX), so a run with no more faults than that is the same
 *     run as its link knobs plus that schedule with the rates off.
 *  5. The text form of knobs ("loss=0.05,delay=20ms,fault_drop=0.01", "-"
 *     for none) reads back to the same values, exactly.
 */
#ifndef EXP_SWARM_H
#define EXP_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "explore.h"
#include "sim_link.h"

typedef enum exp_knob {
    EXP_KNOB_LOSS,       /* link: random loss, probability */
    EXP_KNOB_DUPLICATE,  /* link: random duplication, probability */
    EXP_KNOB_REORDER,    /* link: random reordering, probability */
    EXP_KNOB_DELAY,      /* link: one-way delay */
    EXP_KNOB_JITTER,     /* link: extra uniform delay */
    EXP_KNOB_MTU,        /* link: bytes */
    EXP_KNOB_FAULT_DROP, /* per decision point: the explorer's kinds, in exp_kind order */
    EXP_KNOB_FAULT_DUP,
    EXP_KNOB_FAULT_DELAY,
    EXP_KNOB_FAULT_REORDER,
    EXP_KNOB_COUNT
} exp_knob;

#define EXP_KNOB_FAULT_FIRST EXP_KNOB_FAULT_DROP
#define EXP_KNOB_LINK_MASK   ((1u << EXP_KNOB_FAULT_FIRST) - 1u)

/* The values one seed drew: v[k] in ppb, ns or bytes, used when bit k of
 * `on` is set. */
typedef struct exp_knobs {
    uint32_t on;
    uint64_t v[EXP_KNOB_COUNT];
} exp_knobs;

/* Where each knob is drawn from: [lo, hi]; `off` knobs are never drawn;
 * `given` knobs were set by the scenario or command line (rule 2). */
typedef struct exp_ranges {
    uint32_t given, off;
    uint64_t lo[EXP_KNOB_COUNT], hi[EXP_KNOB_COUNT];
} exp_ranges;

/* "loss", ..., "fault_reorder"; NULL past the last. */
const char *exp_knob_name(exp_knob k);
/* The knob named `name` ('-' read as '_'), or -1. */
int exp_knob_find(const char *name);

/* The default ranges (docs/explore.md, "Swarm"), none given. */
void exp_ranges_default(exp_ranges *r);
/* Sets one knob's range from text: "A..B", "A" (the one value) or "off",
 * values in the knob's unit (a probability in [0,1], a duration with its
 * unit, or bytes in [68,65535]). 0, or -1 with a message. */
int exp_ranges_set(exp_ranges *r, exp_knob k, const char *text, char *err, size_t errlen);
/* A comma list of NAME=RANGE ("loss=0..0.2,mtu=off"). 0, or -1. */
int exp_ranges_parse(exp_ranges *r, const char *list, char *err, size_t errlen);
/* Every range given in `over` replaces dst's. */
void exp_ranges_merge(exp_ranges *dst, const exp_ranges *over);
/* One line per knob: "  loss          0..0.1 (default)". */
void exp_ranges_print(const exp_ranges *r, FILE *f);

/* v cut to two significant digits, down (or up): drawn and narrowed knobs
 * read as loss=0.086 and delay=23ms. */
uint64_t exp_knob_round(uint64_t v, bool up);
/* The knobs of `seed` (rule 1): each value uniform in its range, rounded
 * down to two digits (at least the range's low end). */
void exp_knobs_draw(const exp_ranges *r, uint64_t seed, exp_knobs *out);
/* Text form (rule 5), "-" when no knob is on. */
void exp_knobs_format(const exp_knobs *k, char *buf, size_t len);
/* Reads the text form; 0, or -1 with a message. */
int exp_knobs_parse(const char *text, exp_knobs *out, char *err, size_t errlen);
/* Number of knobs on. */
uint32_t exp_knobs_count(const exp_knobs *k);
/* Rule 3: the link knobs that are on, written into one direction's
 * parameters (reorder on with no reorder delay gets the link's delay, at
 * least 1 ms, as sim:link gives it). */
void exp_knobs_apply_link(const exp_knobs *k, sim_link_params *p);
/* The same for both directions of a link (a net's on_link). */
void exp_knobs_apply_links(const exp_knobs *k, sim_link_params *ab, sim_link_params *ba);
/* Rule 4: the run draws faults at its decision points at these rates,
 * from the stream seeded when its first net is attached. */
void exp_knobs_apply_run(const exp_knobs *k, exp_run *r);

/* ---- Runs over a seed range ---- */

/* One finished seed as the report keeps it (and as it crosses a job's
 * pipe: one write, so smaller than PIPE_BUF). */
typedef struct exp_swarm_rec {
    uint64_t seed;
    exp_knobs knobs;       /* as drawn */
    unsigned failed;       /* bit per exp_inv */
    uint64_t outcome;      /* exp_run.outcome */
    exp_schedule sched;    /* the faults drawn, when not overflow */
    uint32_t drawn;        /* how many were drawn */
    char msg[EXP_MSG_MAX]; /* the first failure, in words */
} exp_swarm_rec;

typedef struct exp_swarm_outcome {
    uint64_t hash, count;
    exp_swarm_rec first; /* the lowest seed with it */
} exp_swarm_outcome;

typedef struct exp_swarm_report {
    uint64_t runs;
    uint64_t per_inv[EXP_INV_COUNT];
    exp_swarm_rec *fails;
    uint32_t nfails, capfails;
    exp_swarm_outcome *outcomes;
    uint32_t noutcomes, capoutcomes;
} exp_swarm_report;

void exp_swarm_report_free(exp_swarm_report *rep);
void exp_swarm_report_add(exp_swarm_report *rep, const exp_swarm_rec *rec);
/* Failures and outcomes in seed order, whatever order the runs ended in. */
void exp_swarm_report_sort(exp_swarm_report *rep);
/* The partial report (shards): write, and merge one in. */
int exp_swarm_report_write(const exp_swarm_report *rep, FILE *f);
int exp_swarm_report_read(exp_swarm_report *rep, FILE *f, char *err, size_t errlen);

/* Runs one seed into rec; 0, or -1 when the run could not be made at all
 * (message printed). */
typedef int (*exp_swarm_fn)(void *ctx, uint64_t seed, exp_swarm_rec *rec);
/* Called after each seed the parent has counted (for progress). */
typedef void (*exp_swarm_tick_fn)(void *ctx, const exp_swarm_report *rep);

typedef struct exp_swarm_opts {
    uint64_t seed_lo, seed_hi; /* inclusive */
    uint32_t jobs;
    uint32_t shard, nshards; /* this shard, 0-based, of nshards */
    exp_swarm_fn run;
    exp_swarm_tick_fn tick;
    void *ctx;
} exp_swarm_opts;

/* Seeds of this shard: the i-th seed of the range (from 0) belongs to
 * shard i mod nshards, and within it to job (i div nshards) mod jobs. */
uint64_t exp_swarm_share(const exp_swarm_opts *o);
/* Runs every seed of this shard (forking o->jobs processes when above 1,
 * each sending its results over one pipe) into rep. 0, or -1 when a run
 * or a job failed. */
int exp_swarm_run(const exp_swarm_opts *o, exp_swarm_report *rep);

#endif
