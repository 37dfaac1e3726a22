/*
 * test_net_keep — the kept values' tables (net_keep.c) under values chosen
 * to collide. The hash is unkeyed, so anyone can search offline, as these
 * tests do, for profiles (a knob's value changed by a nanosecond at a
 * time) or notes whose home slots at 32,768 slots all lie in one window of
 * 64 (one value in 512 does). Piled into one cluster, each keep would walk
 * all of it: 116 million slots for 12,000 values, growth's included (29
 * million with the bound). Instead no value sits
 * more than NET_KEEP_MAX_WALK slots past its home: one that would is kept
 * apart, unshared, which costs its bytes and changes no behaviour. So each
 * keep walks at most NET_KEEP_MAX_WALK + 1 slots, every value kept is
 * handed back equal to what was asked for, and the table keeps working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"
#include "net_int.h" /* the tables and their hash */

enum { CRAFTED = 12000, CRAFT_SLOTS = 32768, CRAFT_WINDOW = 64 };

static bool crafted(uint64_t hash)
{
    return ((uint32_t)hash & (CRAFT_SLOTS - 1)) < CRAFT_WINDOW;
}

static uint32_t listed(const net_keep_set *t)
{
    uint32_t in = 0;
    for (uint32_t i = 0; t->slots && i <= t->mask; i++)
        in += t->slots[i] != NULL;
    return in;
}

/* Each keep walks at most NET_KEEP_MAX_WALK + 1 slots; growth places each
 * value listed at most twice over all its doublings, each at most that
 * far: 2,049 x 16,224 = 33 million here, where unbounded they walked 116
 * million. */
static void assert_bounded(const net_keep_set *t, uint32_t keeps)
{
    uint32_t in = listed(t);
    assert_true(in > NET_KEEP_MAX_WALK); /* the cluster reached the bound */
    assert_true(in < CRAFTED);           /* and some values were kept apart */
    assert_true(t->steps <= (uint64_t)(NET_KEEP_MAX_WALK + 1) * (keeps + 2 * (uint64_t)in));
}

/* The next profile from *slop on whose hash is crafted: the profile asked
 * for, rto_slop_ns the only field changed. */
static tcp_profile next_crafted_profile(const tcp_profile *base, uint64_t *slop)
{
    tcp_profile p;
    memcpy(&p, base, sizeof p);
    do
        p.rto_slop_ns = (*slop)++;
    while (!crafted(net_keep_hash(&p, sizeof p)));
    return p;
}

static void crafted_profiles_walk_at_most_the_bound(void **state)
{
    (void)state;
    net *n = net_new(1);
    assert_non_null(n);
    const tcp_profile *base = tcp_profile_find("linux");
    assert_non_null(base);
    const tcp_profile **kept = malloc(CRAFTED * sizeof *kept);
    assert_non_null(kept);
    uint64_t slop = 0;
    tcp_profile first = next_crafted_profile(base, &slop), last = first;
    kept[0] = net_keep_profile(n, &first);
    for (uint32_t i = 1; i < CRAFTED; i++) {
        last = next_crafted_profile(base, &slop);
        kept[i] = net_keep_profile(n, &last);
        assert_memory_equal(kept[i], &last, sizeof last);
    }
    assert_bounded(&n->profiles, CRAFTED);
    /* Kept values never move or change. */
    assert_memory_equal(kept[0], &first, sizeof first);
    /* The first is listed and shared; the last, kept apart, is handed
     * back equal, and its walk stops at the bound. */
    assert_ptr_equal(net_keep_profile(n, &first), kept[0]);
    uint64_t before = n->profiles.steps;
    const tcp_profile *again = net_keep_profile(n, &last);
    assert_memory_equal(again, &last, sizeof last);
    assert_true(n->profiles.steps - before <= NET_KEEP_MAX_WALK + 1);
    assert_true(again != kept[CRAFTED - 1]); /* apart: a copy of its own each time */
    /* asked for twice running: still a copy each time (one kept apart is
     * never the profile handed back last) */
    const tcp_profile *twice = net_keep_profile(n, &last);
    assert_memory_equal(twice, &last, sizeof last);
    assert_true(twice != again);
    /* An ordinary profile is still kept once. */
    const tcp_profile *bsd = tcp_profile_find("bsd");
    assert_non_null(bsd);
    const tcp_profile *k = net_keep_profile(n, bsd);
    assert_memory_equal(k, bsd, sizeof *bsd);
    assert_ptr_equal(net_keep_profile(n, bsd), k);
    free(kept);
    net_free(n); /* ASan: every value kept, listed or apart, is freed */
}

