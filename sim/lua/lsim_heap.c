/*
 * lsim_heap — how many bytes the process holds on its heap, for the memory
 * budget to cover what the simulator allocates in C (hosts, sockets,
 * buffers, the run log), not only Lua objects.
 *
 * What it promises: lsim_heap_in_use() answers the bytes in use, as the
 * allocator that serves malloc counts them — AddressSanitizer's when the
 * program is built with it, glibc's (mallinfo2: in-use chunks plus mmapped
 * blocks, headers included) otherwise — or 0 where neither is available
 * (the budget then covers Lua objects only). It costs one pass over the
 * allocator's free lists: callers sample it, never call it per allocation.
 */
#include <stddef.h>
#include <stdlib.h> /* defines __GLIBC__ where it applies */

#include "lsim.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ASAN 1
#endif

#if defined(HEAP_ASAN)
/* From the sanitizer runtime (gcc ships no header for it). */
size_t __sanitizer_get_current_allocated_bytes(void);

size_t lsim_heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>

size_t lsim_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#else
size_t lsim_heap_in_use(void)
{
    return 0;
}
#endif
