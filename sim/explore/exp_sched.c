/*
 * exp_sched — fault schedules in text ("7:drop,12:dup"), their order, and
 * the names of kinds, invariants and segment kinds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

static const char *const KIND_NAMES[EXP_KIND_COUNT] = {"drop", "dup", "delay", "reorder"};
static const char *const INV_NAMES[EXP_INV_COUNT] = {"stack", "stuck",    "data",
                                                     "limit", "scenario", "planted"};
static const char *const SEG_NAMES[EXP_SEG_KIND_COUNT] = {"SYN", "SYN,ACK", "ACK",  "data",
                                                          "FIN", "RST",     "other"};

const char *exp_kind_name(exp_kind k)
{
    return (unsigned)k < EXP_KIND_COUNT ? KIND_NAMES[k] : "?";
}

const char *exp_inv_name(exp_inv i)
{
    return (unsigned)i < EXP_INV_COUNT ? INV_NAMES[i] : "?";
}

const char *exp_seg_kind_name(int k)
{
    return k >= 0 && k < EXP_SEG_KIND_COUNT ? SEG_NAMES[k] : "?";
}

/* The kind named by text[0..len), or -1. */
static int kind_of(const char *text, size_t len)
{
    for (int k = 0; k < EXP_KIND_COUNT; k++)
        if (strlen(KIND_NAMES[k]) == len && memcmp(KIND_NAMES[k], text, len) == 0)
            return k;
    return -1;
}

int exp_kinds_parse(const char *text, unsigned *mask)
{
    *mask = 0;
    while (*text) {
        size_t len = strcspn(text, ",");
        int k = kind_of(text, len);
        if (k < 0)
            return -1;
        *mask |= 1u << k;
        text += len;
        if (*text == ',')
            text++;
    }
    return *mask ? 0 : -1;
}

/* One "POINT:KIND" item of length len. */
static int parse_item(const char *text, size_t len, exp_fault *f, char *err, size_t errlen)
{
    const char *colon = memchr(text, ':', len);
    if (!colon || colon == text || text[0] < '0' || text[0] > '9') {
        snprintf(err, errlen, "'%.*s' is not POINT:KIND (e.g. 7:drop)", (int)len, text);
        return -1;
    }
    errno = 0;
    char *end;
    unsigned long p = strtoul(text, &end, 10);
    if (errno || end != colon || p == 0 || p > UINT32_MAX) {
        snprintf(err, errlen, "'%.*s': the point must be a number from 1", (int)len, text);
        return -1;
    }
    int k = kind_of(colon + 1, len - (size_t)(colon + 1 - text));
    if (k < 0) {
        snprintf(err, errlen, "'%.*s': the kind must be drop, dup, delay or reorder", (int)len,
                 text);
        return -1;
    }
    f->point = (uint32_t)p;
    f->kind = (uint8_t)k;
    return 0;
}

int exp_schedule_parse(const char *text, exp_schedule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "-") == 0)
        return 0;
    while (*text) {
        size_t len = strcspn(text, ",");
        if (out->n == EXP_FAULTS_MAX) {
            snprintf(err, errlen, "at most %d faults in a schedule", EXP_FAULTS_MAX);
            return -1;
        }
        exp_fault *f = &out->f[out->n];
        if (parse_item(text, len, f, err, errlen) != 0)
            return -1;
        if (out->n && f->point <= out->f[out->n - 1].point) {
            snprintf(err, errlen, "points must increase ('%.*s' after %u)", (int)len, text,
                     (unsigned)out->f[out->n - 1].point);
            return -1;
        }
        out->n++;
        text += len;
        if (*text == ',')
            text++;
    }
    return 0;
}

void exp_schedule_format(const exp_schedule *s, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    if (s->n == 0) {
        snprintf(buf, len, "-");
        return;
    }
    for (uint32_t i = 0; i < s->n && at < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%u:%s", i ? "," : "", (unsigned)s->f[i].point,
                         exp_kind_name((exp_kind)s->f[i].kind));
        if (w < 0)
            return;
        at += (size_t)w;
    }
}

int exp_schedule_cmp(const exp_schedule *a, const exp_schedule *b)
{
    for (uint32_t i = 0; i < a->n && i < b->n; i++) {
        if (a->f[i].point != b->f[i].point)
            return a->f[i].point < b->f[i].point ? -1 : 1;
        if (a->f[i].kind != b->f[i].kind)
            return a->f[i].kind < b->f[i].kind ? -1 : 1;
    }
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
}

uint64_t exp_count_estimate(uint32_t points, uint32_t faults, uint32_t nkinds)
{
    uint64_t total = 0, choose = 1, pow = 1;
    for (uint32_t j = 0; j <= faults && j <= points; j++) {
        if (j) {
            /* C(P, j) = C(P, j-1) * (P - j + 1) / j; saturate past 2^62 */
            if (choose > (UINT64_C(1) << 62) / (points - j + 1))
                return UINT64_MAX;
            choose = choose * (points - j + 1) / j;
            if (pow > (UINT64_C(1) << 62) / (nkinds ? nkinds : 1))
                return UINT64_MAX;
            pow *= nkinds;
        }
        if (choose && pow > UINT64_MAX / choose)
            return UINT64_MAX;
        uint64_t term = choose * pow;
        if (total > UINT64_MAX - term)
            return UINT64_MAX;
        total += term;
    }
    return total;
}