/* Notes the same way: each note's id gives its text back. */
static void crafted_notes_walk_at_most_the_bound(void **state)
{
    (void)state;
    net *n = net_new(1);
    assert_non_null(n);
    char note[NET_NOTE_MAX + 1], first[NET_NOTE_MAX + 1] = "";
    uint32_t *ids = malloc(CRAFTED * sizeof *ids), k = 0;
    assert_non_null(ids);
    for (uint32_t i = 0; i < CRAFTED; i++) {
        do
            snprintf(note, sizeof note, "note %u", k++);
        while (!crafted(net_keep_hash(note, strlen(note) + 1)));
        ids[i] = net_keep_note(n, note);
        assert_true(ids[i] != 0);
        net_trace_step step = {.note = ids[i]};
        assert_string_equal(net_step_note(n, &step), note);
        if (i == 0)
            memcpy(first, note, sizeof note);
    }
    assert_bounded(&n->notes, CRAFTED);
    assert_int_equal(net_keep_note(n, first), ids[0]); /* listed: the same id */
    uint32_t again = net_keep_note(n, note);           /* the last: kept apart, */
    assert_true(again != ids[CRAFTED - 1]);            /* a new id each time, */
    uint32_t hinted = net_keep_note_at(n, note, 7);    /* under a hint too: */
    assert_true(hinted != again && hinted != ids[CRAFTED - 1]);
    assert_true(net_keep_note_at(n, note, 7) != hinted); /* never handed back */
    net_trace_step step = {.note = again};               /* and its text the same */
    assert_string_equal(net_step_note(n, &step), note);
    assert_int_equal(net_keep_note(n, "an ordinary note"), net_keep_note(n, "an ordinary note"));
    /* A longer note is cut at NET_NOTE_MAX bytes: the same id as its cut. */
    char cut[NET_NOTE_MAX + 1];
    const char *longer = "0123456789abcdefghijklmnopqrstuvwxyz";
    memcpy(cut, longer, NET_NOTE_MAX);
    cut[NET_NOTE_MAX] = '\0';
    uint32_t lid = net_keep_note(n, longer);
    assert_int_equal(net_keep_note(n, cut), lid);
    step = (net_trace_step){.note = lid};
    assert_string_equal(net_step_note(n, &step), cut);
    assert_int_equal(net_keep_note(n, ""), 0);
    assert_int_equal(net_keep_note(n, NULL), 0);
    free(ids);
    net_free(n);
}

/* A note kept under a hint has the id net_keep_note gives it, whichever
 * notes share the hint, however they alternate, through the set's growth
 * (which forgets the hints); a longer note is its cut under a hint too. */
