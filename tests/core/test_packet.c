/*
 * test_packet — the contract of sim_packet.h: packets come from the world's
 * pool with increasing ids, clones keep their origin, sizes are bounded,
 * the in-use count returns to zero, and the IPv4 addresses are read from
 * bytes 12..19. A packet with lent bytes reads them where they are, gives
 * them back exactly once (freed, made writable, or with its world), and
 * never writes them. A split packet holds its head and reads its tail
 * where it lies: readers see the whole datagram through sim_flat_bytes and
 * sim_packet_copy_out, a clone stays split, sim_packet_writable copies
 * every byte, and its slot is a head's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim_packet.h"
#include "sim_world.h"

static int setup(void **state)
{
    sim_world *w = sim_world_new(1);
    assert_non_null(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    sim_world *w = *state;
    assert_int_equal(sim_packets_in_use(w), 0);
    sim_world_free(w);
    return 0;
}

static void test_new_and_free_count_in_use(void **state)
{
    sim_world *w = *state;
    sim_packet *a = sim_packet_new(w, 40);
    sim_packet *b = sim_packet_new(w, 1500);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(sim_packets_in_use(w), 2);
    assert_int_equal(a->len, 40);
    assert_true(a->cap >= 40);
    assert_int_equal(b->len, 1500);
    assert_true(b->cap >= 1500);
    memset(a->data, 0xaa, a->len);
    memset(b->data, 0xbb, b->len);
    sim_packet_free(w, a);
    assert_int_equal(sim_packets_in_use(w), 1);
    sim_packet_free(w, b);
}

static void test_ids_increase_and_clones_keep_origin(void **state)
{
    sim_world *w = *state;
    sim_packet *a = sim_packet_new(w, 10);
    sim_packet *b = sim_packet_new(w, 10);
    assert_true(a->id >= 1);
    assert_int_equal(b->id, a->id + 1);
    assert_int_equal(a->origin_id, a->id);
    memcpy(a->data, "0123456789", 10);
    sim_packet *c = sim_packet_clone(w, a);
    sim_packet *cc = sim_packet_clone(w, c);
    assert_int_equal(c->id, b->id + 1);
    assert_int_equal(c->origin_id, a->id);
    assert_int_equal(cc->origin_id, a->id);
    assert_int_equal(c->len, 10);
    assert_memory_equal(c->data, "0123456789", 10);
    assert_ptr_not_equal(c->data, a->data);
    sim_packet_free(w, a);
    /* Ids are never reused, even when memory is. */
    sim_packet *d = sim_packet_new(w, 10);
    assert_int_equal(d->id, cc->id + 1);
    sim_packet_free(w, b);
    sim_packet_free(w, c);
    sim_packet_free(w, cc);
    sim_packet_free(w, d);
}

static void test_every_size_class(void **state)
{
    sim_world *w = *state;
    const size_t sizes[] = {0, 1, 128, 129, 2048, 2049, 9000, SIM_PACKET_MAX};
    sim_packet *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = sim_packet_new(w, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal(p[i]->len, sizes[i]);
        assert_true(p[i]->cap >= sizes[i]);
        memset(p[i]->data, (int)i, sizes[i]); /* ASan checks the bounds */
    }
    sim_packet *big = sim_packet_clone(w, p[7]);
    assert_memory_equal(big->data, p[7]->data, SIM_PACKET_MAX);
    sim_packet_free(w, big);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        sim_packet_free(w, p[i]);
}

/* Pooled packets (up to 2,048 bytes) take the smallest 64-byte multiple
 * that holds them: a 1,052-byte datagram costs 1,088 bytes of data, not
 * 2,048. Two packets of a size side by side each own all of their cap:
 * filling both leaves each intact. */
static void test_slots_fit_within_64_bytes(void **state)
{
    sim_world *w = *state;
    static uint8_t want_a[2100];
    memset(want_a, 0x5a, sizeof want_a);
    for (size_t len = 0; len <= 2100; len++) {
        sim_packet *a = sim_packet_new(w, len), *b = sim_packet_new(w, len);
        assert_non_null(a);
        assert_non_null(b);
        size_t want = len > 2048 ? len : len == 0 ? 64 : (len + 63) / 64 * 64;
        assert_int_equal(a->cap, want);
        assert_int_equal(b->cap, want);
        memset(a->data, 0x5a, a->cap);
        memset(b->data, 0xa5, b->cap);
        assert_memory_equal(a->data, want_a, a->cap);
        assert_int_equal(b->len, len);
        assert_int_equal(b->cap, want);
        sim_packet_free(w, a);
        sim_packet_free(w, b);
    }
}

