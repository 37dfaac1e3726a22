/*
 * net_prof — the world's profiles, each distinct one kept once: a host
 * points at its profile instead of holding a copy (a million hosts of one
 * profile keep one). Profiles are compared byte for byte; two equal ones
 * that differ in padding are kept twice, which costs memory, never
 * behaviour. Lookup is O(1) expected (open addressing over a hash of the
 * bytes); a kept profile never moves and is never changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

static uint64_t prof_hash(const tcp_profile *p)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof *p; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Doubles the slot table (at most half full) and places every kept profile. */
static void prof_rehash(net *n)
{
    uint32_t cap = n->profslots ? (n->profmask + 1) * 2 : 8;
    tcp_profile **slots = calloc(cap, sizeof *slots);
    if (!slots) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    for (uint32_t i = 0; n->profslots && i <= n->profmask; i++) {
        tcp_profile *p = n->profslots[i];
        if (!p)
            continue;
        uint32_t j = (uint32_t)prof_hash(p) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = p;
    }
    free(n->profslots);
    n->profslots = slots;
    n->profmask = cap - 1;
}

const tcp_profile *net_profile_keep(net *n, const tcp_profile *p)
{
    if (!n->profslots || (n->nprofs + 1) * 2 > n->profmask + 1)
        prof_rehash(n);
    uint32_t j = (uint32_t)prof_hash(p) & n->profmask;
    for (; n->profslots[j]; j = (j + 1) & n->profmask)
        if (memcmp(n->profslots[j], p, sizeof *p) == 0)
            return n->profslots[j];
    tcp_profile *k = malloc(sizeof *k);
    if (!k) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    memcpy(k, p, sizeof *k);
    n->profslots[j] = k;
    n->nprofs++;
    return k;
}

void net_profiles_free(net *n)
{
    for (uint32_t i = 0; n->profslots && i <= n->profmask; i++)
        free(n->profslots[i]);
    free(n->profslots);
    n->profslots = NULL;
    n->nprofs = n->profmask = 0;
}
