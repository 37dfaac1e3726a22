/*
 * test_rlog — the run log's contract: what it records from the core's trace
 * records and the stacks' events, and how state changes are tied to packets.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlog.h"
#include "rlog_fixture.h"

/* The first entry of `kind` with packet id pkt (0: any) at or after `from`. */
static size_t find_entry(const rlog *log, rlog_kind kind, uint32_t pkt, size_t from)
{
    for (size_t i = from; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (e->kind == kind && (pkt == 0 || e->packet_id == pkt))
            return i;
    }
    fail_msg("no %s entry for packet %u", rlog_kind_name(kind), (unsigned)pkt);
    return RLOG_NONE;
}

/* The STATE entry of host/sock going from -> to. */
static size_t find_state(const rlog *log, uint32_t host, tcp_state from, tcp_state to)
{
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (e->kind == RLOG_STATE && e->host == host && e->from == from && e->to == to)
            return i;
    }
    fail_msg("no state change %s -> %s", tcp_state_name(from), tcp_state_name(to));
    return RLOG_NONE;
}

/* The fixture: a fresh hand-made log (rlog_fixture.h's hosts) per test,
 * freed by teardown whatever the test's outcome. */
static int log_setup(void **state)
{
    *state = fx_new();
    return *state ? 0 : -1;
}

/* For a test that breaks the log on purpose. */
static int log_teardown_unchecked(void **state)
{
    rlog_free(*state);
    return 0;
}

static int log_teardown(void **state)
{
    fx_check(*state);
    rlog_free(*state);
    return 0;
}

/* ---- names ---------------------------------------------------------------------- */

/* Every kind has a name of its own (the JSON "kind" values); a kind added
 * without one would print as "?" (and its switch fails to compile). */
static void every_kind_has_its_own_name(void **state)
{
    (void)state;
    for (int k = 0; k < RLOG_KIND_COUNT; k++) {
        const char *name = rlog_kind_name((rlog_kind)k);
        assert_string_not_equal(name, "?");
        for (int j = 0; j < k; j++)
            assert_string_not_equal(rlog_kind_name((rlog_kind)j), name);
    }
    assert_string_equal(rlog_kind_name(RLOG_RESTART), "restart");
    assert_string_equal(rlog_kind_name(RLOG_KIND_COUNT), "?");
}

/* ---- recording ------------------------------------------------------------------ */

static void records_packets_with_parsed_segments(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    assert_int_equal(rlog_count(log), 13);
    const rlog_entry *e = rlog_at(log, find_entry(log, RLOG_SEND, 2, 0));
    assert_int_equal(e->time_ns, 50 * FX_MS);
    assert_int_equal(e->host, FX_B);
    assert_int_equal(rlog_peer_host(e), FX_A);
    assert_int_equal(e->src_host, FX_B);
    assert_int_equal(e->dst_host, FX_A);
    assert_int_equal(e->link, 0);
    assert_int_equal(e->dir, 1);
    assert_true(e->seg_ok);
    assert_int_equal(e->seg->flags, TCP_SYN | TCP_ACK);
    assert_int_equal(e->seg->seq, 300);
    assert_int_equal(e->seg->ack, 101);
    assert_true(e->seg->has_mss);
    assert_int_equal(e->nbytes, 44);
    size_t send = find_entry(log, RLOG_SEND, 2, 0);
    const rlog_entry *d = rlog_at(log, find_entry(log, RLOG_DELIVER, 2, 0));
    assert_int_equal(d->host, FX_A);
    assert_int_equal(rlog_peer_host(d), FX_B);
    assert_int_equal(d->send_index, send);
    assert_string_equal(rlog_host_name(log, FX_B), "B");
    assert_string_equal(rlog_host_name(log, 7), "?");
    assert_null(rlog_host_at(log, 7));
    assert_int_equal(rlog_host_at(log, FX_A)->addr, FX_A_ADDR);
}

static void payload_points_into_the_logs_own_copy(void **state)
{
    rlog *log = *state;
    uint8_t payload[100], buf[200];
    memset(payload, 'x', sizeof payload);
    tcp_seg s = fx_seg(FX_A, TCP_ACK | TCP_PSH, 101, 301, 0);
    s.payload = payload;
    s.len = sizeof payload;
    size_t n = tcp_wire_encode(&s, buf, sizeof buf);
    fx_record(log, SIM_TR_SEND, 0, FX_A, FX_A, 1, 1, buf, n, 0);
    memset(buf, 0, sizeof buf); /* the caller's bytes are gone */
    const rlog_entry *e = rlog_at(log, 0);
    assert_true(e->seg_ok);
    assert_int_equal(e->seg->len, 100);
    assert_ptr_not_equal(e->bytes, buf);
    assert_true(e->seg->payload >= e->bytes && e->seg->payload + 100 <= e->bytes + e->nbytes);
    assert_memory_equal(e->seg->payload, payload, 100);
}

/* A segment's SACK blocks (RFC 2018 §3), in its header, read back from the
 * log's copy of the bytes once the caller's are gone (or reused for another
 * packet, as a freed packet's are), payload kept or not; a state change its
 * delivery made shares them, and one made before the delivery was seen keeps
 * a copy of its own. */
