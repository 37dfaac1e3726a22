/*
 * sim_mem — a hint to the C library and the kernel about a large heap to come.
 *
 * A simulation of a million hosts allocates gigabytes in small blocks and
 * then reads them in an order no cache or TLB predicts. Told the size in
 * advance, the heap can be grown once and backed by huge pages: far fewer
 * page faults, and far fewer TLB misses (the latter were half the user time
 * of the race at K = 10,000 on a virtual machine; docs/performance.md).
 *
 * Callers may rely on: nothing observable changes but speed and the
 * process's memory layout. Allocation still goes through malloc and free;
 * nothing the simulation computes depends on an address. Where the
 * mechanism is missing (not Linux with glibc, a sanitizer's allocator, huge
 * pages off) the call does nothing or less, never fails.
 */
#ifndef SIM_MEM_H
#define SIM_MEM_H

#include <stddef.h>

/* Grows the heap by about `bytes` now (untouched: no memory is used until
 * written), asks the kernel to back it with transparent huge pages (below
 * 256 MiB only its first half, the part a caller's estimate of its peak
 * surely fills, so that no 2 MiB page is left partly used at the peak:
 * sim_mem.c), and stops the C library from giving freed memory back (a
 * trimmed top would come back in small pages), both for the process's
 * life. Until the reserved room is used up, blocks of every size come from
 * it (sim_mem.c says why). Below 8 MiB it does nothing. Call it before the
 * allocations it is for. The reservation is the process's: a call asking
 * no more than an earlier one does nothing, a larger one reserves only the
 * difference (so simulations made one after another, each announcing its
 * hosts, do not grow the heap each time). The huge-page rule then reads
 * that difference, not `bytes`: its size picks half or whole, and its first
 * half is advised, so a peak above the earlier size but below the mean of
 * the two sizes lies in an advised page, rounded up as when all is
 * advised. */
void sim_mem_reserve(size_t bytes);

#endif
