/*
 * render_int — helpers private to sim/render/: the one growth helper of the
 * library. Out of memory aborts with a message: an output cut short would
 * be a silent lie about the run.
 */
#ifndef RENDER_INT_H
#define RENDER_INT_H

#include <stddef.h>

/* realloc(p, n) that aborts on out-of-memory (n == 0 allocates one byte). */
void *render_alloc(void *p, size_t n);
/* Grows *arr (elements of `size` bytes, capacity *cap) to hold `need`,
 * doubling from 32. */
void render_grow(void **arr, size_t *cap, size_t need, size_t size);

#endif
