/*
 * net_keep — what a world keeps once however many use it: the hosts'
 * profiles (a host points at its profile instead of holding a copy: a
 * million hosts of one profile keep one) and the notes of the socket
 * records' state steps (a step names its note by a 32-bit id: ids are
 * handed out in order of first sight, so they are deterministic). A kept value never
 * moves and is never changed until net_free. Values are compared byte for
 * byte; two equal profiles that differ only in padding are kept twice,
 * which costs memory, never behaviour. O(1) expected per lookup (open
 * addressing over an FNV-1a hash of the bytes' words, at most half full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

/* A kept value: its length, then its bytes (a note also its NUL). */
typedef struct net_kept {
    size_t len;
    size_t id; /* the set's count when it was first seen; a size_t, so the
                  bytes keep the 8-byte alignment a kept profile needs */
    unsigned char bytes[];
} net_kept;

/* FNV-1a over 8-byte words, not bytes (a profile is some hundred bytes and
 * every host made hashes one), then a final mix: the slot is taken from the
 * low bits, which a word-wise FNV product alone leaves poorly spread. */
static uint64_t keep_hash(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, sizeof w);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void *keep_alloc(size_t size)
{
    void *p = calloc(1, size);
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    return p;
}

/* Doubles the slot table and places every kept value again. */
static void keep_rehash(net_keep_set *t)
{
    uint32_t cap = t->slots ? (t->mask + 1) * 2 : 8;
    net_kept **slots = keep_alloc(cap * sizeof *slots);
    for (uint32_t i = 0; t->slots && i <= t->mask; i++) {
        net_kept *k = t->slots[i];
        if (!k)
            continue;
        uint32_t j = (uint32_t)keep_hash(k->bytes, k->len) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = cap - 1;
}

/* The set's copy of the `len` bytes at p, made on first sight. */
static const net_kept *keep(net_keep_set *t, const void *p, size_t len)
{
    if (!t->slots || (t->n + 1) * 2 > t->mask + 1)
        keep_rehash(t);
    uint32_t j = (uint32_t)keep_hash(p, len) & t->mask;
    for (; t->slots[j]; j = (j + 1) & t->mask)
        if (t->slots[j]->len == len && memcmp(t->slots[j]->bytes, p, len) == 0)
            return t->slots[j];
    net_kept *k = keep_alloc(sizeof *k + len);
    k->len = len;
    k->id = t->n;
    memcpy(k->bytes, p, len);
    t->slots[j] = k;
    t->byid = net_grow(t->byid, &t->capbyid, t->n + 1, sizeof *t->byid);
    t->byid[t->n++] = (const char *)k->bytes;
    return k;
}

const tcp_profile *net_keep_profile(net *n, const tcp_profile *p)
{
    return (const tcp_profile *)keep(&n->profiles, p, sizeof *p)->bytes;
}

/* Note ids are the set's ids plus one: 0 is "", never kept. */
uint32_t net_keep_note(net *n, const char *note)
{
    char cut[NET_NOTE_MAX + 1];
    size_t len = 0;
    while (note && len < NET_NOTE_MAX && note[len])
        len++;
    if (len == 0)
        return 0;
    memcpy(cut, note, len);
    cut[len] = '\0';
    return (uint32_t)keep(&n->notes, cut, len + 1)->id + 1;
}

const char *net_step_note(const net *n, const net_trace_step *step)
{
    if (step->note == 0 || step->note > n->notes.n)
        return "";
    return n->notes.byid[step->note - 1];
}

void net_keep_free(net_keep_set *t)
{
    for (uint32_t i = 0; t->slots && i <= t->mask; i++)
        free(t->slots[i]);
    free(t->slots);
    free(t->byid);
    *t = (net_keep_set){0};
}
