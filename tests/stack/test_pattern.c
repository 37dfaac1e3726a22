/*
 * The send queue of pattern bytes (tcp_send_pattern, tcp_buf.c "The send
 * queue") and split output (tcp_env.output_split).
 *
 * Contract checked: segments carry the pattern's bytes at their stream
 * offsets, the same datagrams a copy of those bytes sent with tcp_send
 * gives (first sends, retransmissions, the FIN behind them), in every
 * profile; a queue of pattern bytes holds no ring; bytes of anything else
 * queued behind it make it a ring holding the same bytes; an environment
 * without output_split gets the same datagrams flattened through output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_conn.h"
#include "tcp_wire.h"

/* 'a'..'z' by stream offset, as sim/net sends it, readable in runs of up
 * to 4,096 bytes from any phase. */
#define PERIOD 26u
#define RUN    4096u
static uint8_t pat_bytes[PERIOD + RUN - 1];
static tcp_pattern pat;

static int pat_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pat_bytes; i++)
        pat_bytes[i] = (uint8_t)('a' + i % PERIOD);
    pat = (tcp_pattern){pat_bytes, PERIOD, sizeof pat_bytes};
    return 0;
}

static uint8_t pat_at(uint64_t off)
{
    return (uint8_t)('a' + off % PERIOD);
}

/* ---- Over a fake environment: what output_split is handed -------------- */

#define FX_MAX 16

typedef struct dgram {
    uint8_t bytes[1600];
    size_t len;
    const uint8_t *tail; /* output_split: where the payload was read */
} dgram;

typedef struct fx {
    uint64_t now, rng;
    dgram out[FX_MAX];
    size_t n, nsplit;
} fx;

static uint64_t fx_now(void *ctx)
{
    return ((fx *)ctx)->now;
}

static uint64_t fx_random(void *ctx)
{
    return ++((fx *)ctx)->rng;
}

static void fx_output(void *ctx, const uint8_t *d, size_t len)
{
    fx *f = ctx;
    assert_true(f->n < FX_MAX && len <= sizeof f->out[0].bytes);
    dgram *g = &f->out[f->n++];
    memcpy(g->bytes, d, len);
    g->len = len;
    g->tail = NULL;
}

static void fx_output_split(void *ctx, const uint8_t *head, size_t hlen, const uint8_t *tail,
                            size_t tlen)
{
    fx *f = ctx;
    assert_true(f->n < FX_MAX && hlen + tlen <= sizeof f->out[0].bytes);
    dgram *g = &f->out[f->n++];
    memcpy(g->bytes, head, hlen);
    memcpy(g->bytes + hlen, tail, tlen);
    g->len = hlen + tlen;
    g->tail = tail;
    f->nsplit++;
}

enum { COPYING, SPLITTING };

/* A stack with one ESTABLISHED connection (ISS 1000, peer window 65,535,
 * MSS 1,000, cwnd 10 segments, no Nagle). */
static tcp_stack *fx_stack(fx *f, int kind, const char *profile, tcp_sock_id *id)
{
    static const tcp_env copying = {.now_ns = fx_now, .random = fx_random, .output = fx_output};
    static const tcp_env splitting = {.now_ns = fx_now,
                                      .random = fx_random,
                                      .output = fx_output,
                                      .output_split = fx_output_split};
    f->now = 1000000000u;
    tcp_stack *s = tcp_stack_new(kind == SPLITTING ? &splitting : &copying, f, 0x0a000002u,
                                 tcp_profile_find(profile));
    assert_non_null(s);
    s->now = f->now;
    tcp_conn *c = tcp_conn_new(s);
    assert_non_null(c);
    c->state = TCP_ESTABLISHED;
    c->raddr = 0x0a000009u;
    c->lport = 80;
    c->rport = 5000;
    c->user_held = true;
    c->ever_used = true;
    tcp_conn_init_seq(c, 1000);
    c->snd_una = c->snd_nxt = c->snd_max = c->snd_buf_seq = 1001;
    c->irs = 7000;
    c->rcv_nxt = c->rcv_adv = 7001;
    c->snd_wnd = c->max_snd_wnd = 65535;
    c->snd_mss = c->rcv_mss = 1000;
    c->cwnd = 10000;
    c->nodelay = true;
    *id = c->id;
    return s;
}

