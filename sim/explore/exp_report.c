/*
 * exp_report — what an exploration found: schedules run, failures,
 * distinct outcomes, coverage counts; the partial-report text format that
 * jobs and shards write and `--merge` reads; coverage as text and DOT.
 * Order is the schedules' (explore.h rule 3), never the order runs ended.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_int.h"
#include "explore.h"

#define REPORT_MAGIC "tcpsim-explore-report 1"

void *exp_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    uint64_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    p = c <= UINT32_MAX && c <= SIZE_MAX / elem ? realloc(p, (size_t)c * elem) : NULL;
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    *cap = (uint32_t)c;
    return p;
}

void exp_report_free(exp_report *rep)
{
    free(rep->fails);
    free(rep->outcomes);
    memset(rep, 0, sizeof *rep);
}

static void add_fail(exp_report *rep, const exp_schedule *s, unsigned failed, const char *msg)
{
    rep->fails = exp_grow(rep->fails, &rep->capfails, rep->nfails + 1, sizeof *rep->fails);
    exp_fail_rec *f = &rep->fails[rep->nfails++];
    f->sched = *s;
    f->failed = failed;
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    for (int i = 0; i < EXP_INV_COUNT; i++)
        if (failed & (1u << i))
            rep->per_inv[i]++;
}

/* Counts one more run with outcome `hash`; keeps the first schedule. */
static void add_outcome(exp_report *rep, uint64_t hash, uint64_t count, const exp_schedule *s)
{
    for (uint32_t i = rep->noutcomes; i-- > 0;) {
        exp_outcome_rec *o = &rep->outcomes[i];
        if (o->hash == hash) {
            o->count += count;
            if (exp_schedule_cmp(s, &o->first) < 0)
                o->first = *s;
            return;
        }
    }
    rep->outcomes =
        exp_grow(rep->outcomes, &rep->capoutcomes, rep->noutcomes + 1, sizeof *rep->outcomes);
    rep->outcomes[rep->noutcomes++] = (exp_outcome_rec){hash, count, *s};
}

void exp_report_add(exp_report *rep, const exp_run *r)
{
    rep->schedules++;
    if (r->failed)
        add_fail(rep, &r->sched, r->failed, r->msg);
    add_outcome(rep, r->outcome, 1, &r->sched);
    for (int s = 0; s < EXP_STATES; s++) {
        for (int k = 0; k < EXP_SEG_KIND_COUNT; k++)
            rep->seg[s][k] += r->cov.seg[s][k];
        for (int t = 0; t < EXP_STATES; t++)
            for (int c = 0; c < EXP_CAUSES; c++)
                rep->edge[s][t][c] += r->cov.edge[s][t][c];
    }
}

static int fail_cmp(const void *a, const void *b)
{
    return exp_schedule_cmp(&((const exp_fail_rec *)a)->sched, &((const exp_fail_rec *)b)->sched);
}

static int outcome_cmp(const void *a, const void *b)
{
    return exp_schedule_cmp(&((const exp_outcome_rec *)a)->first,
                            &((const exp_outcome_rec *)b)->first);
}

void exp_report_sort(exp_report *rep)
{
    if (rep->nfails)
        qsort(rep->fails, rep->nfails, sizeof *rep->fails, fail_cmp);
    if (rep->noutcomes)
        qsort(rep->outcomes, rep->noutcomes, sizeof *rep->outcomes, outcome_cmp);
}

int exp_report_write(const exp_report *rep, FILE *f)
{
    char s[256];
    fprintf(f, REPORT_MAGIC "\nschedules %" PRIu64 "\n", rep->schedules);
    for (uint32_t i = 0; i < rep->nfails; i++) {
        exp_schedule_format(&rep->fails[i].sched, s, sizeof s);
        fprintf(f, "fail %u %s %s\n", rep->fails[i].failed, s, rep->fails[i].msg);
    }
    for (uint32_t i = 0; i < rep->noutcomes; i++) {
        exp_schedule_format(&rep->outcomes[i].first, s, sizeof s);
        fprintf(f, "outcome %016" PRIx64 " %" PRIu64 " %s\n", rep->outcomes[i].hash,
                rep->outcomes[i].count, s);
    }
    for (int a = 0; a < EXP_STATES; a++) {
        for (int k = 0; k < EXP_SEG_KIND_COUNT; k++)
            if (rep->seg[a][k])
                fprintf(f, "seg %d %d %u\n", a, k, rep->seg[a][k]);
        for (int b = 0; b < EXP_STATES; b++)
            for (int c = 0; c < EXP_CAUSES; c++)
                if (rep->edge[a][b][c])
                    fprintf(f, "edge %d %d %d %u\n", a, b, c, rep->edge[a][b][c]);
    }
    fprintf(f, "end\n");
    return ferror(f) ? -1 : 0;
}

