/*
 * explore — every small fault schedule of a run, checked against
 * invariants. Plain C over sim/net: no Lua. A caller (the tcpsim command)
 * supplies a runner that builds its nets, attaches an exp_run to each with
 * exp_run_attach, runs, and calls exp_run_finish; the explorer walks the
 * tree of schedules, shrinks failures and reports.
 *
 * Rules a caller may rely on:
 *  1. Decision points are the segments entering links that no segment rule
 *     acted on, numbered from 1 in the order they enter, over every net of
 *     the run. A schedule is a list of (point, kind) with points strictly
 *     increasing; "7:drop,12:dup" is its text form.
 *  2. A run is a pure function of the scenario, its options and the
 *     schedule: the same schedule gives the same points, the same verdicts,
 *     the same report line.
 *  3. The tree: the run of schedule S (last fault at point p) has children
 *     S + (q, k) for every point q > p the run of S saw and every kind k
 *     asked for, down to K faults. Every schedule is run once, parents
 *     before children; the order of the report is the order of schedules
 *     (compare exp_schedule_cmp), whatever the jobs and shards.
 *  4. Invariants are checked on every run; a scenario's own expectations
 *     are not invariants (faults change traces legitimately).
 *  5. Two ways to run the tree, with the same report: from scratch (the
 *     default: each schedule is a fresh run), or the fork tree
 *     (exp_opts.fork_tree): a run forks at each decision point where a
 *     child schedule adds its fault; the child applies it and runs on, the
 *     parent waits for it and then goes on without the fault, so the
 *     common prefix of a subtree runs once. Each process sends its result
 *     to the explorer over one pipe. At most K + 1 processes per job are
 *     alive; each dies with its parent; a child that dies of a signal is
 *     an error naming its schedule.
 */
#ifndef EXPLORE_H
#define EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"

/* ---- Schedules ---- */

typedef enum exp_kind {
    EXP_DROP,    /* the segment is lost */
    EXP_DUP,     /* one extra copy is delivered */
    EXP_DELAY,   /* held until the next segment in the same direction has gone */
    EXP_REORDER, /* held until the next segment in the other direction has gone */
    EXP_KIND_COUNT
} exp_kind;

const char *exp_kind_name(exp_kind k);
/* A comma list of kind names ("drop,dup") as a bit mask; -1 if a name is
 * unknown. */
int exp_kinds_parse(const char *text, unsigned *mask);

#define EXP_FAULTS_MAX 8

typedef struct exp_fault {
    uint32_t point; /* 1-based decision point */
    uint8_t kind;   /* exp_kind */
} exp_fault;

typedef struct exp_schedule {
    exp_fault f[EXP_FAULTS_MAX];
    uint32_t n;
} exp_schedule;

/* Parses "7:drop,12:dup" ("" is the empty schedule). 0, or -1 with a
 * message in err. */
int exp_schedule_parse(const char *text, exp_schedule *out, char *err, size_t errlen);
/* Writes the text form ("-" for the empty schedule). */
void exp_schedule_format(const exp_schedule *s, char *buf, size_t len);
/* Pre-order of the tree: a prefix first, then by (point, kind) in turn. */
int exp_schedule_cmp(const exp_schedule *a, const exp_schedule *b);

/* ---- Invariants ---- */

typedef enum exp_inv {
    EXP_INV_STACK,    /* the stack's own invariant checker (stack/tcp_check.h) */
    EXP_INV_STUCK,    /* a connection neither CLOSED nor waiting for its user */
    EXP_INV_DATA,     /* bytes read not exactly once and in order */
    EXP_INV_LIMIT,    /* the event or time limit was hit */
    EXP_INV_SCENARIO, /* one of the scenario's own (sim:invariant) */
    EXP_INV_SCRIPT,   /* the run was planted to fail (tests) */
    EXP_INV_COUNT
} exp_inv;

const char *exp_inv_name(exp_inv i);