static tcp_conn *fx_conn(tcp_stack *s, tcp_sock_id id)
{
    tcp_conn *c = tcp_stack_find(s, id);
    assert_non_null(c);
    return c;
}

/* 2,500 pattern bytes from phase 7 go out as the datagrams 2,500 bytes
 * copied from the pattern give, byte for byte (checksums included), in
 * every profile; the splitting environment gets each payload as a pointer
 * into the pattern and the connection holds no ring; the RTO's
 * retransmission reads the pattern again. */
static void pattern_segments_are_the_copied_bytes_segments(void **state)
{
    (void)state;
    static const char *const profiles[] = {"rfc9293", "linux", "bsd"};
    uint8_t copy[2500];
    for (size_t i = 0; i < sizeof copy; i++)
        copy[i] = pat_at(7 + i);
    for (size_t k = 0; k < sizeof profiles / sizeof *profiles; k++) {
        fx cp = {0}, sp = {0};
        tcp_sock_id a, b;
        tcp_stack *sa = fx_stack(&cp, COPYING, profiles[k], &a);
        tcp_stack *sb = fx_stack(&sp, SPLITTING, profiles[k], &b);
        assert_int_equal(tcp_send(sa, a, copy, sizeof copy), 2500);
        assert_int_equal(tcp_send_pattern(sb, b, &pat, 7, sizeof copy), 2500);
        assert_true(fx_conn(sb, b)->snd_pat);
        tcp_mem m;
        tcp_stack_mem(sb, &m);
        assert_int_equal(m.ring_bytes, 0);
        assert_int_equal(sp.n, 3);
        assert_int_equal(sp.nsplit, 3);
        assert_int_equal(cp.n, sp.n);
        for (size_t i = 0; i < sp.n; i++) {
            assert_int_equal(sp.out[i].len, cp.out[i].len);
            assert_memory_equal(sp.out[i].bytes, cp.out[i].bytes, cp.out[i].len);
            assert_true(sp.out[i].tail >= pat_bytes &&
                        sp.out[i].tail < pat_bytes + sizeof pat_bytes);
            tcp_seg g;
            assert_int_equal(tcp_wire_parse(sp.out[i].bytes, sp.out[i].len, &g), TCP_WIRE_OK);
            assert_memory_equal(g.payload, copy + (g.seq - 1001), g.len);
        }
        cp.now += H_S(5); /* the RTO (or a loss probe first): each resends */
        sp.now += H_S(5);
        tcp_stack_on_time(sa);
        tcp_stack_on_time(sb);
        assert_true(sp.n > 3);
        assert_int_equal(cp.n, sp.n);
        for (size_t i = 3; i < sp.n; i++)
            assert_memory_equal(sp.out[i].bytes, cp.out[i].bytes, cp.out[i].len);
        tcp_stack_free(sa);
        tcp_stack_free(sb);
    }
}

/* Without output_split the same datagrams come through output; so does a
 * run the pattern cannot give contiguously (a pattern of one period). */
