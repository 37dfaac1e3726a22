/*
 * test_rlog_fixture — hand-made runs for the rlog tests: trace records and stack
 * events exactly as the core and the stacks would report them, with real
 * segment bytes from tcp_wire_encode.
 *
 * Hosts: A = 10.0.0.1 (host 0, port 40000), B = 10.0.0.2 (host 1, port 80),
 * one link 0 (direction 0 is A>B), 50 ms each way.
 *
 * Every recording helper ends with fx_check: a test that builds its log
 * through them has the log's invariants (rlog_check) checked after every
 * operation.
 */
#ifndef TEST_RLOG_FIXTURE_H
#define TEST_RLOG_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlog.h"

#define FX_A      0u
#define FX_B      1u
#define FX_MS     1000000ull
#define FX_A_ADDR 0x0a000001u
#define FX_B_ADDR 0x0a000002u
#define FX_A_PORT 40000u
#define FX_B_PORT 80u

/* Fails the test when the log breaks one of its invariants. */
static inline void fx_check(const rlog *log)
{
    char why[256];
    if (rlog_check(log, why, sizeof why) != 0)
        fail_msg("run log invariant broken: %s", why);
}

static inline rlog *fx_new(void)
{
    rlog *log = rlog_new();
    rlog_add_host(log, FX_A, "A", FX_A_ADDR);
    rlog_add_host(log, FX_B, "B", FX_B_ADDR);
    fx_check(log);
    return log;
}

static inline tcp_seg fx_seg(uint32_t from, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    static const uint8_t data[1460];
    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_addr = from == FX_A ? FX_A_ADDR : FX_B_ADDR;
    s.dst_addr = from == FX_A ? FX_B_ADDR : FX_A_ADDR;
    s.src_port = (uint16_t)(from == FX_A ? FX_A_PORT : FX_B_PORT);
    s.dst_port = (uint16_t)(from == FX_A ? FX_B_PORT : FX_A_PORT);
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.wnd = 65535;
    s.ttl = 64;
    s.ip_id = (uint16_t)(seq & 0xffff);
    s.payload = data;
    s.len = len;
    if (flags & TCP_SYN) {
        s.has_mss = true;
        s.mss = 1460;
    }
    return s;
}

/* A packet record of n bytes (SEND, DELIVER, DUPLICATE...). */
static inline void fx_record(rlog *log, sim_trace_kind kind, uint64_t t, uint32_t host,
                             uint32_t from, uint32_t pkt, uint32_t origin, const uint8_t *buf,
                             size_t n, uint64_t value_ns)
{
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.time = t;
    r.kind = kind;
    r.host_id = host;
    r.link_id = 0;
    r.dir = (uint8_t)(from == FX_A ? 0 : 1);
    r.packet_id = pkt;
    r.origin_id = origin;
    r.bytes = buf;
    r.len = n;
    r.value_ns = value_ns;
    rlog_sim_trace(log, &r);
    fx_check(log);
}

/* A packet record (SEND, DELIVER, DROP...) carrying seg's bytes. */
static inline void fx_packet(rlog *log, sim_trace_kind kind, uint64_t t, uint32_t host,
                             uint32_t from, uint32_t pkt, uint32_t origin, const tcp_seg *seg)
{
    uint8_t buf[1600];
    size_t n = tcp_wire_encode(seg, buf, sizeof buf);
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.time = t;
    r.kind = kind;
    r.host_id = host;
    r.link_id = 0;
    r.dir = (uint8_t)(from == FX_A ? 0 : 1);
    r.packet_id = pkt;
    r.origin_id = origin;
    r.bytes = buf;
    r.len = n;
    rlog_sim_trace(log, &r);
    fx_check(log);
}

static inline void fx_send(rlog *log, uint64_t t, uint32_t from, uint32_t pkt, tcp_seg seg)
{
    fx_packet(log, SIM_TR_SEND, t, from, from, pkt, pkt, &seg);
}

/* The delivery of packet pkt (sent by `from`) at the other host. */
static inline void fx_deliver(rlog *log, uint64_t t, uint32_t from, uint32_t pkt, tcp_seg seg)
{
    fx_packet(log, SIM_TR_DELIVER, t, from == FX_A ? FX_B : FX_A, from, pkt, pkt, &seg);
}