static void hinted_notes_have_their_ids(void **state)
{
    (void)state;
    net *n = net_new(1);
    assert_non_null(n);
    char note[NET_NOTE_MAX + 1];
    for (uint32_t i = 0; i < 500; i++) {
        snprintf(note, sizeof note, "note %u", i % 37);
        uint32_t hint = i % 5, id = net_keep_note_at(n, note, hint);
        assert_int_equal(id, net_keep_note(n, note));
        assert_int_equal(net_keep_note_at(n, note, hint), id);
        snprintf(note, sizeof note, "grow %u", i); /* a new note each round */
        assert_int_equal(net_keep_note_at(n, note, hint + 1), net_keep_note(n, note));
        net_trace_step step = {.note = id};
        snprintf(note, sizeof note, "note %u", i % 37);
        assert_string_equal(net_step_note(n, &step), note);
    }
    const char *longer = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint32_t cut = net_keep_note_at(n, longer, 9);
    assert_int_equal(net_keep_note_at(n, longer, 9), cut);
    char prefix[NET_NOTE_MAX + 1];
    memcpy(prefix, longer, NET_NOTE_MAX);
    prefix[NET_NOTE_MAX] = '\0';
    assert_int_equal(net_keep_note_at(n, prefix, 9), cut);
    prefix[NET_NOTE_MAX - 1] = '\0'; /* one shorter: another note */
    assert_true(net_keep_note_at(n, prefix, 9) != cut);
    assert_int_equal(net_keep_note_at(n, "", 9), 0);
    assert_int_equal(net_keep_note_at(n, NULL, 9), 0);
    net_free(n);
}

/* Hosts in runs and alternating between two profiles: each profile is
 * kept once and handed back the same, whatever the order. */
static void profiles_in_runs_are_kept_once(void **state)
{
    (void)state;
    net *n = net_new(1);
    assert_non_null(n);
    const tcp_profile *a = tcp_profile_find("linux"), *b = tcp_profile_find("bsd");
    assert_non_null(a);
    assert_non_null(b);
    const tcp_profile *ka = net_keep_profile(n, a), *kb = net_keep_profile(n, b);
    assert_ptr_not_equal(ka, kb);
    for (uint32_t i = 0; i < 64; i++) {
        bool first = (i / 8) % 2 == 0 || i % 3 == 0;
        assert_ptr_equal(net_keep_profile(n, first ? a : b), first ? ka : kb);
    }
    assert_memory_equal(ka, a, sizeof *a);
    assert_memory_equal(kb, b, sizeof *b);
    assert_int_equal(n->profiles.n, 2);
    net_free(n);
}

/* A value found through a hint leaves the set as a lookup would: the
 * growth a lookup makes before it looks (the set at most half full) is made
 * then too, not put off to the next value looked up. Growth may keep a
 * value apart from then on, and one kept apart is copied with a new id on
 * each lookup: a hint that answered past a due growth kept its old id. */
static void a_hint_grows_the_set_as_a_lookup_does(void **state)
{
    (void)state;
    net *a = net_new(1), *b = net_new(1);
    assert_non_null(a);
    assert_non_null(b);
    char note[NET_NOTE_MAX + 1];
    for (uint32_t i = 0; i < 40; i++) {
        snprintf(note, sizeof note, "note %u", i);
        for (uint32_t twice = 0; twice < 2; twice++) {
            assert_int_equal(net_keep_note_at(a, note, 3), net_keep_note(b, note));
            assert_int_equal(a->notes.mask, b->notes.mask);
            assert_int_equal(a->notes.n, b->notes.n);
        }
    }
    const tcp_profile *base = tcp_profile_find("linux");
    assert_non_null(base);
    for (uint32_t i = 0; i < 40; i++) {
        tcp_profile p;
        memcpy(&p, base, sizeof p);
        p.rto_slop_ns += i;
        for (uint32_t twice = 0; twice < 2; twice++) {
            /* b's profiles through a's hint-free twin: a lookup each time */
            const tcp_profile *ka = net_keep_profile(a, &p);
            b->profiles.hint[0] = NULL;
            const tcp_profile *kb = net_keep_profile(b, &p);
            assert_memory_equal(ka, kb, sizeof p);
            assert_int_equal(a->profiles.mask, b->profiles.mask);
            assert_int_equal(a->profiles.n, b->profiles.n);
        }
    }
    net_free(a);
    net_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crafted_profiles_walk_at_most_the_bound),
        cmocka_unit_test(crafted_notes_walk_at_most_the_bound),
        cmocka_unit_test(profiles_in_runs_are_kept_once),
        cmocka_unit_test(hinted_notes_have_their_ids),
        cmocka_unit_test(a_hint_grows_the_set_as_a_lookup_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
