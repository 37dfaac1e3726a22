/*
 * lsim_heap — how many bytes the process holds on its heap, for the memory
 * budget to cover what the simulator allocates in C (hosts, sockets,
 * buffers, the run log), not only Lua objects.
 *
 * What it promises:
 *  - lsim_heap_in_use() answers the bytes in use. Where it is exact
 *    (lsim_heap_exact()), it costs O(1) and counts every block of the
 *    process, from its first allocation on:
 *      - with glibc, a counting allocator replaces malloc, free, calloc,
 *        realloc and the aligned allocators for the whole process (glibc
 *        routes its own allocations, strdup's or fopen's, through them too);
 *        each forwards to glibc's allocator and adds or takes away the
 *        block's usable size (malloc_usable_size);
 *      - under AddressSanitizer, which owns malloc, its allocation hooks
 *        count the same way (the requested sizes).
 *    Elsewhere it is a sample costing a pass over the allocator's state:
 *    under Valgrind, whose memcheck replaces malloc (the counting allocator
 *    then never runs), mallinfo()'s figure for the heap Valgrind manages;
 *    on another C library, 0 (the budget covers Lua objects only).
 *  - lsim_heap_watch(limit, cap): from then on the first allocation that
 *    takes the count past limit calls `passed` (once per watch), so the run
 *    stops at the next safe point instead of at the next sample; `passed`
 *    runs inside malloc: it may only set flags (and call lua_sethook, which
 *    is safe anywhere). An allocation that would take the count past cap
 *    is not made: `refused` is called instead (once per watch) and must
 *    not return (the code that asked for the block has no way on without
 *    it). Where the counting allocator runs (glibc), the test comes before
 *    the block is made, with an upper bound of its usable size (for
 *    realloc, of its growth), so the count never passes cap; under
 *    AddressSanitizer, whose hooks see a block once it is made, `refused`
 *    is called right after the block that would pass cap is made, before
 *    it is counted.
 *  - While lsim_heap_quiet is on, growth is neither watched nor capped
 *    (the Lua allocator judges Lua's own blocks).
 *  - The process is single-threaded: the counts are plain integers.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* malloc_usable_size, __libc_* */
#endif
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* defines __GLIBC__ where it applies */
#include <unistd.h> /* getpagesize */

#include "lsim.h"

static size_t heap_bytes;            /* bytes in use, as counted */
static size_t heap_limit = SIZE_MAX; /* past it, heap_passed is called */
static void (*heap_passed)(void *);  /* NULL once called */
static void *heap_passed_ud;
static size_t heap_cap = SIZE_MAX;   /* an allocation past it is refused */
static void (*heap_refused)(void *); /* NULL once called */
static volatile bool heap_counting;  /* the counting path has run */
static bool heap_quiet;              /* growth does not call heap_passed */

void lsim_heap_watch(size_t limit, size_t cap, void (*passed)(void *ud), void (*refused)(void *ud),
                     void *ud)
{
    heap_limit = limit;
    heap_cap = cap;
    heap_passed = passed;
    heap_refused = refused;
    heap_passed_ud = ud;
}

bool lsim_heap_quiet(bool on)
{
    bool was = heap_quiet;
    heap_quiet = on;
    return was;
}

void lsim_heap_unwatch(void *ud)
{
    if (heap_passed_ud != ud)
        return;
    heap_limit = SIZE_MAX;
    heap_cap = SIZE_MAX;
    heap_passed = NULL;
    heap_refused = NULL;
    heap_passed_ud = NULL;
}

/* Whether the count may grow by n without passing the cap. */
static inline bool heap_room(size_t n)
{
    return heap_quiet || n <= heap_cap - (heap_bytes < heap_cap ? heap_bytes : heap_cap);
}

/* An allocation past the cap: the watcher ends the run (it does not
 * return); without one, or called again while it ends the run, the
 * allocation fails as the C library's would. */
static inline void *heap_refuse(void)
{
    void (*f)(void *) = heap_refused;
    heap_refused = NULL;
    if (f)
        f(heap_passed_ud);
    errno = ENOMEM;
    return NULL;
}

static inline void heap_grew(size_t n)
{
    heap_bytes += n;
    heap_counting = true;
    if (heap_bytes > heap_limit && heap_passed && !heap_quiet) {
        void (*f)(void *) = heap_passed;
        heap_passed = NULL;
        f(heap_passed_ud);
    }
}

#if defined(LSIM_ASAN)
/* From the sanitizer runtime (gcc ships no header for them). */
size_t __sanitizer_get_allocated_size(const volatile void *p);
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));

/* The hooks come after the block is made: one that passes the cap ends the
 * run before it is counted (a realloc's new block is counted before its
 * old one is freed, so a growing realloc is refused a little early). */
static void asan_malloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    if (!heap_room(n))
        heap_refuse();
    heap_grew(n);
}

static void asan_free_hook(const volatile void *p)
{
    heap_bytes -= __sanitizer_get_allocated_size(p);
}

/* Before main, so nearly every block is counted (frees of the few made
 * earlier are ignored by lsim_heap_in_use's callers: they take
 * differences). */
__attribute__((constructor)) static void asan_hooks_install(void)
{
    __sanitizer_install_malloc_and_free_hooks(asan_malloc_hook, asan_free_hook);
}

bool lsim_heap_exact(void)
{
    return true;
}

size_t lsim_heap_block(const void *p)
{
    return p ? __sanitizer_get_allocated_size(p) : 0;
}

