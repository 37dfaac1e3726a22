/*
 * exp_knobs — the knobs of a swarm run (exp_swarm.h): their ranges, read
 * from text; the values one seed draws; their exact text form; applying
 * them to a link's parameters and to a run's fault rates.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_swarm.h"
#include "sim_rng.h"
#include "sim_time.h"

typedef enum unit { PROB, DURATION, BYTES } unit;

static const struct knob_def {
    const char *name;
    unit unit;
    uint64_t lo, hi; /* the default range */
} KNOBS[EXP_KNOB_COUNT] = {
    {"loss", PROB, 0, 100000000},     /* 0..0.1 */
    {"duplicate", PROB, 0, 50000000}, /* 0..0.05 */
    {"reorder", PROB, 0, 100000000},  /* 0..0.1 */
    {"delay", DURATION, SIM_MS, 100 * SIM_MS},
    {"jitter", DURATION, 0, 20 * SIM_MS},
    {"mtu", BYTES, 576, 1500},
    {"fault_drop", PROB, 0, 20000000}, /* 0..0.02 per decision point */
    {"fault_dup", PROB, 0, 20000000},
    {"fault_delay", PROB, 0, 20000000},
    {"fault_reorder", PROB, 0, 20000000},
};

/* The longest delay or jitter a range may reach: beyond it a run is a
 * test of the event limit, not of TCP. */
#define KNOB_DURATION_MAX (10 * SIM_MIN)

const char *exp_knob_name(exp_knob k)
{
    return (unsigned)k < EXP_KNOB_COUNT ? KNOBS[k].name : NULL;
}

int exp_knob_find(const char *name)
{
    char n[32];
    size_t len = strlen(name);
    if (len >= sizeof n)
        return -1;
    for (size_t i = 0; i <= len; i++)
        n[i] = name[i] == '-' ? '_' : name[i];
    for (int k = 0; k < EXP_KNOB_COUNT; k++)
        if (strcmp(KNOBS[k].name, n) == 0)
            return k;
    return -1;
}

void exp_ranges_default(exp_ranges *r)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        r->lo[k] = KNOBS[k].lo;
        r->hi[k] = KNOBS[k].hi;
    }
}

/* One value of knob k from text[0..len). 0, or -1 with a message. */
static int parse_value(exp_knob k, const char *text, size_t len, uint64_t *out, char *err,
                       size_t errlen)
{
    char v[64];
    if (len == 0 || len >= sizeof v) {
        snprintf(err, errlen, "%s: '%.*s' is not a value", KNOBS[k].name, (int)len, text);
        return -1;
    }
    memcpy(v, text, len);
    v[len] = 0;
    if (KNOBS[k].unit == PROB) {
        uint32_t ppb;
        if (sim_prob_parse(v, KNOBS[k].name, &ppb, err, errlen) != 0)
            return -1;
        *out = ppb;
        return 0;
    }
    if (KNOBS[k].unit == DURATION) {
        char derr[160];
        if (strcmp(v, "0") == 0) {
            *out = 0;
        } else if (sim_duration_parse(v, out, derr, sizeof derr) != 0) {
            snprintf(err, errlen, "%s: %s", KNOBS[k].name, derr);
            return -1;
        }
        if (*out > KNOB_DURATION_MAX) {
            snprintf(err, errlen, "%s must be at most 10min, got %s", KNOBS[k].name, v);
            return -1;
        }
        return 0;
    }
    char *end;
    unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (v[0] < '0' || v[0] > '9' || *end || n < 68 || n > SIM_PACKET_MAX) {
        snprintf(err, errlen, "%s must be bytes in [68,%u], got '%s'", KNOBS[k].name,
                 SIM_PACKET_MAX, v);
        return -1;
    }
    *out = n;
    return 0;
}