static void without_split_or_a_contiguous_run_the_payload_is_copied(void **state)
{
    (void)state;
    static const uint8_t one_period[PERIOD] = "abcdefghijklmnopqrstuvwxyz";
    const tcp_pattern short_pat = {one_period, PERIOD, PERIOD};
    fx cp = {0}, sp = {0}, sh = {0};
    tcp_sock_id a, b, c;
    tcp_stack *sa = fx_stack(&cp, COPYING, "rfc9293", &a);
    tcp_stack *sb = fx_stack(&sp, SPLITTING, "rfc9293", &b);
    tcp_stack *sc = fx_stack(&sh, SPLITTING, "rfc9293", &c);
    assert_int_equal(tcp_send_pattern(sa, a, &pat, 3, 1500), 1500);
    assert_int_equal(tcp_send_pattern(sb, b, &pat, 3, 1500), 1500);
    assert_int_equal(tcp_send_pattern(sc, c, &short_pat, 3, 1500), 1500);
    assert_int_equal(cp.n, 2);
    assert_int_equal(sp.nsplit, 2);
    assert_int_equal(sh.nsplit, 0);
    assert_int_equal(sh.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(cp.out[i].len, sp.out[i].len);
        assert_memory_equal(cp.out[i].bytes, sp.out[i].bytes, cp.out[i].len);
        assert_memory_equal(cp.out[i].bytes, sh.out[i].bytes, cp.out[i].len);
    }
    tcp_stack_free(sa);
    tcp_stack_free(sb);
    tcp_stack_free(sc);
}

/* A pattern of one period still lends a segment that ends inside its
 * stored bytes (phase 3, 20 bytes), and copies one that wraps past them
 * (phase 23, 20 bytes) with every byte in place. */
static void a_one_period_pattern_lends_what_fits_and_copies_the_wrap(void **state)
{
    (void)state;
    static const uint8_t one_period[PERIOD] = "abcdefghijklmnopqrstuvwxyz";
    const tcp_pattern short_pat = {one_period, PERIOD, PERIOD};
    fx f = {0};
    tcp_sock_id id;
    tcp_stack *s = fx_stack(&f, SPLITTING, "rfc9293", &id);
    assert_int_equal(tcp_send_pattern(s, id, &short_pat, 3, 20), 20);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.nsplit, 1);
    assert_ptr_equal(f.out[0].tail, one_period + 3);
    assert_int_equal(tcp_send_pattern(s, id, &short_pat, 23, 20), 20);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.nsplit, 1);
    for (size_t i = 0; i < 2; i++) {
        tcp_seg g;
        assert_int_equal(tcp_wire_parse(f.out[i].bytes, f.out[i].len, &g), TCP_WIRE_OK);
        assert_int_equal(g.len, 20);
        for (uint32_t k = 0; k < g.len; k++)
            assert_int_equal(g.payload[k], pat_at(3 + (g.seq - 1001) + k));
    }
    tcp_stack_free(s);
}

/* Ordinary bytes behind queued pattern bytes make the count a ring holding
 * the same bytes, then the bytes; a pattern call behind ring bytes, or one
 * whose phase does not continue the count, joins the ring; a count that
 * continues stays a count; the last byte acknowledged leaves no queue. */
static void mixed_writes_make_a_ring_of_the_same_bytes(void **state)
{
    (void)state;
    fx f = {0};
    tcp_sock_id id;
    tcp_stack *s = fx_stack(&f, SPLITTING, "rfc9293", &id);
    tcp_conn *c = fx_conn(s, id);
    c->snd_wnd = 0; /* hold everything queued: the queue is what is checked */
    assert_int_equal(tcp_send_pattern(s, id, &pat, 5, 100), 100);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 105, 50), 50); /* continues: a count */
    assert_true(c->snd_pat);
    assert_int_equal(c->sndq.len, 150);
    uint32_t sndbuf = c->sndbuf;
    c->sndbuf = 150; /* full: nothing joins, so the count stays a count */
    assert_int_equal(tcp_send(s, id, "XYZ", 3), TCP_EAGAIN);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 0, 10), TCP_EAGAIN);
    assert_true(c->snd_pat);
    c->sndbuf = sndbuf;
    assert_int_equal(tcp_send(s, id, "XYZ", 3), 3);
    assert_false(c->snd_pat);
    assert_int_equal(c->sndq.len, 153);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 0, 10), 10); /* behind bytes: a ring's */
    assert_false(c->snd_pat);
    uint8_t got[163], want[163];
    for (size_t i = 0; i < 150; i++)
        want[i] = pat_at(5 + i);
    memcpy(want + 150, "XYZ", 3);
    for (size_t i = 0; i < 10; i++)
        want[153 + i] = pat_at(i);
    tcp_sndq_copy_out(c, 0, got, sizeof got);
    assert_memory_equal(got, want, sizeof want);
    tcp_stack_free(s);

    /* A phase that does not continue the count. */
    fx g = {0};
    s = fx_stack(&g, SPLITTING, "rfc9293", &id);
    c = fx_conn(s, id);
    c->snd_wnd = 0;
    assert_int_equal(tcp_send_pattern(s, id, &pat, 0, 30), 30);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 0, 4), 4);
    assert_false(c->snd_pat);
    tcp_sndq_copy_out(c, 0, got, 34);
    for (size_t i = 0; i < 30; i++)
        assert_int_equal(got[i], pat_at(i));
    assert_memory_equal(got + 30, "abcd", 4);
    tcp_stack_free(s);

    /* Acknowledged to the end: no queue, no ring. */
    fx h = {0};
    s = fx_stack(&h, SPLITTING, "rfc9293", &id);
    c = fx_conn(s, id);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 0, 1000), 1000);
    assert_true(c->snd_pat);
    tcp_sndq_consume(c, 400); /* as an ACK of 400 bytes would */
    c->snd_buf_seq += 400;
    tcp_sndq_copy_out(c, 0, got, 26);
    assert_int_equal(got[0], pat_at(400));
    tcp_sndq_consume(c, 600);
    assert_false(c->snd_pat);
    assert_null(c->sndq.data);
    assert_int_equal(c->sndq.len, 0);
    tcp_stack_free(s);
}