static inline void fx_drop(rlog *log, uint64_t t, uint32_t from, uint32_t pkt, tcp_seg seg,
                           sim_drop_reason why)
{
    uint8_t buf[1600];
    size_t n = tcp_wire_encode(&seg, buf, sizeof buf);
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.time = t;
    r.kind = SIM_TR_DROP;
    r.reason = why;
    r.host_id = from;
    r.link_id = 0;
    r.dir = (uint8_t)(from == FX_A ? 0 : 1);
    r.packet_id = r.origin_id = pkt;
    r.bytes = buf;
    r.len = n;
    rlog_sim_trace(log, &r);
    fx_check(log);
}

static inline void fx_ev(rlog *log, uint64_t t, uint32_t host, tcp_event_kind kind, uint32_t sock,
                         int detail, const char *note)
{
    tcp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.time_ns = t;
    ev.sock = sock;
    ev.detail = detail;
    ev.note = note;
    rlog_tcp_event(log, host, &ev);
    fx_check(log);
}

static inline void fx_state(rlog *log, uint64_t t, uint32_t host, uint32_t sock, tcp_state from,
                            tcp_state to, tcp_cause cause, const tcp_seg *seg, const char *note)
{
    tcp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TCP_EV_STATE;
    ev.time_ns = t;
    ev.sock = sock;
    ev.parent = host == FX_B && sock == 2 ? 1 : 0;
    ev.from = from;
    ev.to = to;
    ev.cause = cause;
    ev.seg = seg;
    ev.note = note;
    rlog_tcp_event(log, host, &ev);
    fx_check(log);
}

/* A segment from `from` at t, delivered 50 ms later, processed by a state
 * change of the receiver (when `to` differs from `was`). */
static inline void fx_exchange(rlog *log, uint64_t t, uint32_t from, uint32_t pkt, tcp_seg seg,
                               uint32_t rsock, tcp_state was, tcp_state to, const char *note)
{
    uint32_t rhost = from == FX_A ? FX_B : FX_A;
    fx_send(log, t, from, pkt, seg);
    fx_deliver(log, t + 50 * FX_MS, from, pkt, seg);
    if (was != to)
        fx_state(log, t + 50 * FX_MS, rhost, rsock, was, to, TCP_CAUSE_SEGMENT, &seg, note);
}

/* B listens (socket 1), A connects (socket 1), B's child is socket 2. ISNs
 * 100 (A) and 300 (B). Ends at 150 ms with both ESTABLISHED. */
static inline void fx_handshake(rlog *log)
{
    fx_ev(log, 0, FX_B, TCP_EV_USER, 1, TCP_CALL_LISTEN, "listen()");
    fx_state(log, 0, FX_B, 1, TCP_CLOSED, TCP_LISTEN, TCP_CAUSE_USER, NULL, "listen()");
    fx_ev(log, 0, FX_A, TCP_EV_USER, 1, TCP_CALL_CONNECT, "connect()");
    fx_state(log, 0, FX_A, 1, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    fx_exchange(log, 0, FX_A, 1, fx_seg(FX_A, TCP_SYN, 100, 0, 0), 2, TCP_LISTEN, TCP_SYN_RECEIVED,
                "rcv SYN");
    fx_exchange(log, 50 * FX_MS, FX_B, 2, fx_seg(FX_B, TCP_SYN | TCP_ACK, 300, 101, 0), 1,
                TCP_SYN_SENT, TCP_ESTABLISHED, "rcv SYN,ACK");
    fx_exchange(log, 100 * FX_MS, FX_A, 3, fx_seg(FX_A, TCP_ACK, 101, 301, 0), 2, TCP_SYN_RECEIVED,
                TCP_ESTABLISHED, "rcv ACK of SYN");
}

/* After fx_handshake: A closes at 200 ms, B at 400 ms; A ends in TIME_WAIT
 * and leaves it 2*MSL (60 s) later. */
static inline void fx_close(rlog *log)
{
    uint64_t t = 200 * FX_MS;
    fx_ev(log, t, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, "close()");
    fx_state(log, t, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_A, 4, fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0), 2, TCP_ESTABLISHED,
                TCP_CLOSE_WAIT, "rcv FIN");
    fx_exchange(log, t + 50 * FX_MS, FX_B, 5, fx_seg(FX_B, TCP_ACK, 301, 102, 0), 1, TCP_FIN_WAIT_1,
                TCP_FIN_WAIT_2, "rcv ACK of FIN");
    t = 400 * FX_MS;
    fx_ev(log, t, FX_B, TCP_EV_USER, 2, TCP_CALL_CLOSE, "close()");
    fx_state(log, t, FX_B, 2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_B, 6, fx_seg(FX_B, TCP_FIN | TCP_ACK, 301, 102, 0), 1, TCP_FIN_WAIT_2,
                TCP_TIME_WAIT, "rcv FIN");
    fx_exchange(log, t + 50 * FX_MS, FX_A, 7, fx_seg(FX_A, TCP_ACK, 102, 302, 0), 2, TCP_LAST_ACK,
                TCP_CLOSED, "rcv ACK of FIN");
    t = 450 * FX_MS + 60000 * FX_MS;
    fx_ev(log, t, FX_A, TCP_EV_TIMER, 1, TCP_TIMER_TIME_WAIT, "2MSL");
    fx_state(log, t, FX_A, 1, TCP_TIME_WAIT, TCP_CLOSED, TCP_CAUSE_TIMER, NULL, "2MSL");
}