static void sack_blocks_kept(rlog *log, bool keep)
{
    rlog_set_payload(log, keep);
    uint8_t blocks[16], buf[200], payload[100];
    tcp_sack_put(blocks, 1101, 1201);
    tcp_sack_put(blocks + 8, 2001, 2101);
    memset(payload, 'x', sizeof payload);
    tcp_seg s = fx_seg(FX_B, TCP_ACK, 301, 101, 0);
    s.nsack = 2;
    s.sack = blocks;
    s.payload = payload;
    s.len = sizeof payload;
    size_t n = tcp_wire_encode(&s, buf, sizeof buf);
    tcp_seg parsed; /* the receiving stack's parse: its blocks lie in buf */
    assert_int_equal(tcp_wire_parse(buf, n, &parsed), TCP_WIRE_OK);
    assert_int_equal(parsed.nsack, 2);
    /* The first state change comes before the delivery is seen. */
    fx_state(log, 0, FX_A, 1, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, &parsed,
             "rcv FIN");
    fx_record(log, SIM_TR_SEND, 0, FX_B, FX_B, 1, 1, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 5 * FX_MS, FX_A, FX_B, 1, 1, buf, n, 0);
    fx_state(log, 5 * FX_MS, FX_A, 1, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_SEGMENT, &parsed,
             "close()");
    memset(buf, 0xee, sizeof buf); /* the bytes now hold another packet */
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        assert_true(e->seg_ok);
        assert_int_equal(e->seg->nsack, 2);
        uint32_t left, right;
        tcp_seg_sack(e->seg, 0, &left, &right);
        assert_int_equal(left, 1101);
        assert_int_equal(right, 1201);
        tcp_seg_sack(e->seg, 1, &left, &right);
        assert_int_equal(left, 2001);
        assert_int_equal(right, 2101);
    }
    if (!keep) /* a header without payload: the DELIVER's parse */
        assert_ptr_equal(rlog_at(log, 3)->seg, rlog_at(log, 2)->seg);
}

static void sack_blocks_point_into_the_logs_own_copy(void **state)
{
    sack_blocks_kept(*state, true);
}

static void sack_blocks_kept_without_payload(void **state)
{
    sack_blocks_kept(*state, false);
}

/* rlog_set_payload(false): headers only, the sizes and the parse unchanged;
 * a delivery shares the send's headers; a corrupted copy keeps every byte. */
static void without_payload_keeps_headers_and_sizes(void **state)
{
    rlog *log = *state;
    rlog_set_payload(log, false);
    uint8_t payload[100], buf[200];
    memset(payload, 'x', sizeof payload);
    tcp_seg s = fx_seg(FX_A, TCP_ACK | TCP_PSH, 101, 301, 0);
    s.payload = payload;
    s.len = sizeof payload;
    size_t n = tcp_wire_encode(&s, buf, sizeof buf);
    fx_record(log, SIM_TR_SEND, 0, FX_A, FX_A, 1, 1, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 5 * FX_MS, FX_B, FX_A, 1, 1, buf, n, 0);
    buf[n - 1] ^= 1; /* a payload bit flipped: the TCP checksum fails */
    fx_record(log, SIM_TR_CORRUPT, 6 * FX_MS, FX_B, FX_A, 1, 1, buf, n, 0);
    const rlog_entry *e = rlog_at(log, 0);
    assert_true(e->seg_ok);
    assert_int_equal(e->nbytes, n);
    assert_int_equal(e->nheld, n - 100); /* IPv4 + TCP headers */
    assert_int_equal(e->seg->len, 100);
    assert_int_equal(e->seg->seq, 101);
    assert_null(e->seg->payload);
    const rlog_entry *d = rlog_at(log, 1);
    assert_true(d->seg_ok);
    assert_ptr_equal(d->bytes, e->bytes);
    assert_int_equal(d->nheld, e->nheld);
    const rlog_entry *c = rlog_at(log, 2);
    assert_false(c->seg_ok);
    assert_int_equal(c->wire_err, TCP_WIRE_TCP_CHECKSUM);
    assert_int_equal(c->nheld, n);
    assert_memory_equal(c->bytes, buf, n);
}

/* An entry never moves once appended (rule 1): a pointer from rlog_at
 * still points at it, unchanged, after two thousand more, and every
 * entry, across the log's chunks, reads back as it was recorded. */
static void entries_never_move(void **state)
{
    rlog *log = *state;
    fx_ev(log, 0, FX_A, TCP_EV_USER, 7, TCP_CALL_CLOSE, "first");
    const rlog_entry *first = rlog_at(log, 0);
    for (uint64_t t = 1; t <= 2000; t++)
        fx_ev(log, t, FX_B, TCP_EV_TIMER, (uint32_t)t, TCP_TIMER_RTX, NULL);
    assert_int_equal(rlog_count(log), 2001);
    assert_ptr_equal(rlog_at(log, 0), first);
    assert_int_equal(first->kind, RLOG_USER);
    assert_int_equal(first->sock, 7);
    assert_string_equal(first->note, "first");
    for (size_t i = 1; i <= 2000; i++) {
        const rlog_entry *e = rlog_at(log, i);
        assert_int_equal(e->time_ns, i);
        assert_int_equal(e->sock, i);
        assert_int_equal(e->kind, RLOG_TIMER);
        assert_int_equal(e->detail, TCP_TIMER_RTX);
    }
    char why[256];
    assert_int_equal(rlog_check(log, why, sizeof why), 0);
}