size_t lsim_heap_in_use(void)
{
    return heap_bytes;
}

#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>

/* glibc's allocator under its own names. */
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);

static void *counted(void *p)
{
    if (p)
        heap_grew(malloc_usable_size(p));
    return p;
}

/* a + b, or SIZE_MAX where that would wrap. */
static size_t heap_add(size_t a, size_t b)
{
    return a < SIZE_MAX - b ? a + b : SIZE_MAX;
}

/* The page size, asked once (not at every valloc). */
static size_t heap_page(void)
{
    static size_t page;
    if (!page)
        page = (size_t)getpagesize();
    return page;
}

/* At least the usable size glibc gives a request of n bytes: a chunk
 * rounded up to 16 bytes with 8 of header (at least 24 usable), or, for
 * a block it maps (from 128 KiB on, its smallest mmap threshold), whole
 * pages. Saturates instead of wrapping. */
static size_t heap_bound(size_t n)
{
    return heap_add(n, n < ((size_t)128 << 10) ? 24 : 32 + heap_page());
}

/* Room for n bytes placed at an alignment, which costs at most `pad` more. */
static bool heap_room_padded(size_t n, size_t pad)
{
    return heap_room(heap_bound(heap_add(n, pad)));
}

void *malloc(size_t n)
{
    if (!heap_room(heap_bound(n)))
        return heap_refuse();
    return counted(__libc_malloc(n));
}

void free(void *p)
{
    if (p)
        heap_bytes -= malloc_usable_size(p);
    __libc_free(p);
}

void *calloc(size_t n, size_t size)
{
    /* an overflowing product is glibc's to refuse (ENOMEM) */
    if ((!size || n <= SIZE_MAX / size) && !heap_room(heap_bound(n * size)))
        return heap_refuse();
    return counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0, bound = heap_bound(n);
    if (n && bound > old && !heap_room(bound - old))
        return heap_refuse();
    void *q = __libc_realloc(p, n);
    if (q) {
        heap_bytes -= old;
        heap_grew(malloc_usable_size(q));
    } else if (p && n == 0) { /* glibc frees p and answers NULL */
        heap_bytes -= old;
    }
    return q;
}

void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

void *memalign(size_t align, size_t n)
{
    if (!heap_room_padded(n, align))
        return heap_refuse();
    return counted(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    if (!heap_room_padded(n, align))
        return heap_refuse();
    return counted(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    if (!heap_room_padded(n, align)) {
        heap_refuse();
        return ENOMEM;
    }
    void *p = counted(__libc_memalign(align, n));
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* valloc and pvalloc: page-aligned (pvalloc rounds n up to a page too). */
void *valloc(size_t n)
{
    if (!heap_room_padded(n, 2 * heap_page()))
        return heap_refuse();
    return counted(__libc_valloc(n));
}

void *pvalloc(size_t n)
{
    if (!heap_room_padded(n, 2 * heap_page()))
        return heap_refuse();
    return counted(__libc_pvalloc(n));
}

/* Whether the counting allocator serves malloc: a tool that replaces
 * malloc (Valgrind) bypasses it. Asked with a fresh block, through a
 * pointer the compiler cannot see through. */
bool lsim_heap_exact(void)
{
    static void *(*volatile alloc)(size_t) = malloc;
    static void (*volatile release)(void *) = free;
    if (!heap_counting)
        release(alloc(16));
    return heap_counting;
}

size_t lsim_heap_block(const void *p)
{
    return p && heap_counting ? malloc_usable_size((void *)p) : 0;
}

/* realloc and free as the rest of the program calls them, through
 * pointers the compiler cannot see through: as builtins it would take them
 * for calls that leave heap_bytes alone. */
static void *(*volatile resize_realloc)(void *, size_t) = realloc;
static void (*volatile resize_free)(void *) = free;

/* The count moves by exactly what lsim_heap_block measures of the old and
 * the new block (realloc and free above take the one's usable size off and
 * add the other's; under Valgrind neither runs, and both are 0), so the
 * difference is read from the count instead of asking for both sizes. */
void *lsim_heap_resize_quiet(void *p, size_t n, size_t *held)
{
    bool quiet = heap_quiet;
    heap_quiet = true;
    size_t before = heap_bytes;
    void *q = n ? resize_realloc(p, n) : (resize_free(p), NULL);
    if (q || !n)
        *held += heap_bytes - before;
    heap_quiet = quiet;
    return q;
}
#define HEAP_RESIZE_COUNTED 1

size_t lsim_heap_in_use(void)
{
    if (lsim_heap_exact())
        return heap_bytes;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo mi = mallinfo(); /* Valgrind answers this one, not mallinfo2 */
#pragma GCC diagnostic pop
    return (size_t)(unsigned)mi.uordblks + (size_t)(unsigned)mi.hblkhd;
}

#else
bool lsim_heap_exact(void)
{
    return false;
}

size_t lsim_heap_block(const void *p)
{
    (void)p;
    return 0;
}

size_t lsim_heap_in_use(void)
{
    return 0;
}
#endif

#if !defined(HEAP_RESIZE_COUNTED)
void *lsim_heap_resize_quiet(void *p, size_t n, size_t *held)
{
    bool quiet = lsim_heap_quiet(true);
    size_t before = lsim_heap_block(p);
    void *q = n ? realloc(p, n) : (free(p), NULL);
    if (q || !n)
        *held = *held - before + lsim_heap_block(q);
    lsim_heap_quiet(quiet);
    return q;
}
#endif
