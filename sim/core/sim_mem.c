/*
 * sim_mem — the heap reservation (sim_mem.h), on Linux with glibc.
 *
 * glibc grows its main heap with sbrk and pads each growth by M_TOP_PAD.
 * With the pad set large, allocations that do not fit the current top grow
 * the heap by the pad; freed, they leave that space as the top chunk, from
 * which later allocations are cut in address order. The pad is an int, so
 * a reservation past 1 GiB takes several growths, forced by probes just
 * under the mmap threshold (raised to its 32 MiB maximum meanwhile).
 * madvise(MADV_HUGEPAGE) then marks the range, or only its first half
 * below WHOLE_FROM (which says why), so the kernel backs it with 2 MiB
 * pages as it is first touched (transparent huge pages in "madvise" mode,
 * the common default); the 2 MiB around each probe's header, touched before
 * the advice, stay in small pages (one in fifteen). M_TRIM_THRESHOLD -1
 * keeps free() from shrinking the heap back. glibc's own tunable
 * (glibc.malloc.hugetlb=1) asks the same from the environment for the whole
 * heap; here the program asks, as it knows the size.
 *
 * glibc asks for a mapping of its own (mmap) only when the top chunk cannot
 * serve a request, whatever the mmap threshold: while the reserved top has
 * room, blocks of any size come from it, and a growing array's old copies
 * stay in the heap's free lists, not returned (about 1.2 MiB of the race's
 * heap at K = 10,000: docs/performance.md, eleventh round).
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

/* Which part of a reservation is advised for huge pages. A 2 MiB page
 * counts whole in the resident set once any byte of it is touched, and the
 * heap's top at its peak lies inside a page partly used: advised up to
 * there, 0 to 2 MiB more than the heap holds is resident, as the heap's
 * start falls (up to 6 % of the race's peak at K = 10,000). From
 * WHOLE_FROM on, that page is under 1 % of the reservation, and every page
 * left small costs time (the race at K = 100,000: 1.13-1.15 s of user time
 * advised half, 0.81-0.92 whole), so the whole range is advised. Below,
 * only the first half is: the caller's figure is its estimate of its peak,
 * so the heap surely passes half of it (the race, bench/race, reaches two
 * thirds of its reservation at every size), and its top then lies above
 * the advised part, in small pages: nothing is rounded up. Where the use
 * stays under half, one partly used page is the most it costs, as when the
 * whole is advised. */
#define WHOLE_FROM ((size_t)256 << 20)

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
     * glibc's sliding mmap threshold, and nothing turns it on again. Once
     * the reserved top is used up, a block of 128 KiB or more is a mapping
     * of its own again, which free() gives back at once; until then it
     * comes from the top (see above), which is why the race measured the
     * same with the threshold left at 32 MiB (docs/performance.md, ninth
     * round). */
    mallopt(M_TOP_PAD, DEFAULT_PAD);
    mallopt(M_MMAP_THRESHOLD, DEFAULT_PAD);
    if (lo == (char *)-1 || hi == (char *)-1 || hi <= lo)
        return;
    size_t share = bytes >= WHOLE_FROM ? bytes : bytes / 2;
    uintptr_t end = (size_t)(hi - lo) < share ? (uintptr_t)hi : (uintptr_t)lo + share;
    uintptr_t a = ((uintptr_t)lo + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t b = end & ~(HUGE_PAGE - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE); /* a hint: refused is fine */
}

#else

void sim_mem_reserve(size_t bytes)
{
    (void)bytes;
}

#endif
