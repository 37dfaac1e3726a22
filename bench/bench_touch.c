/*
 * bench_touch — what the machine charges for the first touch of fresh
 * memory, the cost under every benchmark's system time: maps MIB mebibytes
 * (default 1024) of anonymous memory, writes one byte in each 4 KiB page,
 * and prints the CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID) it
 * took, in seconds a GiB, once in small pages and once advised for
 * transparent huge pages (MADV_HUGEPAGE; the kernel may refuse the advice).
 *
 * On a virtual machine the figure depends on the machine's history, not
 * only on the program: memory the guest has never touched since it booted
 * must also be backed by the host, which can cost ten times what touching
 * memory an earlier process freed costs. Run it twice: the first run pays
 * that backing for the range it gets, the second usually not
 * (docs/performance.md, fifteenth round).
 *
 * Usage: bench_touch [MIB].
 */
#define _DEFAULT_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds of CPU a GiB to touch `bytes` fresh bytes, or -1 if the mapping
 * fails. */
static double touch(size_t bytes, int huge)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (huge)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: refused is fine */
    double t0 = cpu_s();
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    double t = cpu_s() - t0;
    munmap(p, bytes);
    return t / ((double)bytes / (1 << 30));
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 1024;
    if (mib < 1 || mib > (1L << 20)) {
        fprintf(stderr, "usage: bench_touch [MIB], MIB from 1 to 1048576\n");
        return 2;
    }
    size_t bytes = (size_t)mib << 20;
    double small = touch(bytes, 0), huge = touch(bytes, 1);
    if (small < 0 || huge < 0) {
        fprintf(stderr, "bench_touch: cannot map %ld MiB\n", mib);
        return 1;
    }
    printf("first touch of %ld MiB: %.3f s a GiB in 4 KiB pages, %.3f s a GiB advised for huge "
           "pages\n",
           mib, small, huge);
    return 0;
}
