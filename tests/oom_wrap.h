/*
 * oom_wrap.h — a test's allocator that fails on demand. Included by one
 * file of a test program linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: the program's malloc,
 * calloc and realloc then come here. While `armed`, each call is counted
 * in `allocs`; the one numbered `fail_at` (1-based; 0: none) returns NULL,
 * and with `fail_rest` every later one too (memory that stays exhausted).
 * `failed` counts the calls refused. Frees are not wrapped.
 */
#ifndef OOM_WRAP_H
#define OOM_WRAP_H

#include <stdbool.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);

static bool armed;
static unsigned long allocs, fail_at; /* fail_at 0: none fails */
static bool fail_rest;                /* and every one after it fails too */
static unsigned long failed;          /* allocations refused */

static bool fail_now(void)
{
    if (!armed)
        return false;
    ++allocs;
    bool fail = fail_at && (allocs == fail_at || (fail_rest && allocs > fail_at));
    failed += fail;
    return fail;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t k)
{
    return fail_now() ? NULL : __real_calloc(n, k);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

#endif