int exp_ranges_set(exp_ranges *r, exp_knob k, const char *text, char *err, size_t errlen)
{
    r->given |= 1u << k;
    if (strcmp(text, "off") == 0) {
        r->off |= 1u << k;
        return 0;
    }
    const char *dots = strstr(text, "..");
    size_t left = dots ? (size_t)(dots - text) : strlen(text);
    uint64_t lo, hi;
    if (parse_value(k, text, left, &lo, err, errlen) != 0 ||
        parse_value(k, dots ? dots + 2 : text, dots ? strlen(dots + 2) : left, &hi, err, errlen) !=
            0)
        return -1;
    if (hi < lo) {
        snprintf(err, errlen, "%s: the range '%s' ends below its start", KNOBS[k].name, text);
        return -1;
    }
    r->off &= ~(1u << k);
    r->lo[k] = lo;
    r->hi[k] = hi;
    return 0;
}

int exp_ranges_parse(exp_ranges *r, const char *list, char *err, size_t errlen)
{
    while (*list) {
        size_t len = strcspn(list, ",");
        const char *eq = memchr(list, '=', len);
        char name[32], value[128];
        if (!eq || (size_t)(eq - list) >= sizeof name || len - (size_t)(eq - list) > sizeof value) {
            snprintf(err, errlen, "'%.*s' is not NAME=RANGE (e.g. loss=0..0.2)", (int)len, list);
            return -1;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - list), list);
        snprintf(value, sizeof value, "%.*s", (int)(len - (size_t)(eq - list) - 1), eq + 1);
        int k = exp_knob_find(name);
        if (k < 0) {
            snprintf(err, errlen,
                     "unknown knob '%s' (the knobs: loss, duplicate, reorder, delay, jitter, mtu, "
                     "fault_drop, fault_dup, fault_delay, fault_reorder)",
                     name);
            return -1;
        }
        if (exp_ranges_set(r, (exp_knob)k, value, err, errlen) != 0)
            return -1;
        list += len;
        if (*list == ',')
            list++;
    }
    return 0;
}

void exp_ranges_merge(exp_ranges *dst, const exp_ranges *over)
{
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        uint32_t bit = 1u << k;
        if (!(over->given & bit))
            continue;
        dst->given |= bit;
        dst->off = (dst->off & ~bit) | (over->off & bit);
        dst->lo[k] = over->lo[k];
        dst->hi[k] = over->hi[k];
    }
}

/* The exact text of one value in the knob's unit. */
static void format_value(exp_knob k, uint64_t v, char *buf, size_t len)
{
    if (KNOBS[k].unit == BYTES) {
        snprintf(buf, len, "%" PRIu64, v);
    } else if (KNOBS[k].unit == DURATION) {
        if (v == 0)
            snprintf(buf, len, "0");
        else
            sim_duration_format(v, buf, len);
    } else if (v >= SIM_PPB_ONE) {
        snprintf(buf, len, "1");
    } else if (v == 0) {
        snprintf(buf, len, "0");
    } else {
        snprintf(buf, len, "0.%09" PRIu64, v);
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            buf[--n] = 0;
    }
}

void exp_ranges_print(const exp_ranges *r, FILE *f)
{
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        char lo[32], hi[32];
        format_value((exp_knob)k, r->lo[k], lo, sizeof lo);
        format_value((exp_knob)k, r->hi[k], hi, sizeof hi);
        const char *why = (r->given >> k) & 1u ? "every seed" : "default: half the seeds";
        if ((r->off >> k) & 1u)
            fprintf(f, "  %-14s off\n", KNOBS[k].name);
        else
            fprintf(f, "  %-14s %s..%s (%s)\n", KNOBS[k].name, lo, hi, why);
    }
}

uint64_t exp_knob_round(uint64_t v, bool up)
{
    uint64_t p = 1;
    while (v / p >= 100)
        p *= 10;
    uint64_t down = v / p * p;
    return up && down != v ? down + p : down;
}