/* One line of a partial report; 1 at "end", 0 otherwise, -1 if bad. */
static int read_line(void *ctx, char *line, char *err, size_t errlen)
{
    exp_report *rep = ctx;
    unsigned a, b, c, v;
    uint64_t n, h;
    char sched[256];
    int used = 0;
    exp_schedule s;
    line[strcspn(line, "\n")] = 0;
    if (strcmp(line, "end") == 0)
        return 1;
    if (sscanf(line, "schedules %" SCNu64, &n) == 1) {
        rep->schedules += n;
    } else if (sscanf(line, "fail %u %255s %n", &a, sched, &used) == 2 && used &&
               exp_schedule_parse(sched, &s, err, errlen) == 0) {
        add_fail(rep, &s, a, line + used);
    } else if (sscanf(line, "outcome %" SCNx64 " %" SCNu64 " %255s", &h, &n, sched) == 3 &&
               exp_schedule_parse(sched, &s, err, errlen) == 0) {
        add_outcome(rep, h, n, &s);
    } else if (sscanf(line, "seg %u %u %u", &a, &b, &v) == 3 && a < EXP_STATES &&
               b < EXP_SEG_KIND_COUNT) {
        rep->seg[a][b] += v;
    } else if (sscanf(line, "edge %u %u %u %u", &a, &b, &c, &v) == 4 && a < EXP_STATES &&
               b < EXP_STATES && c < EXP_CAUSES) {
        rep->edge[a][b][c] += v;
    } else {
        snprintf(err, errlen, "not a report line: '%.60s'", line);
        return -1;
    }
    return 0;
}

int exp_read_lines(FILE *f, const char *magic, const char *what,
                   int (*line)(void *ctx, char *text, char *err, size_t errlen), void *ctx,
                   char *err, size_t errlen)
{
    char text[1024];
    if (!fgets(text, sizeof text, f) || strncmp(text, magic, strlen(magic)) != 0) {
        snprintf(err, errlen, "not %s report (no '%s' line)", what, magic);
        return -1;
    }
    while (fgets(text, sizeof text, f)) {
        int rc = line(ctx, text, err, errlen);
        if (rc)
            return rc < 0 ? -1 : 0;
    }
    snprintf(err, errlen, "the report is cut short (no 'end' line)");
    return -1;
}

int exp_report_read(exp_report *rep, FILE *f, char *err, size_t errlen)
{
    return exp_read_lines(f, REPORT_MAGIC, "an explore", read_line, rep, err, errlen);
}

void exp_report_coverage_text(const exp_report *rep, FILE *f)
{
    uint32_t pairs = 0, edges = 0;
    fprintf(f, "coverage: (state, segment arriving) pairs, schedules that reached each\n");
    for (int s = 0; s < EXP_STATES; s++) {
        bool any = false;
        for (int k = 0; k < EXP_SEG_KIND_COUNT; k++) {
            if (!rep->seg[s][k])
                continue;
            if (!any)
                fprintf(f, "  %-12s", tcp_state_name((tcp_state)s));
            fprintf(f, " %s:%u", exp_seg_kind_name(k), rep->seg[s][k]);
            any = true;
            pairs++;
        }
        if (any)
            fprintf(f, "\n");
    }
    fprintf(f, "coverage: state-diagram edges (cause), schedules that took each\n");
    for (int a = 0; a < EXP_STATES; a++)
        for (int b = 0; b < EXP_STATES; b++)
            for (int c = 0; c < EXP_CAUSES; c++)
                if (rep->edge[a][b][c]) {
                    fprintf(f, "  %-12s -> %-12s %-8s %u\n", tcp_state_name((tcp_state)a),
                            tcp_state_name((tcp_state)b), tcp_cause_name((tcp_cause)c),
                            rep->edge[a][b][c]);
                    edges++;
                }
    fprintf(f, "coverage: %u of %d (state, segment) pairs, %u edges\n", pairs,
            EXP_STATES * EXP_SEG_KIND_COUNT, edges);
}

void exp_report_coverage_dot(const exp_report *rep, FILE *f)
{
    fprintf(f, "digraph explore {\n  rankdir=TB;\n  node [shape=box];\n");
    for (int a = 0; a < EXP_STATES; a++)
        for (int b = 0; b < EXP_STATES; b++) {
            uint32_t n = 0;
            for (int c = 0; c < EXP_CAUSES; c++)
                n += rep->edge[a][b][c];
            if (n)
                fprintf(f, "  %s -> %s [label=\"%u\", penwidth=%d];\n",
                        tcp_state_name((tcp_state)a), tcp_state_name((tcp_state)b), n,
                        n >= 1000  ? 4
                        : n >= 100 ? 3
                        : n >= 10  ? 2
                                   : 1);
        }
    fprintf(f, "}\n");
}