/* Notes are cut at 63 bytes; equal notes share one copy; none is "". */
static void notes_are_cut_and_shared(void **state)
{
    rlog *log = *state;
    char buf[100], longer[101];
    memset(longer, 'n', 100);
    longer[100] = '\0';
    snprintf(buf, sizeof buf, "%s", "retransmissions exhausted");
    fx_ev(log, 0, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, buf);
    memset(buf, 0, sizeof buf); /* the caller's bytes are gone */
    fx_ev(log, 1, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, "retransmissions exhausted");
    fx_ev(log, 2, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, longer);
    fx_ev(log, 3, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, NULL);
    assert_int_equal(rlog_count(log), 4);
    assert_string_equal(rlog_at(log, 0)->note, "retransmissions exhausted");
    assert_ptr_equal(rlog_at(log, 0)->note, rlog_at(log, 1)->note);
    assert_int_equal(strlen(rlog_at(log, 2)->note), 63);
    assert_memory_equal(rlog_at(log, 2)->note, longer, 63);
    assert_string_equal(rlog_at(log, 3)->note, "");
}

/* An entry points at its segment's parse, one per datagram: a packet's
 * SEND and DELIVER share it, and so does the state change its delivery
 * made (the header without payload), so an entry is 96 bytes, not 176
 * with a parse of its own. */
static void entries_share_one_parse_per_packet(void **state)
{
    rlog *log = *state;
    rlog_set_payload(log, false);
    assert_true(sizeof(rlog_entry) <= 96);
    uint8_t payload[100], buf[200];
    memset(payload, 'x', sizeof payload);
    tcp_seg s = fx_seg(FX_A, TCP_ACK | TCP_PSH | TCP_FIN, 101, 301, 0);
    s.payload = payload;
    s.len = sizeof payload;
    size_t n = tcp_wire_encode(&s, buf, sizeof buf);
    tcp_seg parsed; /* what the receiving stack reports: its own parse */
    assert_int_equal(tcp_wire_parse(buf, n, &parsed), TCP_WIRE_OK);
    fx_record(log, SIM_TR_SEND, 0, FX_A, FX_A, 1, 1, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 5 * FX_MS, FX_B, FX_A, 1, 1, buf, n, 0);
    fx_state(log, 5 * FX_MS, FX_B, 2, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, &parsed,
             "rcv FIN");
    const rlog_entry *e = rlog_at(log, 0), *d = rlog_at(log, 1), *st = rlog_at(log, 2);
    assert_ptr_equal(d->seg, e->seg);
    assert_ptr_equal(st->seg, d->seg);
    assert_int_equal(rlog_state_cause(log, 2), 1);
    assert_int_equal(st->seg->seq, 101);
    assert_int_equal(st->seg->len, 100);
    assert_null(st->seg->payload);
    /* An entry with no segment points at the empty one. */
    fx_ev(log, 6 * FX_MS, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, "close()");
    assert_false(rlog_at(log, 3)->seg_ok);
    assert_int_equal(rlog_at(log, 3)->seg->flags, 0);
}

/* n data segments of `len` payload bytes each way, sent and delivered. */
static void transfer(rlog *log, size_t n, uint32_t len)
{
    static uint8_t payload[1400];
    for (size_t i = 0; i < n; i++) {
        uint32_t off = (uint32_t)(i * len);
        uint64_t t = i * 10 * FX_MS;
        tcp_seg s = fx_seg(FX_A, TCP_ACK | TCP_PSH, 101 + off, 301, 0);
        s.payload = payload;
        s.len = len;
        fx_send(log, t, FX_A, (uint32_t)(2 * i + 1), s);
        fx_deliver(log, t + 5 * FX_MS, FX_A, (uint32_t)(2 * i + 1), s);
        tcp_seg ack = fx_seg(FX_B, TCP_ACK, 301, 101 + off + len, 0);
        fx_send(log, t + 5 * FX_MS, FX_B, (uint32_t)(2 * i + 2), ack);
        fx_deliver(log, t + 10 * FX_MS, FX_B, (uint32_t)(2 * i + 2), ack);
    }
}

/* Memory flat in the bytes moved: without payload the log holds the same
 * bytes for 200 segments of 10 bytes as of 1,400; with it (pcap asked for),
 * the payload more. */
static void log_bytes_do_not_grow_with_the_payload(void **state)
{
    (void)state;
    size_t bytes[2][2];
    for (int keep = 0; keep < 2; keep++)
        for (int big = 0; big < 2; big++) {
            rlog *log = fx_new();
            rlog_set_payload(log, keep);
            transfer(log, 200, big ? 1400 : 10);
            fx_check(log);
            bytes[keep][big] = rlog_bytes(log);
            rlog_free(log);
        }
    assert_int_equal(bytes[0][0], bytes[0][1]);
    /* 1,390 more bytes in each of 200 packets, less the alignment padding
     * (under 8 bytes a parse) the smaller ones needed. */
    assert_true(bytes[1][1] - bytes[1][0] >= 200 * (1390 - 2 * 8));
    assert_true(bytes[0][1] < bytes[1][1] / 2);
}

/* A core of three hosts for lazy registration: A, B and C (never on a
 * packet), with distinct addresses, as rlog_host_source asks. */
static const char *const LAZY_NAMES[] = {"A", "B", "C"};
static const uint32_t LAZY_ADDRS[] = {FX_A_ADDR, FX_B_ADDR, 0x0a000009u};
static int lazy_asks;