/* A TIME-WAIT restart as the stack reports it (RFC 9293 §3.10.7.4: a FIN
 * that arrives again in TIME-WAIT is acknowledged and restarts 2*MSL). */
static inline void fx_restart(rlog *log, uint64_t t, uint32_t host, uint32_t sock,
                              const tcp_seg *seg, const char *note)
{
    tcp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TCP_EV_TIMER_RESTART;
    ev.time_ns = t;
    ev.sock = sock;
    ev.from = ev.to = TCP_TIME_WAIT;
    ev.cause = TCP_CAUSE_SEGMENT;
    ev.detail = TCP_TIMER_TIME_WAIT;
    ev.seg = seg;
    ev.note = note;
    rlog_tcp_event(log, host, &ev);
    fx_check(log);
}

/* After fx_handshake, the lost final ACK (RFC 9293 §3.10.7.4, TIME-WAIT):
 * A closes at 200 ms, B at 400 ms; A's ACK of B's FIN (packet 7) is lost,
 * B's RTO sends the FIN again at 1.4 s (packet 8), A in TIME_WAIT
 * acknowledges it again (packet 9) and restarts 2*MSL at 1.45 s; B closes at
 * 1.5 s. */
static inline void fx_lost_final_ack(rlog *log)
{
    uint64_t t = 200 * FX_MS;
    fx_state(log, t, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_A, 4, fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0), 2, TCP_ESTABLISHED,
                TCP_CLOSE_WAIT, "rcv FIN");
    fx_exchange(log, t + 50 * FX_MS, FX_B, 5, fx_seg(FX_B, TCP_ACK, 301, 102, 0), 1, TCP_FIN_WAIT_1,
                TCP_FIN_WAIT_2, "rcv ACK of FIN");
    t = 400 * FX_MS;
    tcp_seg fin = fx_seg(FX_B, TCP_FIN | TCP_ACK, 301, 102, 0);
    tcp_seg ack = fx_seg(FX_A, TCP_ACK, 102, 302, 0);
    fx_state(log, t, FX_B, 2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_B, 6, fin, 1, TCP_FIN_WAIT_2, TCP_TIME_WAIT, "rcv FIN");
    fx_send(log, t + 50 * FX_MS, FX_A, 7, ack);
    fx_drop(log, t + 75 * FX_MS, FX_A, 7, ack, SIM_DROP_FAULT);
    t = 1400 * FX_MS;
    fx_ev(log, t, FX_B, TCP_EV_TIMER, 2, TCP_TIMER_RTX, "RTO");
    fx_send(log, t, FX_B, 8, fin);
    fx_deliver(log, t + 50 * FX_MS, FX_B, 8, fin);
    fx_send(log, t + 50 * FX_MS, FX_A, 9, ack);
    fx_restart(log, t + 50 * FX_MS, FX_A, 1, &fin, "rcv FIN again");
    fx_deliver(log, t + 100 * FX_MS, FX_A, 9, ack);
    fx_state(log, t + 100 * FX_MS, FX_B, 2, TCP_LAST_ACK, TCP_CLOSED, TCP_CAUSE_SEGMENT, &ack,
             "rcv ACK of FIN");
}

/* Both ends ESTABLISHED (A seq 101, B seq 301) close at 100 ms: the FINs
 * cross, both pass through CLOSING to TIME_WAIT. */