/* ---- Coverage: (state, segment kind) pairs and state-diagram edges ---- */

enum {
    EXP_SEG_SYN,
    EXP_SEG_SYNACK,
    EXP_SEG_ACK,
    EXP_SEG_DATA,
    EXP_SEG_FIN,
    EXP_SEG_RST,
    EXP_SEG_OTHER,
    EXP_SEG_KIND_COUNT
};
#define EXP_STATES 11
#define EXP_CAUSES 3

typedef struct exp_cov {
    uint8_t seg[EXP_STATES][EXP_SEG_KIND_COUNT];      /* reached in this run */
    uint8_t edge[EXP_STATES][EXP_STATES][EXP_CAUSES]; /* from, to, tcp_cause */
} exp_cov;

const char *exp_seg_kind_name(int k);

/* ---- One run ---- */

#define EXP_NETS_MAX 8
#define EXP_HELD_MAX EXP_FAULTS_MAX
#define EXP_MSG_MAX  200

typedef struct exp_stream exp_stream; /* bytes each socket sent (private) */
typedef struct exp_out exp_out;       /* the decision points seen (private) */

/* The segment a fault acted on, as a scenario's link rule made with
 * `last` names it (recorded when exp_run.describe is set). */
typedef struct exp_fault_desc {
    uint32_t net, link;    /* 0-based: the run's nets, the net's links, in creation order */
    char from[32], to[32]; /* host names: the sender, the receiver */
    uint8_t flags;         /* without PSH (a rule's `exact` ignores it) */
    uint32_t len;          /* payload bytes */
    uint32_t nth;          /* the nth decision point from `from` on the link with these
                            * flags and length that no earlier fault took: what a rule
                            * made with the link and `last` counts */
    uint8_t kind;          /* exp_kind */
} exp_fault_desc;

typedef struct exp_run exp_run;
typedef struct exp_tree exp_tree; /* the fork tree a run belongs to (private) */
struct exp_run {
    exp_schedule sched;
    uint32_t npoints;   /* decision points seen so far */
    uint32_t next;      /* next fault of sched to apply */
    uint32_t applied;   /* faults applied */
    uint64_t settle_ns; /* how long exp_run_finish lets a net settle */
    net *nets[EXP_NETS_MAX];
    uint32_t nnets;
    struct exp_held {
        net *net;
        uint32_t link, packet;
        int dir; /* the direction whose next segment releases it */
        bool due;
    } held[EXP_HELD_MAX];
    uint32_t nheld;
    sim_timer release[EXP_NETS_MAX]; /* per net: releases what is due */
    struct exp_netref {
        struct exp_run *run;
        uint32_t index;
    } refs[EXP_NETS_MAX];
    exp_cov cov;
    exp_stream *streams;
    uint32_t nstreams, capstreams;
    bool describe;                       /* fill desc (costs a record per segment) */
    exp_fault_desc desc[EXP_FAULTS_MAX]; /* one per fault applied, in order */
    exp_out *outs;
    uint32_t nouts, capouts;
    unsigned failed;       /* bit per exp_inv */
    char msg[EXP_MSG_MAX]; /* the first failure, in words */
    uint64_t outcome;      /* hash of every record's trace and error */
    exp_tree *tree;        /* set by the explorer in fork-tree mode */
    /* Swarm runs (exp_swarm.h rule 4): faults drawn at each decision point
     * at these rates, from `rng` (seeded when the first net is attached). */
    bool rates;
    uint32_t rate_ppb[EXP_KIND_COUNT];
    sim_rng rng;
    uint32_t drawn; /* faults drawn */
    bool overflow;  /* more were drawn than sched holds: it is not the run's */
};