static bool lazy_by_id(void *ctx, uint32_t id, const char **name, uint32_t *addr)
{
    (void)ctx;
    lazy_asks++;
    if (id >= 3)
        return false;
    *name = LAZY_NAMES[id];
    *addr = LAZY_ADDRS[id];
    return true;
}

static bool lazy_by_addr(void *ctx, uint32_t addr, uint32_t *id)
{
    (void)ctx;
    lazy_asks++;
    for (uint32_t i = 0; i < 3; i++)
        if (LAZY_ADDRS[i] == addr) {
            *id = i;
            return true;
        }
    return false;
}

static void lazy_hosts_come_with_their_first_packet(void **state)
{
    (void)state;
    rlog *lazy = rlog_new(), *eager = fx_new(), *fresh = rlog_new();
    rlog_set_host_source(lazy, &(rlog_host_source){lazy_by_id, lazy_by_addr, NULL});
    lazy_asks = 0;
    /* Nothing recorded: no host table, and the source never asked. */
    assert_int_equal(rlog_host_count(lazy), 0);
    assert_int_equal(rlog_bytes(lazy), rlog_bytes(fresh));
    assert_string_equal(rlog_host_name(lazy, FX_A), "?");
    rlog_add_host(eager, 2, "C", LAZY_ADDRS[2]);
    tcp_seg stray = fx_seg(FX_B, TCP_RST, 9, 0, 0);
    stray.dst_addr = 0x0a0000feu; /* no host has it */
    for (int k = 0; k < 2; k++) {
        rlog *log = k ? eager : lazy;
        fx_send(log, 0, FX_A, 1, fx_seg(FX_A, TCP_SYN, 100, 0, 0));
        fx_deliver(log, 50 * FX_MS, FX_A, 1, fx_seg(FX_A, TCP_SYN, 100, 0, 0));
        fx_send(log, 60 * FX_MS, FX_B, 2, stray);
    }
    assert_true(lazy_asks > 0);
    /* The same ends as a log given every host at its creation. */
    assert_int_equal(rlog_count(lazy), rlog_count(eager));
    for (size_t i = 0; i < rlog_count(lazy); i++) {
        assert_int_equal(rlog_at(lazy, i)->host, rlog_at(eager, i)->host);
        assert_int_equal(rlog_at(lazy, i)->src_host, rlog_at(eager, i)->src_host);
        assert_int_equal(rlog_at(lazy, i)->dst_host, rlog_at(eager, i)->dst_host);
    }
    assert_int_equal(rlog_at(lazy, 2)->dst_host, UINT32_MAX);
    /* A and B, under their own ids; C was on no packet. */
    assert_int_equal(rlog_host_count(lazy), 2);
    assert_string_equal(rlog_host_name(lazy, FX_A), "A");
    assert_string_equal(rlog_host_name(lazy, FX_B), "B");
    assert_int_equal(rlog_host_at(lazy, FX_B)->addr, FX_B_ADDR);
    assert_null(rlog_host_at(lazy, 2));
    rlog_free(lazy);
    rlog_free(eager);
    rlog_free(fresh);
}

static void corrupt_packet_is_kept_unparsed(void **state)
{
    rlog *log = *state;
    fx_impaired(log);
    const rlog_entry *c = rlog_at(log, find_entry(log, RLOG_CORRUPT, 6, 0));
    assert_false(c->seg_ok);
    assert_int_equal(c->wire_err, TCP_WIRE_TCP_CHECKSUM);
    assert_int_equal(c->nbytes, 40);
    assert_non_null(c->bytes);
    assert_int_equal(c->src_host, FX_B);
    assert_int_equal(c->dst_host, FX_A);
    size_t send = find_entry(log, RLOG_SEND, 6, 0);
    assert_int_equal(c->send_index, send);
    assert_true(rlog_at(log, send)->seg_ok);
    const rlog_entry *d = rlog_at(log, find_entry(log, RLOG_DELIVER, 6, 0));
    assert_false(d->seg_ok);
    assert_int_equal(d->host, FX_A);
    const rlog_entry *r = rlog_at(log, find_entry(log, RLOG_REJECT, 0, 0));
    assert_int_equal(r->host, FX_A);
    assert_string_equal(r->text, "bad TCP checksum");
}

static void duplicate_takes_its_originals_ends(void **state)
{
    rlog *log = *state;
    fx_impaired(log);
    size_t dup = find_entry(log, RLOG_DUP, 2, 0);
    const rlog_entry *e = rlog_at(log, dup);
    assert_int_equal(e->origin_id, 1);
    assert_int_equal(e->src_host, FX_A);
    assert_int_equal(e->dst_host, FX_B);
    assert_int_equal(e->send_index, dup);
    assert_true(e->seg_ok);
    const rlog_entry *d = rlog_at(log, find_entry(log, RLOG_DELIVER, 2, 0));
    assert_int_equal(d->send_index, dup);
    const rlog_entry *delay = rlog_at(log, find_entry(log, RLOG_DELAY, 3, 0));
    assert_int_equal(delay->value_ns, 30 * FX_MS);
    assert_true(delay->seg_ok); /* no bytes in the record: the send's are shared */
}

/* A packet's fate is the first DELIVER or DROP of its id after the entry
 * asked about: the same answer as a forward scan, found through the index. */