static inline void fx_simultaneous_close(rlog *log)
{
    uint64_t t = 100 * FX_MS;
    tcp_seg fa = fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0);
    tcp_seg fb = fx_seg(FX_B, TCP_FIN | TCP_ACK, 301, 101, 0);
    tcp_seg aa = fx_seg(FX_A, TCP_ACK, 102, 302, 0);
    tcp_seg ab = fx_seg(FX_B, TCP_ACK, 302, 102, 0);
    fx_state(log, t, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_send(log, t, FX_A, 1, fa);
    fx_state(log, t, FX_B, 2, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_send(log, t, FX_B, 2, fb);
    t += 50 * FX_MS;
    fx_deliver(log, t, FX_A, 1, fa);
    fx_state(log, t, FX_B, 2, TCP_FIN_WAIT_1, TCP_CLOSING, TCP_CAUSE_SEGMENT, &fa, "rcv FIN");
    fx_send(log, t, FX_B, 3, ab);
    fx_deliver(log, t, FX_B, 2, fb);
    fx_state(log, t, FX_A, 1, TCP_FIN_WAIT_1, TCP_CLOSING, TCP_CAUSE_SEGMENT, &fb, "rcv FIN");
    fx_send(log, t, FX_A, 4, aa);
    t += 50 * FX_MS;
    fx_deliver(log, t, FX_B, 3, ab);
    fx_state(log, t, FX_A, 1, TCP_CLOSING, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, &ab, "rcv ACK of FIN");
    fx_deliver(log, t, FX_A, 4, aa);
    fx_state(log, t, FX_B, 2, TCP_CLOSING, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, &aa, "rcv ACK of FIN");
}

/* B listening; A's first SYN is lost, the retransmission 1 s later gets
 * through and is answered. */
static inline void fx_lost_syn(rlog *log)
{
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    fx_state(log, 0, FX_B, 1, TCP_CLOSED, TCP_LISTEN, TCP_CAUSE_USER, NULL, "listen()");
    fx_state(log, 0, FX_A, 1, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    fx_send(log, 0, FX_A, 1, syn);
    fx_drop(log, 0, FX_A, 1, syn, SIM_DROP_LOSS);
    uint64_t t = 1000 * FX_MS;
    fx_ev(log, t, FX_A, TCP_EV_TIMER, 1, TCP_TIMER_RTX, "RTO");
    fx_exchange(log, t, FX_A, 2, syn, 2, TCP_LISTEN, TCP_SYN_RECEIVED, "rcv SYN");
    fx_exchange(log, t + 50 * FX_MS, FX_B, 3, fx_seg(FX_B, TCP_SYN | TCP_ACK, 300, 101, 0), 1,
                TCP_SYN_SENT, TCP_ESTABLISHED, "rcv SYN,ACK");
}

/* Both ESTABLISHED; A closes at 100 ms; B's application closes as soon as
 * the FIN arrives, so B's FIN rides on the ACK of A's FIN and A goes
 * FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT on that one segment. */
static inline void fx_fin_ack_close(rlog *log)
{
    uint64_t t = 100 * FX_MS;
    tcp_seg fa = fx_seg(FX_A, TCP_FIN | TCP_ACK, 101, 301, 0);
    tcp_seg fb = fx_seg(FX_B, TCP_FIN | TCP_ACK, 301, 102, 0);
    fx_ev(log, t, FX_A, TCP_EV_USER, 1, TCP_CALL_CLOSE, "close()");
    fx_state(log, t, FX_A, 1, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_A, 1, fa, 2, TCP_ESTABLISHED, TCP_CLOSE_WAIT, "rcv FIN");
    t += 50 * FX_MS;
    fx_ev(log, t, FX_B, TCP_EV_USER, 2, TCP_CALL_CLOSE, "close()");
    fx_state(log, t, FX_B, 2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CAUSE_USER, NULL, "close()");
    fx_exchange(log, t, FX_B, 2, fb, 1, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "rcv ACK of FIN");
    fx_state(log, t + 50 * FX_MS, FX_A, 1, TCP_FIN_WAIT_2, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, &fb,
             "rcv FIN");
    fx_exchange(log, t + 50 * FX_MS, FX_A, 3, fx_seg(FX_A, TCP_ACK, 102, 302, 0), 2, TCP_LAST_ACK,
                TCP_CLOSED, "rcv ACK of FIN");
}

/* An established connection through a misbehaving link: a duplicated
 * segment, a delayed one overtaken by the next, a held FIN and a corrupted
 * ACK that the receiver rejects. */
static inline void fx_impaired(rlog *log)
{
    uint8_t buf[1600];
    tcp_seg d1 = fx_seg(FX_A, TCP_ACK | TCP_PSH, 101, 301, 100);
    fx_send(log, 0, FX_A, 1, d1);
    fx_record(log, SIM_TR_DUPLICATE, 0, FX_A, FX_A, 2, 1, buf,
              tcp_wire_encode(&d1, buf, sizeof buf), 0);
    fx_deliver(log, 50 * FX_MS, FX_A, 1, d1);
    fx_deliver(log, 50 * FX_MS, FX_A, 2, d1);
    tcp_seg d2 = fx_seg(FX_A, TCP_ACK | TCP_PSH, 201, 301, 100);
    tcp_seg d3 = fx_seg(FX_A, TCP_ACK | TCP_PSH, 301, 301, 100);
    fx_send(log, 100 * FX_MS, FX_A, 3, d2);
    fx_record(log, SIM_TR_DELAY, 100 * FX_MS, FX_A, FX_A, 3, 3, NULL, 0, 30 * FX_MS);
    fx_send(log, 110 * FX_MS, FX_A, 4, d3);
    fx_deliver(log, 160 * FX_MS, FX_A, 4, d3);
    fx_deliver(log, 180 * FX_MS, FX_A, 3, d2);
    tcp_seg fin = fx_seg(FX_A, TCP_FIN | TCP_ACK, 401, 301, 0);
    fx_send(log, 200 * FX_MS, FX_A, 5, fin);
    fx_record(log, SIM_TR_HOLD, 200 * FX_MS, FX_A, FX_A, 5, 5, NULL, 0, 0);
    fx_record(log, SIM_TR_RELEASE, 500 * FX_MS, FX_A, FX_A, 5, 5, NULL, 0, 0);
    fx_deliver(log, 550 * FX_MS, FX_A, 5, fin);
    tcp_seg ack = fx_seg(FX_B, TCP_ACK, 301, 402, 0);
    fx_send(log, 600 * FX_MS, FX_B, 6, ack);
    size_t n = tcp_wire_encode(&ack, buf, sizeof buf);
    buf[n - 1] ^= 0x10;
    fx_record(log, SIM_TR_CORRUPT, 600 * FX_MS, FX_B, FX_B, 6, 6, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 650 * FX_MS, FX_A, FX_B, 6, 6, buf, n, 0);
    fx_ev(log, 650 * FX_MS, FX_A, TCP_EV_DROP, 0, 0, "bad TCP checksum");
}

/* A third host C (10.0.0.3, host 2, port 80 too): A's SYN to C crosses B's
 * lane; C answers. Segments to and from C are on link 1. */
static inline void fx_three_hosts(rlog *log)
{
    uint8_t buf[1600];
    rlog_add_host(log, 2, "C", 0x0a000003u);
    fx_check(log);
    tcp_seg syn = fx_seg(FX_A, TCP_SYN, 100, 0, 0);
    syn.dst_addr = 0x0a000003u;
    tcp_seg synack = fx_seg(FX_B, TCP_SYN | TCP_ACK, 700, 101, 0);
    synack.src_addr = 0x0a000003u;
    fx_state(log, 0, FX_A, 1, TCP_CLOSED, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    size_t n = tcp_wire_encode(&syn, buf, sizeof buf);
    fx_record(log, SIM_TR_SEND, 0, FX_A, FX_A, 1, 1, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 50 * FX_MS, 2, FX_A, 1, 1, buf, n, 0);
    fx_state(log, 50 * FX_MS, 2, 1, TCP_LISTEN, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, &syn,
             "rcv SYN");
    n = tcp_wire_encode(&synack, buf, sizeof buf);
    fx_record(log, SIM_TR_SEND, 50 * FX_MS, 2, FX_B, 2, 2, buf, n, 0);
    fx_record(log, SIM_TR_DELIVER, 100 * FX_MS, FX_A, FX_B, 2, 2, buf, n, 0);
    fx_state(log, 100 * FX_MS, FX_A, 1, TCP_SYN_SENT, TCP_ESTABLISHED, TCP_CAUSE_SEGMENT, &synack,
             "rcv SYN,ACK");
}

#endif
