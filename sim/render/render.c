/*
 * render — what the outputs share: the library's one growth helper.
 */
#include <stdio.h>
#include <stdlib.h>

#include "render_int.h"

void *render_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("tcpsim: out of memory writing an output\n", stderr);
        abort();
    }
    return q;
}

void render_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 32;
    while (c < need)
        c *= 2;
    *arr = render_alloc(*arr, c * size);
    *cap = c;
}