static void packet_fate_is_its_delivery_or_drop(void **state)
{
    rlog *log = *state;
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    fx_send(log, 0, FX_A, 1, syn);
    fx_drop(log, 0, FX_A, 1, syn, SIM_DROP_LOSS);
    fx_send(log, FX_MS, FX_A, 2, syn);
    fx_send(log, 2 * FX_MS, FX_A, 3, syn);
    fx_deliver(log, 50 * FX_MS, FX_A, 2, syn);
    size_t drop = find_entry(log, RLOG_DROP, 1, 0), deliver = find_entry(log, RLOG_DELIVER, 2, 0);
    assert_int_equal(rlog_packet_fate(log, 1, find_entry(log, RLOG_SEND, 1, 0)), drop);
    assert_int_equal(rlog_packet_fate(log, 2, find_entry(log, RLOG_SEND, 2, 0)), deliver);
    assert_int_equal(rlog_packet_fate(log, 2, deliver), RLOG_NONE); /* nothing after it */
    assert_int_equal(rlog_packet_fate(log, 3, 0), RLOG_NONE);       /* in flight */
    assert_int_equal(rlog_packet_fate(log, 99, 0), RLOG_NONE);      /* never seen */
}

/* n SYNs sent and delivered, packet ids first, first + step ... */
static rlog *syns(uint32_t n, uint32_t first, uint32_t step)
{
    rlog *log = fx_new();
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    for (uint32_t i = 0; i < n; i++) {
        fx_send(log, i * FX_MS, FX_A, first + i * step, syn);
        fx_deliver(log, i * FX_MS + FX_MS / 2, FX_A, first + i * step, syn);
    }
    return log;
}

/* Ids as the core makes them (1, 2, 3 ...) are found by index, 4 bytes a
 * packet; ids far apart (a hand-made log) through the map; both answer. */
static void packet_ids_dense_or_far_apart_are_found(void **state)
{
    (void)state;
    rlog *dense = syns(2000, 1, 1), *far = syns(2000, 7, 100003);
    for (uint32_t i = 0; i < 2000; i++) {
        size_t d = rlog_packet_fate(dense, 1 + i, 0), f = rlog_packet_fate(far, 7 + i * 100003, 0);
        assert_int_equal(d, 2 * (size_t)i + 1);
        assert_int_equal(f, 2 * (size_t)i + 1);
    }
    assert_int_equal(rlog_packet_fate(far, 8, 0), RLOG_NONE);
    assert_true(rlog_bytes(dense) + 2000 * 16 <= rlog_bytes(far));
    fx_check(dense);
    fx_check(far);
    rlog_free(dense);
    rlog_free(far);
}

static void host_trace_records_are_ignored(void **state)
{
    rlog *log = *state;
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.kind = SIM_TR_HOST;
    r.text = "hello";
    rlog_sim_trace(log, &r);
    fx_check(log);
    assert_int_equal(rlog_count(log), 0);
    fx_ev(log, 0, FX_A, TCP_EV_SEG_OUT, 1, 0, NULL); /* no segment: nothing learned */
    assert_int_equal(rlog_count(log), 0);
    assert_int_equal(rlog_sock_ports(log, FX_A, 1, NULL, NULL), -1);
}

static void ports_are_learned_from_segments(void **state)
{
    rlog *log = *state;
    tcp_seg s = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    tcp_event ev = {.kind = TCP_EV_SEG_OUT, .sock = 3, .seg = &s};
    rlog_tcp_event(log, FX_A, &ev);
    fx_check(log);
    ev.kind = TCP_EV_SEG_IN;
    rlog_tcp_event(log, FX_B, &ev);
    fx_check(log);
    uint16_t l = 0, r = 0;
    assert_int_equal(rlog_sock_ports(log, FX_A, 3, &l, &r), 0);
    assert_int_equal(l, FX_A_PORT);
    assert_int_equal(r, FX_B_PORT);
    assert_int_equal(rlog_sock_ports(log, FX_B, 3, &l, &r), 0);
    assert_int_equal(l, FX_B_PORT);
    assert_int_equal(r, FX_A_PORT);
    assert_int_equal(rlog_count(log), 0);
}

/* ---- state changes and their packets ---------------------------------------------- */

static void state_changes_point_at_their_packets(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_close(log);
    /* A user call: the segment it sends. */
    size_t c = rlog_state_cause(log, find_state(log, FX_A, TCP_CLOSED, TCP_SYN_SENT));
    assert_int_equal(c, find_entry(log, RLOG_SEND, 1, 0));
    c = rlog_state_cause(log, find_state(log, FX_B, TCP_CLOSE_WAIT, TCP_LAST_ACK));
    assert_int_equal(c, find_entry(log, RLOG_SEND, 6, 0));
    /* A segment: its delivery. */
    c = rlog_state_cause(log, find_state(log, FX_B, TCP_LISTEN, TCP_SYN_RECEIVED));
    assert_int_equal(c, find_entry(log, RLOG_DELIVER, 1, 0));
    c = rlog_state_cause(log, find_state(log, FX_A, TCP_FIN_WAIT_2, TCP_TIME_WAIT));
    assert_int_equal(c, find_entry(log, RLOG_DELIVER, 6, 0));
    /* No packet: listen() and the TIME_WAIT timer. */
    assert_int_equal(rlog_state_cause(log, find_state(log, FX_B, TCP_CLOSED, TCP_LISTEN)),
                     RLOG_NONE);
    assert_int_equal(rlog_state_cause(log, find_state(log, FX_A, TCP_TIME_WAIT, TCP_CLOSED)),
                     RLOG_NONE);
    /* Not a state entry. */
    assert_int_equal(rlog_state_cause(log, 0), RLOG_NONE);
}

