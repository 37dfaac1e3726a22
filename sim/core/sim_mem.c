/*
 * sim_mem — the heap reservation (sim_mem.h), on Linux with glibc.
 *
 * glibc grows its main heap with sbrk and pads each growth by M_TOP_PAD.
 * With the pad set to the reservation, one small allocation that does not
 * fit the current top grows the heap by the whole reservation; freed, it
 * leaves that space as the top chunk, from which later allocations are cut
 * in address order. madvise(MADV_HUGEPAGE) marks the range so the kernel
 * backs it with 2 MiB pages as it is first touched (transparent huge pages
 * in "madvise" mode, the common default). M_TRIM_THRESHOLD keeps free() from
 * shrinking the heap back. glibc's own tunable (glibc.malloc.hugetlb=1)
 * does the same from the environment; this is the same request made by
 * the program, which knows the size.
 */
#define _DEFAULT_SOURCE

#include "sim_mem.h"

#include <stdint.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE   ((uintptr_t)2 << 20)
#define PROBE_BYTES (60u << 10) /* under the 128 KiB mmap threshold: from the heap */
#define PROBES      64
#define DEFAULT_PAD (128 << 10) /* glibc's M_TOP_PAD default */

void sim_mem_reserve(size_t bytes)
{
    if (bytes < 4 * HUGE_PAGE)
        return;
    int pad = bytes > INT_MAX ? INT_MAX : (int)bytes;
    mallopt(M_TRIM_THRESHOLD, pad);
    mallopt(M_TOP_PAD, pad);
    /* Allocate until the break moves: at most the current top's size in
     * probes; another allocator (a sanitizer's) never moves it. */
    char *lo = sbrk(0);
    void *probe[PROBES];
    int n = 0;
    while (n < PROBES && (char *)sbrk(0) == lo && (probe[n] = malloc(PROBE_BYTES)) != NULL)
        n++;
    char *hi = sbrk(0);
    while (n > 0)
        free(probe[--n]);
    mallopt(M_TOP_PAD, DEFAULT_PAD);
    uintptr_t a = ((uintptr_t)lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t b = (uintptr_t)hi & ~(HUGE_PAGE - 1);
    if (hi != (char *)-1 && b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE); /* a hint: refused is fine */
}

#else

void sim_mem_reserve(size_t bytes)
{
    (void)bytes;
}

#endif