static void test_too_large_is_refused(void **state)
{
    sim_world *w = *state;
    assert_null(sim_packet_new(w, SIM_PACKET_MAX + 1));
    assert_non_null(strstr(sim_world_error(w), "65536 bytes"));
    assert_int_equal(sim_packets_in_use(w), 0);
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (sim_packet *const *)a, y = (uintptr_t) * (sim_packet *const *)b;
    return (x > y) - (x < y);
}

static void test_pool_reuses_memory_without_growing(void **state)
{
    sim_world *w = *state;
    enum { N = 1000 };
    static sim_packet *first[N], *p[N];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++)
            p[i] = sim_packet_new(w, (size_t)(i % 3 == 0 ? 1500 : 40));
        assert_int_equal(sim_packets_in_use(w), N);
        qsort(p, N, sizeof p[0], by_address);
        if (round == 0)
            memcpy(first, p, sizeof p);
        else /* the same packet memory, handed out again */
            assert_memory_equal(first, p, sizeof p);
        for (int i = 0; i < N; i++)
            sim_packet_free(w, p[i]);
        assert_int_equal(sim_packets_in_use(w), 0);
    }
}

static void test_addresses(void **state)
{
    sim_world *w = *state;
    sim_packet *p = sim_packet_new(w, 20);
    memset(p->data, 0, 20);
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {192, 168, 1, 254};
    memcpy(p->data + 12, src, 4);
    memcpy(p->data + 16, dst, 4);
    assert_int_equal(sim_packet_src(p), 0x0a000001u);
    assert_int_equal(sim_packet_dst(p), 0xc0a801feu);
    sim_packet *shortp = sim_packet_new(w, 19);
    memset(shortp->data, 0xff, 19);
    assert_int_equal(sim_packet_src(shortp), 0);
    assert_int_equal(sim_packet_dst(shortp), 0);
    sim_packet_free(w, p);
    sim_packet_free(w, shortp);
}

static void test_world_free_releases_owned_packets(void **state)
{
    (void)state;
    /* Packets still owned by a caller when the world goes are freed with
     * it (ASan reports a leak otherwise). */
    sim_world *w = sim_world_new(2);
    for (int i = 0; i < 300; i++)
        assert_non_null(sim_packet_new(w, (size_t)(i * 250) % 70000 % (SIM_PACKET_MAX + 1)));
    assert_int_equal(sim_packets_in_use(w), 300);
    sim_world_free(w);
}

/* A lender: bytes and how often each of its packets gave them back. */
typedef struct lender {
    uint8_t bytes[1500];
    int released;
} lender;

static void lender_release(void *owner)
{
    ((lender *)owner)->released++;
}

static void test_lent_bytes_are_read_in_place_and_released_once(void **state)
{
    sim_world *w = *state;
    lender l = {0};
    for (size_t i = 0; i < sizeof l.bytes; i++)
        l.bytes[i] = (uint8_t)(i * 13u + 1u);
    sim_packet *first = sim_packet_new(w, 1);
    uint32_t before = first->id; /* ids go on counting across lent packets */
    sim_packet *p = sim_packet_new_lent(w, l.bytes, sizeof l.bytes, lender_release, &l);
    assert_non_null(p);
    assert_int_equal(p->id, before + 1);
    assert_int_equal(p->origin_id, p->id);
    assert_int_equal(p->len, sizeof l.bytes);
    assert_ptr_equal(p->data, l.bytes);
    assert_int_equal(sim_packets_in_use(w), 2);
    /* A clone is a copy: its own bytes, nothing more to release. */
    sim_packet *c = sim_packet_clone(w, p);
    assert_non_null(c);
    assert_ptr_not_equal(c->data, l.bytes);
    assert_memory_equal(c->data, l.bytes, sizeof l.bytes);
    assert_int_equal(c->origin_id, p->id);
    sim_packet_free(w, c);
    assert_int_equal(l.released, 0);
    sim_packet_free(w, p);
    assert_int_equal(l.released, 1);
    /* The header slot goes back to the pool with its own data area: a
     * packet taking it next writes there, not into the lender's bytes. */
    sim_packet *q = sim_packet_new(w, 10);
    assert_true(q->data < l.bytes || q->data >= l.bytes + sizeof l.bytes);
    memset(q->data, 0xee, q->len);
    assert_int_equal(l.bytes[0], 1);
    sim_packet_free(w, q);
    sim_packet_free(w, first);
}