static void user_change_reported_after_its_send_still_links(void **state)
{
    rlog *log = *state;
    tcp_seg fin = fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0);
    fx_send(log, 100 * FX_MS, FX_A, 1, fin);
    fx_state(log, 100 * FX_MS, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL,
             "close()");
    /* Still at the same instant: the answer falls back on the earlier send. */
    assert_int_equal(rlog_state_cause(log, 1), 0);
    fx_deliver(log, 150 * FX_MS, FX_A, 1, fin);
    assert_int_equal(rlog_state_cause(log, 1), 0);
}

static void user_change_takes_the_right_flag(void **state)
{
    rlog *log = *state;
    /* A data segment goes out at the same instant before the FIN. */
    fx_state(log, 0, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_send(log, 0, FX_A, 1, fx_seg(FX_A, TCP_ACK | TCP_PSH, 101, 301, 10));
    fx_send(log, 0, FX_A, 2, fx_seg(FX_A, TCP_FIN | TCP_ACK, 111, 301, 0));
    assert_int_equal(rlog_state_cause(log, 0), 2);
}

static void segment_change_takes_the_matching_delivery(void **state)
{
    rlog *log = *state;
    tcp_seg a = fx_seg(FX_A, TCP_ACK, 101, 301, 0);
    tcp_seg f = fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0);
    fx_deliver(log, 0, FX_A, 1, f);
    fx_deliver(log, 0, FX_A, 2, a);
    fx_state(log, 0, FX_B, 2, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, &f, "rcv FIN");
    assert_int_equal(rlog_state_cause(log, 2), 0);
    /* Reported before the delivery record: linked when the delivery comes. */
    fx_state(log, 5, FX_B, 2, TCP_CLOSE_WAIT, TCP_CLOSED, TCP_CAUSE_SEGMENT, &a, "rcv RST");
    assert_int_equal(rlog_state_cause(log, 3), RLOG_NONE);
    fx_deliver(log, 5, FX_A, 3, a);
    assert_int_equal(rlog_state_cause(log, 3), 4);
}

/* ---- invariants (rlog_check) --------------------------------------------------- */

/* The first broken invariant, as rlog_check words it ("" when none). */
static const char *check_says(const rlog *log)
{
    static char why[256];
    int rc = rlog_check(log, why, sizeof why);
    assert_int_equal(rc, why[0] ? -1 : 0);
    return why;
}

static void handshake_and_close(rlog *log)
{
    fx_handshake(log);
    fx_close(log);
}

static void handshake_and_lost_final_ack(rlog *log)
{
    fx_handshake(log);
    fx_lost_final_ack(log);
}

/* The hand-made runs of rlog_fixture.h, each checked after every recording
 * by the fixture and once more here. */
static void every_fixture_run_keeps_the_invariants(void **state)
{
    (void)state;
    void (*const runs[])(rlog *) = {
        fx_handshake,          handshake_and_close, handshake_and_lost_final_ack,
        fx_simultaneous_close, fx_lost_syn,         fx_fin_ack_close,
        fx_impaired,           fx_three_hosts,
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        rlog *log = fx_new();
        runs[k](log);
        assert_string_equal(check_says(log), "");
        rlog_free(log);
    }
}

/* A recording out of time order (a caller's bug: the core traces in time
 * order) is named with both entries. */
static void out_of_order_append_is_named(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    size_t n = rlog_count(log);
    rlog_note(log, 1, "late");
    char want[160];
    snprintf(want, sizeof want,
             "time order: entry %zu (note at 1 ns) comes after entry %zu (state at "
             "150000000 ns)",
             n, n - 1);
    assert_string_equal(check_says(log), want);
}

/* What a bug inside the log would leave behind, one invariant at a time:
 * each broken by hand on a fresh handshake, named by the check, then put
 * back (the check passes again). */
static void broken_joins_and_copies_are_named(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    rlog_entry *syn_rcvd =
        (rlog_entry *)rlog_at(log, find_state(log, FX_B, TCP_LISTEN, TCP_SYN_RECEIVED));
    rlog_entry *deliver = (rlog_entry *)rlog_at(log, find_entry(log, RLOG_DELIVER, 2, 0));
    assert_string_equal(check_says(log), "");

    const char *note = syn_rcvd->note;
    char outside[] = "rcv SYN";
    syn_rcvd->note = outside; /* a caller's string kept instead of a copy */
    assert_non_null(strstr(check_says(log), "arena: entry"));
    assert_non_null(strstr(check_says(log), "(state): its note is not the log's copy"));
    syn_rcvd->note = note;

    size_t first = deliver->send_index;
    deliver->send_index = first + 1;
    assert_non_null(strstr(check_says(log), "packet 2 first appeared elsewhere"));
    deliver->send_index = first;

    syn_rcvd->time_ns += 1; /* its DELIVER is no longer at the same instant */
    assert_non_null(strstr(check_says(log), "(state LISTEN -> SYN_RECEIVED) is joined to entry"));
    syn_rcvd->time_ns -= 1;

    syn_rcvd->kind = RLOG_TIMER; /* only state changes and restarts have causes */
    assert_non_null(strstr(check_says(log), "(timer) has a cause"));
    syn_rcvd->kind = RLOG_STATE;
    assert_string_equal(check_says(log), "");
}

