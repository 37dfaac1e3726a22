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
 *
 * The hash is unkeyed (a key from the seed would not help: the seed is in
 * the scenario), so per-host knobs can be searched for offline whose
 * profiles' home slots all meet, and each host made would walk the whole
 * pile: 12,000 such profiles passed over 116 million slots. So no value
 * sits more than NET_KEEP_MAX_WALK slots past its home: one that would is
 * kept apart, out of the table and unshared (a later equal value is kept
 * apart again), which costs its bytes and changes nothing else, and a
 * lookup stops after that many slots. Honest values never come near it:
 * a world holds a few distinct profiles and a few dozen notes.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
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
uint64_t net_keep_hash(const void *p, size_t len)
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
    if (!p)
        net_oom();
    return p;
}

static net_kept *kept_of(const char *bytes)
{
    return (net_kept *)(void *)(bytes - offsetof(net_kept, bytes));
}

/* Doubles the slot table and places every listed value again, in slot
 * order; one that would now land past the walk's bound is kept apart from
 * then on (it stays in byid, whence it is freed). The table is at most
 * half full counting the values kept apart too. */
static void keep_rehash(net_keep_set *t)
{
    uint32_t cap = t->slots ? (t->mask + 1) * 2 : 8;
    net_kept **slots = keep_alloc(cap * sizeof *slots);
    for (uint32_t i = 0; t->slots && i <= t->mask; i++) {
        net_kept *k = t->slots[i];
        if (!k)
            continue;
        uint32_t j = (uint32_t)net_keep_hash(k->bytes, k->len) & (cap - 1), walked = 0;
        for (; slots[j] && walked <= NET_KEEP_MAX_WALK; walked++)
            j = (j + 1) & (cap - 1);
        t->steps += walked;
        if (walked <= NET_KEEP_MAX_WALK)
            slots[j] = k;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = cap - 1;
    memset(t->hint, 0, sizeof t->hint); /* one may be kept apart from now on */
}

/* The listed value equal to the `len` bytes at p, or NULL; then *empty is
 * the first empty slot from its home, or NET_KEEP_NO_SLOT when the slots
 * that far are all taken. */
#define NET_KEEP_NO_SLOT UINT32_MAX

static net_kept *keep_find(net_keep_set *t, const void *p, size_t len, uint32_t *empty)
{
    uint32_t j = (uint32_t)net_keep_hash(p, len) & t->mask, walked = 0;
    for (; t->slots[j] && walked <= NET_KEEP_MAX_WALK; walked++, j = (j + 1) & t->mask) {
        net_kept *k = t->slots[j];
        if (k->len == len && memcmp(k->bytes, p, len) == 0) {
            t->steps += walked;
            return k;
        }
    }
    t->steps += walked;
    *empty = walked <= NET_KEEP_MAX_WALK ? j : NET_KEEP_NO_SLOT;
    return NULL;
}

/* Whether the next lookup grows the set first (at most half full). */
static bool keep_grows(const net_keep_set *t)
{
    return !t->slots || (t->n + 1) * 2 > t->mask + 1;
}

/* The set's copy of the `len` bytes at p, made on first sight (and kept
 * apart when the slots from its home are full past the bound); *listed
 * says whether the copy is in the slots. */
static const net_kept *keep(net_keep_set *t, const void *p, size_t len, bool *listed)
{
    if (keep_grows(t))
        keep_rehash(t);
    uint32_t empty;
    net_kept *found = keep_find(t, p, len, &empty);
    *listed = true;
    if (found)
        return found;
    net_kept *k = keep_alloc(sizeof *k + len);
    k->len = len;
    k->id = t->n;
    memcpy(k->bytes, p, len);
    if (empty != NET_KEEP_NO_SLOT)
        t->slots[empty] = k;
    else
        *listed = false;
    t->byid = net_grow(t->byid, &t->capbyid, t->n + 1, sizeof *t->byid);
    t->byid[t->n++] = (const char *)k->bytes;
    /* No hint answers while growth is due: the next lookup grows the set
     * first, which may keep a value apart from then on (a new id at each
     * lookup), and a hint must answer as that lookup would. */
    if (keep_grows(t))
        memset(t->hint, 0, sizeof t->hint);
    return k;
}

/* What a caller remembers of the value keep handed back: a listed value,
 * while no growth is due. */
static const net_kept *keep_hint(const net_keep_set *t, const net_kept *k, bool listed)
{
    return listed && !keep_grows(t) ? k : NULL;
}

/* Hosts come in runs of one profile: one equal to the profile last handed
 * back (if it is listed: one kept apart is copied again each time) is
 * that one, without a hash or a walk. */
const tcp_profile *net_keep_profile(net *n, const tcp_profile *p)
{
    net_keep_set *t = &n->profiles;
    if (t->hint[0] && memcmp(t->hint[0]->bytes, p, sizeof *p) == 0)
        return (const tcp_profile *)t->hint[0]->bytes;
    bool listed;
    const net_kept *k = keep(t, p, sizeof *p, &listed);
    t->hint[0] = keep_hint(t, k, listed);
    return (const tcp_profile *)k->bytes;
}

/* Note ids are the set's ids plus one: 0 is "", never kept. A note that
 * fits is kept from its own bytes (its NUL included); a longer one is cut
 * into a copy first. */
static uint32_t keep_note(net *n, const char *note, const net_kept **hint)
{
    if (!note || !note[0])
        return 0;
    /* strncmp stops at the note's end; equal over the kept NUL: the same */
    if (hint && *hint && strncmp((const char *)(*hint)->bytes, note, (*hint)->len) == 0)
        return (uint32_t)(*hint)->id + 1;
    bool listed;
    const net_kept *k;
    size_t len = strnlen(note, NET_NOTE_MAX + 1);
    if (len <= NET_NOTE_MAX) {
        k = keep(&n->notes, note, len + 1, &listed);
    } else {
        char cut[NET_NOTE_MAX + 1];
        memcpy(cut, note, NET_NOTE_MAX);
        cut[NET_NOTE_MAX] = '\0';
        k = keep(&n->notes, cut, sizeof cut, &listed);
    }
    if (hint)
        *hint = keep_hint(&n->notes, k, listed);
    return (uint32_t)k->id + 1;
}

uint32_t net_keep_note(net *n, const char *note)
{
    return keep_note(n, note, NULL);
}

uint32_t net_keep_note_at(net *n, const char *note, uint32_t hint)
{
    return keep_note(n, note, &n->notes.hint[hint % NET_KEEP_HINTS]);
}

const char *net_step_note(const net *n, const net_trace_step *step)
{
    if (step->note == 0 || step->note > n->notes.n)
        return "";
    return n->notes.byid[step->note - 1];
}

/* Every value is in byid, listed or kept apart. */
void net_keep_free(net_keep_set *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(kept_of(t->byid[i]));
    free(t->slots);
    free(t->byid);
    *t = (net_keep_set){0};
}