/* A lent packet keeps its lender's callback and owner in its slot's own
 * data area; freed, the slot goes to the next small packet, whose unwritten
 * bytes must not hold them (sim_packet.h: never stray heap contents). */
static void test_a_freed_lent_slot_keeps_no_callback(void **state)
{
    sim_world *w = *state;
    lender l = {0};
    sim_packet *p = sim_packet_new_lent(w, l.bytes, 100, lender_release, &l);
    assert_non_null(p);
    uint8_t *area = (uint8_t *)(p + 1);
    sim_packet_free(w, p);
    assert_int_equal(l.released, 1);
    sim_packet *q = sim_packet_new(w, 1);
    assert_ptr_equal(q->data, area); /* the same slot, taken back from the pool */
    static const uint8_t zero[sizeof(void *) * 2];
    assert_memory_equal(q->data, zero, sizeof zero);
    sim_packet_free(w, q);
}

static void test_writable_copies_lent_bytes_keeping_the_id(void **state)
{
    sim_world *w = *state;
    lender l = {0};
    memset(l.bytes, 0x5a, sizeof l.bytes);
    sim_packet *p = sim_packet_new_lent(w, l.bytes, 100, lender_release, &l);
    assert_non_null(p);
    sim_packet *mark = sim_packet_new(w, 1);
    uint32_t id = p->id, next = mark->id;
    sim_packet *own = sim_packet_writable(w, p);
    assert_non_null(own);
    assert_int_equal(l.released, 1);
    assert_int_equal(own->id, id);
    assert_int_equal(own->origin_id, id);
    assert_int_equal(own->len, 100);
    assert_ptr_not_equal(own->data, l.bytes);
    assert_memory_equal(own->data, l.bytes, 100);
    own->data[0] ^= 0x80; /* the lender's bytes do not change */
    assert_int_equal(l.bytes[0], 0x5a);
    assert_ptr_equal(sim_packet_writable(w, own), own); /* already its own */
    sim_packet *after = sim_packet_new(w, 1);
    assert_int_equal(after->id, next + 1); /* no id was spent */
    sim_packet_free(w, own);
    assert_int_equal(l.released, 1);
    sim_packet_free(w, mark);
    sim_packet_free(w, after);
}

static void test_world_free_releases_lent_packets(void **state)
{
    (void)state;
    sim_world *w = sim_world_new(3);
    lender l = {0};
    for (int i = 0; i < 700; i++) { /* more than one chunk of header slots */
        sim_packet *p = sim_packet_new_lent(w, l.bytes, 1000, lender_release, &l);
        assert_non_null(p);
        if (i % 3 == 0)
            sim_packet_free(w, p);
        assert_non_null(sim_packet_new(w, 20)); /* ACK-sized, sharing the class */
    }
    assert_int_equal(l.released, 234);
    sim_world_free(w);
    assert_int_equal(l.released, 700);
}

static void test_a_failed_lent_packet_releases_at_once(void **state)
{
    sim_world *w = *state;
    lender l = {0};
    assert_null(sim_packet_new_lent(w, l.bytes, SIM_PACKET_MAX + 1u, lender_release, &l));
    assert_int_equal(l.released, 1);
}

/* ---- Split packets ---- */

/* A 52-byte head and a 1,000-byte tail: the tail is not copied. */
static uint8_t tail_bytes[1000];

static sim_packet *split_packet(sim_world *w, uint8_t *whole)
{
    for (size_t i = 0; i < sizeof tail_bytes; i++)
        tail_bytes[i] = (uint8_t)('a' + i % 26);
    uint8_t head[52];
    for (size_t i = 0; i < sizeof head; i++)
        head[i] = (uint8_t)(200 + i);
    memcpy(whole, head, sizeof head);
    memcpy(whole + sizeof head, tail_bytes, sizeof tail_bytes);
    sim_packet *p = sim_packet_new_split(w, head, sizeof head, tail_bytes, sizeof tail_bytes);
    assert_non_null(p);
    return p;
}