/* A bad pattern is refused before anything is queued. */
static void a_bad_pattern_is_refused(void **state)
{
    (void)state;
    fx f = {0};
    tcp_sock_id id;
    tcp_stack *s = fx_stack(&f, SPLITTING, "rfc9293", &id);
    const tcp_pattern no_period = {pat_bytes, 0, 10}, too_short = {pat_bytes, 26, 25},
                      no_bytes = {NULL, 26, 26};
    assert_int_equal(tcp_send_pattern(s, id, NULL, 0, 10), TCP_EINVAL);
    assert_int_equal(tcp_send_pattern(s, id, &no_period, 0, 10), TCP_EINVAL);
    assert_int_equal(tcp_send_pattern(s, id, &too_short, 0, 10), TCP_EINVAL);
    assert_int_equal(tcp_send_pattern(s, id, &no_bytes, 0, 10), TCP_EINVAL);
    assert_int_equal(tcp_send_pattern(s, 999, &pat, 0, 10), TCP_EBADF);
    assert_int_equal(fx_conn(s, id)->sndq.len, 0);
    assert_int_equal(f.n, 0);
    tcp_stack_free(s);
}

/* The two environments were handed the same datagrams, byte for byte. */
static void same_datagrams(const fx *a, const fx *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->out[i].len, b->out[i].len);
        assert_memory_equal(a->out[i].bytes, b->out[i].bytes, a->out[i].len);
    }
}

/* Moves c to sequence numbers just below 2^32: SND.UNA 0xfffffa01. */
static void fx_near_wrap(tcp_conn *c)
{
    tcp_conn_init_seq(c, 0xfffffa00u);
    c->snd_una = c->snd_nxt = c->snd_max = c->snd_buf_seq;
}

/* As an ACK of n more bytes would move the queue (and, acknowledging
 * everything sent, stop the retransmission timer). */
static void fx_acked(tcp_conn *c, uint32_t n)
{
    tcp_sndq_consume(c, n);
    c->snd_buf_seq += n;
    c->snd_una += n;
    if (c->snd_una == c->snd_max)
        tcp_timer_stop(c, TCP_TIMER_RTX);
}

/* Sequence numbers that wrap past 2^32 in the middle of a segment, a phase
 * far past the period, an acknowledgement of part of the count, bytes
 * queued behind it that fill the send buffer to the byte, the RTO's
 * retransmissions and the FIN: every datagram is the one a copy of the
 * same bytes sent with tcp_send gives. */