void exp_knobs_draw(const exp_ranges *r, uint64_t seed, exp_knobs *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        char stream[48];
        sim_rng rng;
        snprintf(stream, sizeof stream, "swarm:%s", KNOBS[k].name);
        sim_rng_seed(&rng, seed, stream);
        bool coin = sim_rng_chance(&rng, SIM_PPB_ONE / 2); /* drawn whatever the range says */
        uint64_t v = exp_knob_round(r->lo[k] + sim_rng_below(&rng, r->hi[k] - r->lo[k] + 1), false);
        if (v < r->lo[k])
            v = r->lo[k];
        if (((r->off >> k) & 1u) || (!((r->given >> k) & 1u) && !coin))
            continue;
        out->on |= 1u << k;
        out->v[k] = v;
    }
}

uint32_t exp_knobs_count(const exp_knobs *k)
{
    uint32_t n = 0;
    for (int i = 0; i < EXP_KNOB_COUNT; i++)
        n += (k->on >> i) & 1u;
    return n;
}

void exp_knobs_format(const exp_knobs *k, char *buf, size_t len)
{
    size_t at = 0;
    snprintf(buf, len, "-");
    for (int i = 0; i < EXP_KNOB_COUNT && at < len; i++) {
        if (!((k->on >> i) & 1u))
            continue;
        char v[32];
        format_value((exp_knob)i, k->v[i], v, sizeof v);
        int w = snprintf(buf + at, len - at, "%s%s=%s", at ? "," : "", KNOBS[i].name, v);
        if (w < 0)
            return;
        at += (size_t)w;
    }
}

int exp_knobs_parse(const char *text, exp_knobs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "-") == 0)
        return 0;
    exp_ranges r;
    exp_ranges_default(&r);
    if (exp_ranges_parse(&r, text, err, errlen) != 0)
        return -1;
    for (int k = 0; k < EXP_KNOB_COUNT; k++) {
        if (!((r.given >> k) & 1u) || ((r.off >> k) & 1u))
            continue;
        if (r.lo[k] != r.hi[k]) {
            snprintf(err, errlen, "%s: a run takes one value, not a range", KNOBS[k].name);
            return -1;
        }
        out->on |= 1u << k;
        out->v[k] = r.lo[k];
    }
    return 0;
}

void exp_knobs_apply_link(const exp_knobs *k, sim_link_params *p)
{
    uint32_t on = k->on;
    if (on & (1u << EXP_KNOB_LOSS))
        p->loss_ppb = (uint32_t)k->v[EXP_KNOB_LOSS];
    if (on & (1u << EXP_KNOB_DUPLICATE))
        p->duplicate_ppb = (uint32_t)k->v[EXP_KNOB_DUPLICATE];
    if (on & (1u << EXP_KNOB_DELAY))
        p->delay_ns = k->v[EXP_KNOB_DELAY];
    if (on & (1u << EXP_KNOB_JITTER))
        p->jitter_ns = k->v[EXP_KNOB_JITTER];
    if (on & (1u << EXP_KNOB_MTU))
        p->mtu = (uint32_t)k->v[EXP_KNOB_MTU];
    if (on & (1u << EXP_KNOB_REORDER))
        p->reorder_ppb = (uint32_t)k->v[EXP_KNOB_REORDER];
    if (p->reorder_ppb > 0 && p->reorder_delay_ns == 0)
        p->reorder_delay_ns = p->delay_ns > SIM_MS ? p->delay_ns : SIM_MS;
}

void exp_knobs_apply_links(const exp_knobs *k, sim_link_params *ab, sim_link_params *ba)
{
    exp_knobs_apply_link(k, ab);
    exp_knobs_apply_link(k, ba);
}

void exp_knobs_apply_run(const exp_knobs *k, exp_run *r)
{
    r->rates = false;
    for (int i = 0; i < EXP_KIND_COUNT; i++) {
        int knob = EXP_KNOB_FAULT_FIRST + i;
        r->rate_ppb[i] = (k->on >> knob) & 1u ? (uint32_t)k->v[knob] : 0;
        r->rates |= r->rate_ppb[i] != 0;
    }
}