void exp_run_init(exp_run *r, const exp_schedule *s, uint64_t settle_ns);
void exp_run_free(exp_run *r);
/* Steers and watches n (its probe); at most EXP_NETS_MAX nets. */
void exp_run_attach(exp_run *r, net *n);
/* Records a failed invariant (the first message is kept). */
void exp_run_fail(exp_run *r, exp_inv inv, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The next decision point, for a runner that is no net (the probe calls
 * it for every segment): numbers it and returns the exp_kind of the fault
 * the schedule puts there, or -1. In fork-tree mode the schedules that
 * add a fault here run on from here in forked processes (rule 5). */
int exp_run_point(exp_run *r);
/* After the caller's run: releases held packets, lets each net settle
 * (until idle or settle_ns more), then checks the invariants. */
void exp_run_finish(exp_run *r);

/* ---- The explorer ---- */

/* Runs one schedule into r (exp_run_init done by the explorer); returns 0,
 * or -1 when the run could not be made at all (message printed). */
typedef int (*exp_runner_fn)(void *ctx, exp_run *r);

typedef struct exp_opts {
    uint32_t faults;         /* K */
    unsigned kinds;          /* mask of exp_kind */
    uint32_t seg_lo, seg_hi; /* faults only at points in [lo, hi] (0: no bound) */
    uint64_t max_schedules;
    uint32_t jobs;
    uint32_t shard, nshards; /* this shard, 0-based, of nshards */
    uint64_t settle_ns;
    bool fork_tree; /* the fork tree, not every schedule from scratch (rule 5) */
    exp_runner_fn run;
    void *ctx;
} exp_opts;

/* One finished schedule as a report keeps it. */
typedef struct exp_fail_rec {
    exp_schedule sched;
    unsigned failed;
    char msg[EXP_MSG_MAX];
} exp_fail_rec;

typedef struct exp_outcome_rec {
    uint64_t hash;
    uint64_t count;
    exp_schedule first;
} exp_outcome_rec;

typedef struct exp_report {
    uint64_t schedules;
    uint64_t per_inv[EXP_INV_COUNT];
    exp_fail_rec *fails;
    uint32_t nfails, capfails;
    exp_outcome_rec *outcomes;
    uint32_t noutcomes, capoutcomes;
    uint32_t seg[EXP_STATES][EXP_SEG_KIND_COUNT];
    uint32_t edge[EXP_STATES][EXP_STATES][EXP_CAUSES];
} exp_report;

void exp_report_free(exp_report *rep);
/* Adds one finished run. */
void exp_report_add(exp_report *rep, const exp_run *r);
/* Sorts failures and outcomes into schedule order (rule 3). */
void exp_report_sort(exp_report *rep);
/* The partial report format (shards, jobs): write, and merge one in. */
int exp_report_write(const exp_report *rep, FILE *f);
int exp_report_read(exp_report *rep, FILE *f, char *err, size_t errlen);
/* Coverage as text, and as a DOT state diagram (edges labelled by count). */
void exp_report_coverage_text(const exp_report *rep, FILE *f);
void exp_report_coverage_dot(const exp_report *rep, FILE *f);

/* Schedules at most K faults over P points and `nkinds` kinds imply when
 * faults add no segments: sum over j <= K of C(P, j) * nkinds^j
 * (saturating). An estimate, not a bound: faults can add segments. */
uint64_t exp_count_estimate(uint32_t points, uint32_t faults, uint32_t nkinds);

/* Runs the root (the empty schedule) into *root. Returns 0, or -1 if the
 * runner failed. */
int exp_run_root(const exp_opts *o, exp_run *root);
/* Explores every schedule of this shard under the root (rule 3), adding
 * each finished run to rep. Returns 0, or -1 if a runner failed. */
int exp_explore(const exp_opts *o, const exp_run *root, exp_report *rep);
/* Shrinks a failing schedule: removes faults while the invariant `inv`
 * still fails, then moves faults to earlier points. Returns runs made. */
uint32_t exp_shrink(const exp_opts *o, exp_inv inv, const exp_schedule *in, exp_schedule *out);

#endif