static void a_count_across_the_sequence_wrap_matches_a_copy(void **state)
{
    (void)state;
    const uint32_t phase = 0xfffffff0u; /* past the period: bytes[(phase + k) % 26] */
    uint8_t copy[2500];
    for (size_t i = 0; i < sizeof copy; i++)
        copy[i] = pat_at((uint64_t)phase + i);
    for (const char *const *prof = (const char *const[]){"rfc9293", "linux", "bsd", NULL}; *prof;
         prof++) {
        fx cp = {0}, sp = {0};
        tcp_sock_id a, b;
        tcp_stack *sa = fx_stack(&cp, COPYING, *prof, &a);
        tcp_stack *sb = fx_stack(&sp, SPLITTING, *prof, &b);
        tcp_conn *ca = fx_conn(sa, a), *cb = fx_conn(sb, b);
        fx_near_wrap(ca);
        fx_near_wrap(cb);
        assert_int_equal(tcp_send(sa, a, copy, sizeof copy), 2500);
        assert_int_equal(tcp_send_pattern(sb, b, &pat, phase, sizeof copy), 2500);
        assert_int_equal(sp.nsplit, 3);
        same_datagrams(&cp, &sp);
        fx_acked(ca, 1000); /* SND.UNA 0xfffffde9, the queue ending past 2^32 */
        fx_acked(cb, 1000);
        assert_true(cb->snd_pat);
        /* Exactly the buffer's room: the three bytes fit, a fourth does not. */
        ca->sndbuf = cb->sndbuf = 1503;
        assert_int_equal(tcp_send(sa, a, "XYZ", 3), 3);
        assert_int_equal(tcp_send(sb, b, "XYZ", 3), 3);
        assert_false(cb->snd_pat);
        assert_int_equal(tcp_send(sb, b, "W", 1), TCP_EAGAIN);
        assert_int_equal(tcp_send_pattern(sb, b, &pat, 0, 1), TCP_EAGAIN);
        uint8_t got[1503];
        tcp_sndq_copy_out(cb, 0, got, sizeof got);
        assert_memory_equal(got, copy + 1000, 1500);
        assert_memory_equal(got + 1500, "XYZ", 3);
        assert_int_equal(tcp_shutdown(sa, a), TCP_OK);
        assert_int_equal(tcp_shutdown(sb, b), TCP_OK);
        size_t before = sp.n;
        cp.now += H_S(5); /* the RTO (or a loss probe first): each resends */
        sp.now += H_S(5);
        tcp_stack_on_time(sa);
        tcp_stack_on_time(sb);
        assert_true(sp.n > before);
        same_datagrams(&cp, &sp);
        tcp_stack_free(sa);
        tcp_stack_free(sb);
    }
}

/* A count acknowledged across 2^32 to its last byte, then pattern bytes
 * again: a fresh count at the new phase, no ring in between; a window
 * probe (zero window) reads its one byte from the count. */
static void a_count_refills_after_the_wrap_and_probes_a_zero_window(void **state)
{
    (void)state;
    fx f = {0};
    tcp_sock_id id;
    tcp_stack *s = fx_stack(&f, SPLITTING, "rfc9293", &id);
    tcp_conn *c = fx_conn(s, id);
    fx_near_wrap(c);
    assert_int_equal(tcp_send_pattern(s, id, &pat, 3, 2000), 2000);
    fx_acked(c, 2000);
    assert_false(c->snd_pat);
    assert_int_equal(c->sndq.len, 0);
    c->snd_wnd = 0;
    size_t before = f.n;
    assert_int_equal(tcp_send_pattern(s, id, &pat, 2003, 500), 500);
    assert_true(c->snd_pat);
    assert_int_equal(f.n, before); /* nothing fits the window */
    for (int i = 0; i < 4 && f.n == before; i++) {
        f.now += H_S(2);
        tcp_stack_on_time(s);
    }
    assert_true(f.n > before); /* the persist timer's probe */
    tcp_seg g;
    const dgram *probe = &f.out[f.n - 1];
    assert_int_equal(tcp_wire_parse(probe->bytes, probe->len, &g), TCP_WIRE_OK);
    assert_int_equal(g.seq, c->snd_una);
    assert_int_equal(g.len, 1);
    assert_int_equal(g.payload[0], pat_at(2003));
    tcp_stack_free(s);
}