/* ---- connection variables ------------------------------------------------------ */

static void tcb_event(rlog *log, uint64_t t, uint32_t host, uint32_t sock, tcp_state st,
                      uint32_t snd_nxt, uint64_t rtx_at)
{
    tcp_tcb tcb;
    memset(&tcb, 0, sizeof tcb);
    tcb.state = st;
    tcb.snd_nxt = snd_nxt;
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        tcb.timer_at[k] = UINT64_MAX;
    tcb.timer_at[TCP_TIMER_RTX] = rtx_at;
    tcp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TCP_EV_TCB;
    ev.time_ns = t;
    ev.sock = sock;
    ev.from = ev.to = st;
    ev.tcb = &tcb;
    rlog_tcp_event(log, host, &ev);
}

/* A call's variables hold from the entry that began it (the user call,
 * the timer, the delivery of the segment), not from its last entry; a
 * record equal to the socket's previous one is not kept. */
static void tcb_holds_from_the_entry_that_began_the_call(void **state)
{
    rlog *log = *state;
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    fx_ev(log, 0, FX_A, TCP_EV_USER, 1, TCP_CALL_CONNECT, "connect()"); /* entry 0 */
    fx_state(log, 0, FX_A, 1, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    fx_send(log, 0, FX_A, 1, syn); /* entry 2 */
    tcb_event(log, 0, FX_A, 1, TCP_SYN_SENT, 101, 1000 * FX_MS);
    fx_deliver(log, 50 * FX_MS, FX_A, 1, syn); /* entry 3 */
    fx_ev(log, 50 * FX_MS, FX_B, TCP_EV_SEG_IN, 1, 0, NULL);
    fx_state(log, 50 * FX_MS, FX_B, 2, TCP_LISTEN, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, &syn,
             "rcv SYN");
    tcb_event(log, 50 * FX_MS, FX_B, 2, TCP_SYN_RECEIVED, 301, 1050 * FX_MS);
    tcb_event(log, 50 * FX_MS, FX_B, 1, TCP_LISTEN, 0, UINT64_MAX);
    tcb_event(log, 50 * FX_MS, FX_B, 2, TCP_SYN_RECEIVED, 301, 1050 * FX_MS); /* unchanged */
    assert_int_equal(rlog_tcb_count(log), 3);
    const rlog_tcb *a = rlog_tcb_at(log, 0), *b = rlog_tcb_at(log, 1), *l = rlog_tcb_at(log, 2);
    assert_int_equal(a->at, 0);
    assert_int_equal(a->host, FX_A);
    assert_int_equal(a->tcb.snd_nxt, 101);
    assert_int_equal(b->at, 3);
    assert_int_equal(b->sock, 2);
    assert_int_equal(b->prev, RLOG_NONE);
    assert_int_equal(l->at, 3);
    assert_int_equal(l->tcb.state, TCP_LISTEN);

    fx_ev(log, 1000 * FX_MS, FX_A, TCP_EV_TIMER, 1, TCP_TIMER_RTX, "RTO"); /* entry 5 */
    fx_send(log, 1000 * FX_MS, FX_A, 2, syn);
    tcb_event(log, 1000 * FX_MS, FX_A, 1, TCP_SYN_SENT, 101, 3000 * FX_MS);
    assert_int_equal(rlog_tcb_count(log), 4);
    const rlog_tcb *r = rlog_tcb_at(log, 3);
    assert_int_equal(r->at, 5);
    assert_int_equal(r->prev, 0);
    assert_true(r->tcb.timer_at[TCP_TIMER_RTX] == 3000 * FX_MS);
    assert_true(rlog_tcb_at(log, r->prev)->tcb.timer_at[TCP_TIMER_RTX] == 1000 * FX_MS);

    /* A call with no entry of its own at its instant: from the next entry. */
    tcb_event(log, 1200 * FX_MS, FX_B, 2, TCP_SYN_RECEIVED, 301, 2050 * FX_MS);
    assert_int_equal(rlog_tcb_at(log, 4)->at, rlog_count(log));
}

/* The first call sequence above, fed to a log. */
static void tcb_calls(rlog *log)
{
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    fx_ev(log, 0, FX_A, TCP_EV_USER, 1, TCP_CALL_CONNECT, "connect()");
    fx_state(log, 0, FX_A, 1, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    fx_send(log, 0, FX_A, 1, syn);
    tcb_event(log, 0, FX_A, 1, TCP_SYN_SENT, 101, 1000 * FX_MS);
    fx_deliver(log, 50 * FX_MS, FX_A, 1, syn);
    fx_ev(log, 50 * FX_MS, FX_B, TCP_EV_SEG_IN, 1, 0, NULL);
    fx_state(log, 50 * FX_MS, FX_B, 2, TCP_LISTEN, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, &syn,
             "rcv SYN");
    tcb_event(log, 50 * FX_MS, FX_B, 2, TCP_SYN_RECEIVED, 301, 1050 * FX_MS);
    tcb_event(log, 50 * FX_MS, FX_B, 1, TCP_LISTEN, 0, UINT64_MAX);
}

/* rlog_set_tcbs(false): no record is kept, and every entry and join is the
 * same as in a log that keeps them. */
static void without_tcbs_keeps_none_and_the_same_entries(void **state)
{
    rlog *with = *state, *without = rlog_new();
    assert_non_null(without);
    rlog_set_tcbs(without, false);
    tcb_calls(with);
    tcb_calls(without);
    assert_int_equal(rlog_tcb_count(with), 3);
    assert_int_equal(rlog_tcb_count(without), 0);
    assert_int_equal(rlog_count(without), rlog_count(with));
    for (size_t i = 0; i < rlog_count(with); i++) {
        const rlog_entry *a = rlog_at(with, i), *b = rlog_at(without, i);
        assert_int_equal(a->kind, b->kind);
        assert_int_equal(a->time_ns, b->time_ns);
        assert_int_equal(a->host, b->host);
        assert_int_equal(a->sock, b->sock);
        assert_int_equal(a->send_index, b->send_index);
        if (a->kind == RLOG_STATE)
            assert_int_equal(rlog_state_cause(with, i), rlog_state_cause(without, i));
    }
    char why[256];
    assert_int_equal(rlog_check(without, why, sizeof why), 0);
    rlog_free(without);
}

/* rlog_set_conns(false): the handshake, the close and a lost segment leave
 * their 8 SEND entries and the DROP, the same ones (kind, time, host,
 * packet, segment) as a full log holds, and none of its stack events nor
 * DELIVER entries; every SEND's fate (rlog_send_fate) is the full log's.
 * No ports are learned, and the partial log keeps the invariants. */
static void lost_segment(rlog *log)
{
    tcp_seg seg = fx_seg(FX_A, TCP_ACK, 102, 302, 0);
    fx_send(log, 61000 * FX_MS, FX_A, 8, seg);
    fx_drop(log, 61001 * FX_MS, FX_A, 8, seg, SIM_DROP_LOSS);
}

static void without_conns_keeps_the_packets_alike(void **state)
{
    rlog *with = *state, *without = fx_new();
    rlog_set_conns(without, false);
    fx_handshake(with);
    fx_close(with);
    lost_segment(with);
    fx_handshake(without);
    fx_close(without);
    lost_segment(without);
    assert_int_equal(rlog_count(without), 9);
    assert_int_equal(rlog_tcb_count(without), 0);
    assert_int_equal(rlog_sock_ports(without, FX_A, 1, NULL, NULL), -1);
    size_t k = 0;
    for (size_t i = 0; i < rlog_count(with); i++) {
        const rlog_entry *a = rlog_at(with, i);
        if (a->kind != RLOG_SEND && a->kind != RLOG_DROP)
            continue;
        assert_true(k < rlog_count(without));
        const rlog_entry *b = rlog_at(without, k);
        assert_int_equal(a->kind, b->kind);
        assert_int_equal(a->time_ns, b->time_ns);
        assert_int_equal(a->host, b->host);
        assert_int_equal(a->packet_id, b->packet_id);
        assert_true(b->seg_ok);
        assert_int_equal(a->seg->seq, b->seg->seq);
        assert_int_equal(a->seg->flags, b->seg->flags);
        assert_int_equal(rlog_peer_host(a), rlog_peer_host(b));
        if (a->kind == RLOG_SEND) {
            rlog_fate fa, fb;
            assert_true(rlog_send_fate(with, i, &fa));
            assert_true(rlog_send_fate(without, k, &fb));
            assert_int_equal(fa.kind, fb.kind);
            assert_int_equal(fa.time_ns, fb.time_ns);
            assert_int_equal(fa.drop, fb.drop);
            assert_int_equal(fb.kind, a->packet_id == 8 ? RLOG_DROP : RLOG_DELIVER);
            assert_int_equal(fb.time_ns,
                             a->packet_id == 8 ? a->time_ns + FX_MS : a->time_ns + 50 * FX_MS);
        }
        k++;
    }
    assert_int_equal(k, rlog_count(without));
    fx_check(without);
    rlog_free(without);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_has_its_own_name),
        cmocka_unit_test(every_fixture_run_keeps_the_invariants),
        cmocka_unit_test_setup_teardown(out_of_order_append_is_named, log_setup,
                                        log_teardown_unchecked),
        cmocka_unit_test_setup_teardown(broken_joins_and_copies_are_named, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(records_packets_with_parsed_segments, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(payload_points_into_the_logs_own_copy, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(sack_blocks_point_into_the_logs_own_copy, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(sack_blocks_kept_without_payload, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(without_payload_keeps_headers_and_sizes, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(notes_are_cut_and_shared, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(entries_never_move, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(entries_share_one_parse_per_packet, log_setup,
                                        log_teardown),
        cmocka_unit_test(log_bytes_do_not_grow_with_the_payload),
        cmocka_unit_test(packet_ids_dense_or_far_apart_are_found),
        cmocka_unit_test(lazy_hosts_come_with_their_first_packet),
        cmocka_unit_test_setup_teardown(corrupt_packet_is_kept_unparsed, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(duplicate_takes_its_originals_ends, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(packet_fate_is_its_delivery_or_drop, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(host_trace_records_are_ignored, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(ports_are_learned_from_segments, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(state_changes_point_at_their_packets, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(user_change_reported_after_its_send_still_links, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(user_change_takes_the_right_flag, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(tcb_holds_from_the_entry_that_began_the_call, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(without_tcbs_keeps_none_and_the_same_entries, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(segment_change_takes_the_matching_delivery, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(without_conns_keeps_the_packets_alike, log_setup,
                                        log_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