static void test_split_reads_its_tail_in_place(void **state)
{
    sim_world *w = *state;
    uint8_t whole[1052], got[1052];
    sim_packet *p = split_packet(w, whole);
    assert_int_equal(p->len, 1052);
    assert_int_equal(sim_packet_head_len(p), 52);
    assert_memory_equal(p->data, whole, 52);
    sim_packet_copy_out(p, 0, got, sizeof got);
    assert_memory_equal(got, whole, sizeof whole);
    sim_packet_copy_out(p, 50, got, 10); /* across the head's end */
    assert_memory_equal(got, whole + 50, 10);
    sim_packet_copy_out(p, 1000, got, 52); /* the tail only */
    assert_memory_equal(got, whole + 1000, 52);
    sim_flat f = {0};
    const uint8_t *flat = sim_flat_bytes(&f, p);
    assert_non_null(flat);
    assert_ptr_equal(flat, f.buf);
    assert_memory_equal(flat, whole, sizeof whole);
    size_t cap = f.cap;
    sim_packet *q = sim_packet_new(w, 60); /* an ordinary packet is shown in place */
    assert_ptr_equal(sim_flat_bytes(&f, q), q->data);
    assert_ptr_equal(sim_flat_bytes(&f, p), f.buf); /* the buffer is reused */
    assert_int_equal(f.cap, cap);
    sim_flat_free(&f);
    assert_null(f.buf);
    sim_packet_free(w, q);
    sim_packet_free(w, p);
}

static void test_split_clone_and_writable(void **state)
{
    sim_world *w = *state;
    uint8_t whole[1052], got[1052];
    sim_packet *p = split_packet(w, whole);
    sim_packet *c = sim_packet_clone(w, p);
    assert_non_null(c);
    assert_int_not_equal(c->id, p->id);
    assert_int_equal(c->origin_id, p->origin_id);
    assert_int_equal(sim_packet_head_len(c), 52); /* split too: its own head, the same tail */
    assert_ptr_not_equal(c->data, p->data);
    sim_packet_copy_out(c, 0, got, sizeof got);
    assert_memory_equal(got, whole, sizeof whole);
    uint32_t id = p->id;
    sim_packet *own = sim_packet_writable(w, p);
    assert_non_null(own);
    assert_int_equal(own->id, id);
    assert_int_equal(sim_packet_head_len(own), own->len);
    assert_memory_equal(own->data, whole, sizeof whole);
    own->data[1051] ^= 0xff; /* its own bytes: the tail's owner sees no change */
    assert_int_equal(tail_bytes[999], whole[1051]);
    assert_ptr_equal(sim_packet_writable(w, own), own);
    assert_int_equal(sim_packets_in_use(w), 2);
    sim_packet_free(w, own);
    sim_packet_free(w, c);
}

/* A split packet of a 52-byte head takes a slot of its head's class, and
 * the slot goes back to that class's free list: the next ordinary packet
 * of the class is handed the same memory, whole (no head offset, not
 * split). */
static void test_split_slot_is_a_heads_and_is_reused(void **state)
{
    sim_world *w = *state;
    uint8_t whole[1052];
    sim_packet *p = split_packet(w, whole);
    sim_packet *same = p;
    assert_true(p->cap <= 128);
    sim_packet_free(w, p);
    sim_packet *q = sim_packet_new(w, 100);
    assert_ptr_equal(q, same);
    assert_int_equal(sim_packet_head_len(q), 100);
    assert_ptr_equal(q->data, (uint8_t *)(q + 1));
    sim_packet_free(w, q);
}

/* Addresses split between head and tail are read across; a tail of 0
 * bytes makes an ordinary packet; a split datagram past 65,535 bytes is
 * refused. */
static void test_split_addresses_and_bounds(void **state)
{
    sim_world *w = *state;
    uint8_t d[20];
    memset(d, 0, sizeof d);
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {192, 168, 1, 254};
    memcpy(d + 12, src, 4);
    memcpy(d + 16, dst, 4);
    sim_packet *p = sim_packet_new_split(w, d, 14, d + 14, 6);
    assert_non_null(p);
    assert_int_equal(sim_packet_src(p), 0x0a000001u);
    assert_int_equal(sim_packet_dst(p), 0xc0a801feu);
    sim_packet *whole = sim_packet_new_split(w, d, 20, NULL, 0);
    assert_non_null(whole);
    assert_int_equal(sim_packet_head_len(whole), 20);
    assert_memory_equal(whole->data, d, 20);
    assert_null(sim_packet_new_split(w, d, 20, tail_bytes, SIM_PACKET_MAX));
    assert_int_equal(sim_packets_in_use(w), 2);
    sim_packet_free(w, p);
    sim_packet_free(w, whole);
}

