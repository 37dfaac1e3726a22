/*
 * sim_mem — the heap reservation (sim_mem.h), on Linux with glibc.
 *
 * glibc grows its main heap with sbrk and pads each growth by M_TOP_PAD.
 * With the pad set large, allocations that do not fit the current top grow
 * the heap by the pad; freed, they leave that space as the top chunk, from
 * which later allocations are cut in address order. The pad is an int, so
 * a reservation past 1 GiB takes several growths, forced by probes just
 * under the mmap threshold (raised to its 32 MiB maximum meanwhile).
 * madvise(MADV_HUGEPAGE) then marks the range so the kernel backs it with
 * 2 MiB pages as it is first touched (transparent huge pages in "madvise"
 * mode, the common default); the 2 MiB around each probe's header, touched
 * before the advice, stay in small pages (one in fifteen). M_TRIM_THRESHOLD
 * -1 keeps free() from shrinking the heap back. glibc's own tunable
 * (glibc.malloc.hugetlb=1) asks the same from the environment; here the
 * program asks, as it knows the size.
 */
#define _DEFAULT_SOURCE

#include "sim_mem.h"

#include <stdint.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE     ((uintptr_t)2 << 20)
#define STEP          (1 << 30)   /* heap growth per sbrk: M_TOP_PAD */
#define PROBE_BYTES   (30u << 20) /* under MAX_THRESHOLD: from the heap */
#define MAX_THRESHOLD (32 << 20)  /* glibc's largest M_MMAP_THRESHOLD */
#define DEFAULT_PAD   (128 << 10) /* glibc's starting values for both */

/* The largest reservation asked for so far. The heap is the process's:
 * a simulation announcing as many hosts as an earlier one (a loop of
 * tcpsim.new{hosts = n}, a schedule explored run after run) finds its
 * room made and must not make it again. Each repeat grew the heap by the
 * whole size, its probes' headers touching 2 MiB pages inside the range an
 * earlier call marked for huge pages, which trimming (off) never gave back:
 * 40 simulations announcing 200,000 hosts held 941 MB and used none. */
static size_t reserved;

void sim_mem_reserve(size_t bytes)
{
    if (bytes <= reserved || bytes - reserved < 4 * HUGE_PAGE)
        return;
    size_t asked = bytes;
    bytes -= reserved; /* only what goes past the earlier reservations */
    reserved = asked;
    mallopt(M_TRIM_THRESHOLD, -1);
    mallopt(M_MMAP_THRESHOLD, MAX_THRESHOLD);
    mallopt(M_TOP_PAD, bytes < STEP ? (int)bytes : STEP);
    /* Probes until the break has moved by `bytes`, chained through their
     * first word; another allocator (a sanitizer's) never moves it, so the
     * count is bounded too. */
    char *lo = sbrk(0);
    void *chain = NULL;
    for (size_t n = 0; n <= bytes / PROBE_BYTES + 1 && (size_t)((char *)sbrk(0) - lo) < bytes;
         n++) {
        void **probe = malloc(PROBE_BYTES);
        if (!probe)
            break;
        *probe = chain;
        chain = probe;
    }
    char *hi = sbrk(0);
    while (chain) {
        void *next = *(void **)chain;
        free(chain);
        chain = next;
    }
    /* Back to glibc's starting values, but fixed for the process's life:
     * setting any of these (M_TRIM_THRESHOLD above already did) turns off
     * glibc's sliding mmap threshold, and nothing turns it on again. So a
     * block of 128 KiB or more stays a mapping of its own, which free()
     * gives back at once: with trimming off, the only memory the process
     * returns (a growing array's old copy, a run's large buffers). Left at
     * 32 MiB, such blocks would come from the reserved heap instead; the
     * race measured the same either way (docs/performance.md, ninth round). */
    mallopt(M_TOP_PAD, DEFAULT_PAD);
    mallopt(M_MMAP_THRESHOLD, DEFAULT_PAD);
    uintptr_t a = ((uintptr_t)lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t b = (uintptr_t)hi & ~(HUGE_PAGE - 1);
    if (lo != (char *)-1 && hi != (char *)-1 && b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE); /* a hint: refused is fine */
}

#else

void sim_mem_reserve(size_t bytes)
{
    (void)bytes;
}

#endif