/* ---- Over sim/net: whole transfers -------------------------------------- */

/* Reads everything B has into got; returns the running count. */
static size_t drain(harness *h, tcp_sock_id sock, uint8_t *got, size_t have, size_t cap)
{
    long n;
    while (have < cap && (n = tcp_recv(h_stack(h, H_B), sock, got + have, cap - have)) > 0)
        have += (size_t)n;
    return have;
}

/* 200 kB of the pattern (more than a send buffer) through every profile,
 * with the first data segment and a later one lost: B reads the pattern
 * at every offset, A never holds a send ring, the FIN queued behind the
 * pattern closes the stream after the last byte. */
static void a_pattern_transfer_with_losses_in_every_profile(void **state)
{
    (void)state;
    static const char *const profiles[] = {"rfc9293", "linux", "bsd"};
    enum { TOTAL = 200000 };
    static uint8_t got[TOTAL + 1];
    for (size_t k = 0; k < sizeof profiles / sizeof *profiles; k++) {
        harness *h = h_new(2, h_profile_exact(profiles[k]));
        h_set_delay(h, H_MS(10));
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_stack *a = h_stack(h, H_A);
        h_drop_sent(h, H_A, TCP_ACK, 1); /* the first data segment */
        size_t sent = 0, have = 0;
        bool lost_again = false, closed = false;
        for (int step = 0; step < 20000 && have < TOTAL; step++) {
            if (sent < TOTAL) {
                long n =
                    tcp_send_pattern(a, p.client, &pat, (uint32_t)(sent % PERIOD), TOTAL - sent);
                assert_true(n >= 0 || n == TCP_EAGAIN);
                sent += n > 0 ? (size_t)n : 0;
                tcp_mem m;
                tcp_stack_mem(a, &m);
                assert_int_equal(m.ring_bytes, 0); /* A receives nothing: no ring at all */
            }
            if (sent == TOTAL && !closed) {
                assert_int_equal(tcp_shutdown(a, p.client), TCP_OK);
                closed = true;
            }
            if (!lost_again && have > TOTAL / 2) {
                h_drop_sent(h, H_A, TCP_ACK, 1);
                lost_again = true;
            }
            h_run_for(h, H_MS(1));
            have = drain(h, p.server, got, have, sizeof got);
        }
        assert_int_equal(have, TOTAL);
        for (size_t i = 0; i < TOTAL; i++)
            if (got[i] != pat_at(i))
                fail_msg("%s: byte %zu is %c, not %c", profiles[k], i, got[i], pat_at(i));
        for (int step = 0; step < 5000 && tcp_recv(h_stack(h, H_B), p.server, got, 1) != 0; step++)
            h_run_for(h, H_MS(1));
        assert_int_equal(tcp_recv(h_stack(h, H_B), p.server, got, 1), 0); /* end of stream */
        const tcp_stats *st = tcp_sock_stats(a, p.client);
        assert_non_null(st);
        assert_true(st->retransmits >= 2);
        h_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pattern_segments_are_the_copied_bytes_segments),
        cmocka_unit_test(without_split_or_a_contiguous_run_the_payload_is_copied),
        cmocka_unit_test(a_one_period_pattern_lends_what_fits_and_copies_the_wrap),
        cmocka_unit_test(mixed_writes_make_a_ring_of_the_same_bytes),
        cmocka_unit_test(a_bad_pattern_is_refused),
        cmocka_unit_test(a_count_across_the_sequence_wrap_matches_a_copy),
        cmocka_unit_test(a_count_refills_after_the_wrap_and_probes_a_zero_window),
        cmocka_unit_test(a_pattern_transfer_with_losses_in_every_profile),
    };
    return cmocka_run_group_tests(tests, pat_setup, NULL);
}