/* Hostile lengths: a head and tail whose sum wraps size_t are refused and
 * fail the world (NULL always means a failed world); a split packet with
 * no head at all (head NULL, hlen 0) reads every byte from its tail. */
static void test_split_hostile_lengths(void **state)
{
    sim_world *w = *state;
    uint8_t d[20] = {0};
    assert_null(sim_packet_new_split(w, d, 20, tail_bytes, SIZE_MAX - 9)); /* sum: 10 */
    assert_non_null(strstr(sim_world_error(w), "exceeds the largest datagram"));
    assert_int_equal(sim_packets_in_use(w), 0);

    sim_world *v = sim_world_new(6);
    sim_packet *p = sim_packet_new_split(v, NULL, 0, tail_bytes, 40);
    assert_non_null(p);
    assert_int_equal(sim_packet_head_len(p), 0);
    uint8_t got[40];
    sim_packet_copy_out(p, 0, got, sizeof got);
    assert_memory_equal(got, tail_bytes, sizeof got);
    const uint8_t *a = tail_bytes + 12;
    assert_int_equal(sim_packet_src(p),
                     (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]);
    sim_packet_free(v, p);
    assert_string_equal(sim_world_error(v), "");
    sim_world_free(v);
}

/* Packets still split when the world goes are freed with it, their tails
 * untouched (ASan: nothing leaked, nothing read). */
static void test_world_free_frees_split_packets(void **state)
{
    (void)state;
    sim_world *w = sim_world_new(3);
    uint8_t whole[1052];
    for (int i = 0; i < 100; i++)
        split_packet(w, whole);
    assert_int_equal(sim_packets_in_use(w), 100);
    sim_world_free(w);
    assert_int_equal(tail_bytes[0], 'a');
}

/* The trace sink sees a split packet's whole datagram. */
typedef struct seen {
    uint8_t bytes[1100];
    size_t len;
    uint32_t id;
} seen;

static void sink(void *ctx, const sim_trace_rec *rec)
{
    seen *s = ctx;
    assert_true(rec->len <= sizeof s->bytes);
    memcpy(s->bytes, rec->bytes, rec->len);
    s->len = rec->len;
    s->id = rec->packet_id;
}

static void test_trace_shows_the_whole_split_datagram(void **state)
{
    sim_world *w = *state;
    uint8_t whole[1052];
    seen s = {0};
    sim_world_set_trace(w, sink, &s);
    sim_packet *p = split_packet(w, whole);
    sim_trace_rec rec = {.kind = SIM_TR_SEND};
    sim_world_trace_packet(w, &rec, p);
    assert_int_equal(s.len, 1052);
    assert_int_equal(s.id, p->id);
    assert_memory_equal(s.bytes, whole, sizeof whole);
    sim_world_set_trace(w, NULL, NULL);
    sim_packet_free(w, p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_and_free_count_in_use),
        T(test_ids_increase_and_clones_keep_origin),
        T(test_every_size_class),
        T(test_slots_fit_within_64_bytes),
        T(test_too_large_is_refused),
        T(test_pool_reuses_memory_without_growing),
        T(test_addresses),
        T(test_world_free_releases_owned_packets),
        T(test_lent_bytes_are_read_in_place_and_released_once),
        T(test_a_freed_lent_slot_keeps_no_callback),
        T(test_writable_copies_lent_bytes_keeping_the_id),
        T(test_world_free_releases_lent_packets),
        T(test_a_failed_lent_packet_releases_at_once),
        T(test_split_reads_its_tail_in_place),
        T(test_split_clone_and_writable),
        T(test_split_slot_is_a_heads_and_is_reused),
        T(test_split_addresses_and_bounds),
        T(test_split_hostile_lengths),
        T(test_world_free_frees_split_packets),
        T(test_trace_shows_the_whole_split_datagram),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
