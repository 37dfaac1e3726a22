/*
 * test_listener — a listener kept as a record (tcp_ls, stack/tcp_ls.c)
 * behaves exactly as the full connection it replaces. Each life below is
 * run twice on two stacks over a fake wire: once as the stack runs it (the
 * listener a record from listen() on), and once with the record's one
 * allocation refused, which leaves the listener a full connection in a
 * pool slot (tcp_stack_ls_shrink keeps it so). Every return value, every
 * reader of tcp.h (options, counters, TCP_INFO, TCB, state, error,
 * endpoints, readable bytes), every event with its segment and TCB, and
 * every datagram's bytes go to a log; the two logs must be equal, byte for
 * byte, under each profile. The lives call everything tcp.h offers on a
 * listener: options before and after listen (those its children inherit
 * and the ISN its next child takes), listen again (a full backlog among
 * them), the calls that do not apply (send and recv each way they end,
 * bind, accept on an empty queue), segments with no connection (RST,
 * RST with SYN, ACK, neither, FIN with data, SYN with data), children
 * accepted and queued, a SYN that ends a child's TIME_WAIT, shutdown
 * (both sides), connect from LISTEN, close with children queued, abort.
 * Both forms run again under the invariant checker (the same log, no
 * violation).
 *
 * calloc is wrapped at link time (-Wl,--wrap=calloc, CMakeLists.txt):
 * with `refuse_records`, a request of sizeof(tcp_ls) bytes fails, and the
 * test checks that this did keep the listener a full connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"
#include "tcp_wire.h"

void *__real_calloc(size_t n, size_t k);
void *__wrap_calloc(size_t n, size_t k);

static bool refuse_records;
static size_t refuse_size; /* 0: none; else a request of this many bytes fails */
static unsigned refused;

void *__wrap_calloc(size_t n, size_t k)
{
    if ((refuse_records && n == 1 && k == sizeof(tcp_ls)) ||
        (refuse_size && n * k == refuse_size)) {
        refused++;
        return NULL;
    }
    return __real_calloc(n, k);
}

/* ---- Two stacks, a wire and a log ------------------------------------------ */

#define ADDR_A   0x0a000001u
#define ADDR_B   0x0a000002u
#define WIRE_MAX 64u
#define DG_MAX   2048u
#define LOG_MAX  (1u << 20)

typedef struct dgram {
    uint32_t to;
    size_t len;
    uint8_t bytes[DG_MAX];
} dgram;

typedef struct world {
    uint64_t now, rng;
    tcp_stack *st[2];
    dgram wire[WIRE_MAX];
    size_t nwire;
    char *log;
    size_t loglen;
} world;

static world W;

static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(W.log + W.loglen, LOG_MAX - W.loglen, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && W.loglen + (size_t)n < LOG_MAX);
    W.loglen += (size_t)n;
}

static uint64_t w_now(void *ctx)
{
    (void)ctx;
    return W.now;
}

static uint64_t w_random(void *ctx)
{
    (void)ctx;
    W.rng ^= W.rng << 13; /* xorshift64 */
    W.rng ^= W.rng >> 7;
    W.rng ^= W.rng << 17;
    return W.rng;
}

/* The destination address is bytes 16..19 of the IPv4 header. */
static void w_output(void *ctx, const uint8_t *d, size_t len)
{
    (void)ctx;
    logf_("out %zu:", len);
    for (size_t i = 0; i < len; i++)
        logf_("%02x", d[i]);
    logf_("\n");
    assert_true(W.nwire < WIRE_MAX && len <= DG_MAX && len >= 20);
    dgram *g = &W.wire[W.nwire++];
    g->to = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    g->len = len;
    memcpy(g->bytes, d, len);
}

static void w_event(void *ctx, const tcp_event *ev)
{
    logf_("ev %s %s t=%llu sock=%u parent=%u %s->%s %s detail=%d note=%s",
          ctx == &W.st[0] ? "A" : "B", tcp_event_name(ev->kind), (unsigned long long)ev->time_ns,
          ev->sock, ev->parent, tcp_state_name(ev->from), tcp_state_name(ev->to),
          tcp_cause_name(ev->cause), ev->detail, ev->note ? ev->note : "-");
    if (ev->seg)
        logf_(" seg %u>%u seq=%u ack=%u fl=%x len=%u", ev->seg->src_port, ev->seg->dst_port,
              ev->seg->seq, ev->seg->ack, ev->seg->flags, ev->seg->len);
    if (ev->tcb) {
        const tcp_tcb *t = ev->tcb;
        logf_(" tcb %s iss=%u irs=%u una=%u nxt=%u max=%u wnd=%u rnxt=%u rwnd=%u",
              tcp_state_name(t->state), t->iss, t->irs, t->snd_una, t->snd_nxt, t->snd_max,
              t->snd_wnd, t->rcv_nxt, t->rcv_wnd);
        for (int k = 0; k < TCP_TIMER_COUNT; k++)
            logf_(" %llu", (unsigned long long)t->timer_at[k]);
    }
    logf_("\n");
}

static const tcp_env ENV = {
    .now_ns = w_now, .random = w_random, .output = w_output, .event = w_event};

static tcp_stack *A(void)
{
    return W.st[0];
}

static tcp_stack *B(void)
{
    return W.st[1];
}

/* Delivers what is on the wire, oldest first, until it is empty. */
static void w_deliver(void)
{
    for (unsigned rounds = 0; W.nwire && rounds < 1000; rounds++) {
        dgram g = W.wire[0];
        memmove(&W.wire[0], &W.wire[1], (W.nwire - 1) * sizeof W.wire[0]);
        W.nwire--;
        tcp_stack_input(g.to == ADDR_A ? A() : B(), g.bytes, g.len);
    }
}

/* A segment from A's address to B, built as a peer would send it. */
static void w_inject(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                     const char *payload)
{
    tcp_seg seg = {.src_addr = ADDR_A,
                   .dst_addr = ADDR_B,
                   .src_port = sport,
                   .dst_port = dport,
                   .seq = seq,
                   .ack = ack,
                   .flags = flags,
                   .wnd = 8192,
                   .ttl = 64,
                   .payload = (const uint8_t *)payload,
                   .len = payload ? (uint32_t)strlen(payload) : 0};
    uint8_t buf[DG_MAX];
    size_t n = tcp_wire_encode(&seg, buf, sizeof buf);
    assert_true(n > 0);
    tcp_stack_input(B(), buf, n);
}

/* ---- What the user sees of a socket ----------------------------------------- */

static void log_rc(const char *call, long rc)
{
    logf_("%s = %ld\n", call, rc);
}

/* Every reader of tcp.h on socket id of B. */
static void log_readers(tcp_sock_id id)
{
    logf_("sock %u: state %s error %d readable %zu\n", id, tcp_state_name(tcp_sock_state(B(), id)),
          tcp_sock_error(B(), id), tcp_readable(B(), id));
    for (int o = TCP_OPT_LINGER_ZERO; o <= TCP_OPT_CORK; o++) {
        uint64_t v = 0;
        int rc = tcp_getopt(B(), id, (tcp_opt)o, &v);
        logf_(" opt%d=%d:%llu", o, rc, (unsigned long long)v);
    }
    const tcp_stats *st = tcp_sock_stats(B(), id);
    if (st)
        logf_("\n stats in %llu/%u out %llu/%u rtx %u dup %u chal %u ka %u pp %u",
              (unsigned long long)st->bytes_in, st->segs_in, (unsigned long long)st->bytes_out,
              st->segs_out, st->retransmits, st->dup_acks_in, st->challenge_acks,
              st->keepalive_probes, st->persist_probes);
    tcp_sockinfo in;
    int rc = tcp_sock_info(B(), id, &in);
    if (rc == TCP_OK)
        logf_("\n info %s ca=%u rto=%u ato=%u mss=%u/%u rtt=%u/%u cwnd=%u ss=%u inq=%u outq=%u",
              tcp_state_name(in.state), in.ca_state, in.rto_us, in.ato_us, in.snd_mss, in.rcv_mss,
              in.rtt_us, in.rttvar_us, in.snd_cwnd, in.snd_ssthresh, in.inq, in.outq);
    tcp_tcb t;
    if (tcp_sock_tcb(B(), id, &t) == 0)
        logf_("\n tcb %s iss=%u irs=%u nxt=%u rnxt=%u rwnd=%u", tcp_state_name(t.state), t.iss,
              t.irs, t.snd_nxt, t.rcv_nxt, t.rcv_wnd);
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    rc = tcp_sock_endpoints(B(), id, &lport, &raddr, &rport);
    logf_("\n ends %d %u %x %u\n", rc, lport, raddr, rport);
}

/* Whether B's listener l is a record (else a full connection). */
static bool is_record(tcp_sock_id l)
{
    return tcp_stack_find_ls(B(), l) != NULL;
}

/* ---- The lives ---------------------------------------------------------------- */

typedef enum {
    END_CLOSE,
    END_SHUTDOWN,
    END_SHUT_RD,
    END_CONNECT,
    END_ABORT,
    END_REOPEN,
    END_N
} ending;

/* A world of two stacks of this profile, its log empty. */
static void w_start(const char *profile, uint64_t rng)
{
    memset(&W, 0, sizeof W);
    W.log = malloc(LOG_MAX);
    assert_non_null(W.log);
    W.now = 1000000000ull;
    W.rng = rng;
    const tcp_profile *p = tcp_profile_find(profile);
    /* The event callback tells the stacks apart by their context. */
    W.st[0] = tcp_stack_new(&ENV, &W.st[0], ADDR_A, p);
    W.st[1] = tcp_stack_new(&ENV, &W.st[1], ADDR_B, p);
    assert_non_null(A());
    assert_non_null(B());
}

/* The calls that find no byte on a listener (recv, send), each way they
 * can end. */
static void calls_without_bytes(tcp_sock_id l)
{
    char buf[16];
    log_rc("recv", tcp_recv(B(), l, buf, sizeof buf));
    log_rc("recv 0", tcp_recv(B(), l, buf, 0));
    log_rc("recv NULL", tcp_recv(B(), l, NULL, 4));
    log_rc("send", tcp_send(B(), l, "x", 1));
    log_rc("send NULL", tcp_send(B(), l, NULL, 3));
}

/* A connects from port `cport` to B's port 80 and the handshake runs. */
static tcp_sock_id client(uint16_t cport)
{
    tcp_sock_id c = 0;
    assert_int_equal(tcp_socket(A(), &c), TCP_OK);
    log_rc("A bind", tcp_bind(A(), c, cport));
    log_rc("A connect", tcp_connect(A(), c, ADDR_B, 80));
    w_deliver();
    return c;
}

/* B's accepted child `got` (A's c1) closes first and ends in TIME_WAIT;
 * a SYN from c1's port above its RCV.NXT then reaches the listener
 * (linux, bsd: RFC 1122 §4.2.2.13) or a challenge ACK (rfc9293). */
static void reopen_from_time_wait(tcp_sock_id l, tcp_sock_id got, tcp_sock_id c1)
{
    log_rc("listen again 8", tcp_listen(B(), l, 8));
    log_rc("close child", tcp_close(B(), got));
    w_deliver();
    char buf[16]; /* read first: unread data would close c1 with an RST */
    log_rc("A recv", tcp_recv(A(), c1, buf, sizeof buf));
    log_rc("close c1 first", tcp_close(A(), c1));
    w_deliver();
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(B(), got, &t), 0);
    assert_int_equal(t.state, TCP_TIME_WAIT);
    w_inject(6001, 80, t.rcv_nxt + 100000u, 0, TCP_SYN, NULL);
    w_deliver();
    log_readers(l);
}

/* An invariant the checker finds broken goes to the log. */
static void on_violation(void *ctx, const tcp_check_report *r)
{
    (void)ctx;
    char line[512];
    tcp_check_format(r, line, sizeof line);
    logf_("VIOLATION %s\n", line);
}

static void life(const char *profile, ending end, bool records, bool checked)
{
    refuse_records = !records;
    refused = 0;
    w_start(profile, 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tcp_check_enable(W.st[i], checked, on_violation, NULL), 0);

    tcp_sock_id l = 0;
    assert_int_equal(tcp_socket(B(), &l), TCP_OK);
    log_rc("setopt sndbuf", tcp_setopt(B(), l, TCP_OPT_SNDBUF, 3000));
    log_rc("setopt keepidle", tcp_setopt(B(), l, TCP_OPT_KEEPIDLE_NS, 7000000000ull));
    log_rc("setopt nodelay", tcp_setopt(B(), l, TCP_OPT_NODELAY, 1));
    log_rc("bind", tcp_bind(B(), l, 80));
    log_rc("listen", tcp_listen(B(), l, 1));
    assert_int_equal(is_record(l), records);
    assert_int_equal(refused, records ? 0 : 1);
    log_readers(l);
    /* The options a child inherits, set on the listener. */
    log_rc("setopt rcvbuf", tcp_setopt(B(), l, TCP_OPT_RCVBUF, 5000));
    log_rc("setopt mss", tcp_setopt(B(), l, TCP_OPT_MSS, 700));
    log_rc("setopt msl", tcp_setopt(B(), l, TCP_OPT_MSL_NS, 2000000000ull));
    log_rc("setopt keepalive", tcp_setopt(B(), l, TCP_OPT_KEEPALIVE, 1));
    log_rc("setopt keepcnt", tcp_setopt(B(), l, TCP_OPT_KEEPCNT, 3));
    log_rc("setopt isn", tcp_setopt(B(), l, TCP_OPT_ISN, 777));
    log_rc("setopt cork", tcp_setopt(B(), l, TCP_OPT_CORK, 0));
    log_rc("setopt bad", tcp_setopt(B(), l, TCP_OPT_MSS, 10));
    log_rc("setopt sndbuf late", tcp_setopt(B(), l, TCP_OPT_SNDBUF, 4000));
    /* Calls that do not apply to a listener. */
    tcp_sock_id got = 0;
    calls_without_bytes(l);
    log_rc("bind again", tcp_bind(B(), l, 81));
    log_rc("accept empty", tcp_accept(B(), l, &got));
    log_rc("accept no out", tcp_accept(B(), l, NULL));
    log_rc("listen again", tcp_listen(B(), l, 2));
    log_readers(l);
    /* Segments with no connection: RST ignored (with a SYN too), ACK
     * answered with RST, neither SYN nor ACK dropped, SYN with data (the
     * text is not kept). */
    w_inject(5000, 80, 100, 0, TCP_RST, NULL);
    w_inject(5000, 80, 100, 0, TCP_RST | TCP_SYN, NULL);
    w_inject(5001, 80, 100, 999, TCP_ACK, NULL);
    w_inject(5003, 80, 100, 0, TCP_FIN, "fin");
    w_inject(5004, 80, 100, 0, 0, NULL);
    w_inject(5002, 80, 100, 0, TCP_SYN, "hi");
    W.nwire = 0; /* the SYN,ACK to 5002 goes nowhere: a child left in SYN_RECEIVED */
    tcp_sock_id c1 = client(6001);
    tcp_sock_id c2 = client(6002);
    /* A backlog of 0 is full now, under every profile's rule. */
    log_rc("listen backlog 0", tcp_listen(B(), l, 0));
    w_inject(5005, 80, 100, 0, TCP_SYN, NULL);
    W.nwire = 0;
    log_rc("listen backlog 2", tcp_listen(B(), l, 2));
    log_readers(l);
    log_rc("accept", tcp_accept(B(), l, &got));
    if (got) {
        log_rc("send child", tcp_send(B(), got, "hello", 5));
        w_deliver();
        log_readers(got);
    }
    assert_int_equal(is_record(l), records);
    switch (end) {
    case END_CLOSE:
        break;
    case END_SHUTDOWN:
        log_rc("shutdown", tcp_shutdown(B(), l));
        log_readers(l);
        calls_without_bytes(l);
        log_rc("listen after", tcp_listen(B(), l, 4));
        log_rc("connect after", tcp_connect(B(), l, ADDR_A, 7000));
        break;
    case END_SHUT_RD:
        log_rc("shutdown rd", tcp_shutdown_read(B(), l));
        log_readers(l);
        calls_without_bytes(l);
        log_rc("accept after", tcp_accept(B(), l, &got));
        log_rc("accept again", tcp_accept(B(), l, &got));
        log_rc("shutdown rd again", tcp_shutdown_read(B(), l));
        log_rc("so_error", tcp_sock_take_error(B(), l));
        log_rc("so_error again", tcp_sock_take_error(B(), l));
        log_rc("accept after so_error", tcp_accept(B(), l, &got));
        break;
    case END_CONNECT: {
        /* Only a listener with nothing queued may connect (rfc9293). */
        tcp_sock_id l2 = 0;
        assert_int_equal(tcp_socket(B(), &l2), TCP_OK);
        log_rc("bind 2", tcp_bind(B(), l2, 90));
        log_rc("listen 2", tcp_listen(B(), l2, 4));
        log_rc("connect from listen", tcp_connect(B(), l2, ADDR_A, 7000));
        w_deliver();
        log_readers(l2);
        log_rc("close 2", tcp_close(B(), l2));
        w_deliver();
        break;
    }
    case END_ABORT:
        log_rc("abort", tcp_abort(B(), l));
        w_deliver();
        break;
    case END_REOPEN:
        if (got)
            reopen_from_time_wait(l, got, c1);
        break;
    default:
        break;
    }
    log_readers(l);
    log_rc("close", tcp_close(B(), l));
    w_deliver();
    log_readers(l);
    log_rc("close again", tcp_close(B(), l));
    log_rc("close c1", tcp_close(A(), c1));
    log_rc("close c2", tcp_close(A(), c2));
    W.now += 300000000000ull; /* past every timer */
    for (int i = 0; i < 2; i++)
        tcp_stack_on_time(W.st[i]);
    w_deliver();
    logf_("conns %zu %zu\n", tcp_stack_conns(A()), tcp_stack_conns(B()));
    tcp_stack_free(A());
    tcp_stack_free(B());
    refuse_records = false;
}

/* The log of the life just run equals `full`, or the test fails showing
 * where they part. */
static void same_log(const char *full, size_t full_len, const char *profile, ending end,
                     const char *how)
{
    if (full_len == W.loglen && memcmp(full, W.log, full_len) == 0)
        return;
    size_t k = 0;
    while (k < full_len && k < W.loglen && full[k] == W.log[k])
        k++;
    size_t from = k > 200 ? k - 200 : 0;
    print_message("%s, ending %d, %s: the logs part at byte %zu:\nfull: %.400s\nthis: %.400s\n",
                  profile, end, how, k, full + from, W.log + from);
    fail();
}

static void a_record_behaves_as_the_connection_it_replaces(void **state)
{
    (void)state;
    const char *profiles[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        for (int end = 0; end < END_N; end++) {
            life(profiles[i], (ending)end, false, false);
            char *full = W.log;
            size_t full_len = W.loglen;
            /* The record, and both forms under the invariant checker
             * (which reads a record rebuilt: tcp_stack_ls_settle). */
            life(profiles[i], (ending)end, true, false);
            same_log(full, full_len, profiles[i], (ending)end, "record");
            free(W.log);
            life(profiles[i], (ending)end, false, true);
            same_log(full, full_len, profiles[i], (ending)end, "full, checked");
            free(W.log);
            life(profiles[i], (ending)end, true, true);
            same_log(full, full_len, profiles[i], (ending)end, "record, checked");
            /* The lives did something: segments and events on both ends. */
            assert_true(W.loglen > 10000);
            assert_null(strstr(W.log, "VIOLATION"));
            assert_non_null(strstr(W.log, "RST in LISTEN"));
            assert_non_null(strstr(W.log, "ACK in LISTEN"));
            assert_non_null(strstr(W.log, "note=no SYN"));
            assert_non_null(strstr(W.log, "note=backlog full"));
            if (end == END_REOPEN && i > 0) /* linux, bsd */
                assert_non_null(strstr(W.log, "rcv SYN (new connection)"));
            free(full);
            free(W.log);
        }
    }
}

/* ---- Hostile segments to a listener ----------------------------------------- */

typedef enum { SPOIL_NONE, SPOIL_CHECKSUM, SPOIL_TRUNCATE, SPOIL_OPTION } spoil;

/* The TCP checksum of datagram d (n bytes, a 20-byte IPv4 header) made
 * right again after its bytes were changed. */
static void fix_tcp_checksum(uint8_t *d, size_t n)
{
    uint32_t src = (uint32_t)d[12] << 24 | (uint32_t)d[13] << 16 | (uint32_t)d[14] << 8 | d[15];
    uint32_t dst = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    uint32_t pseudo =
        (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + 6u + (uint32_t)(n - 20);
    d[36] = d[37] = 0;
    uint16_t sum = (uint16_t)~tcp_wire_sum(d + 20, n - 20, pseudo);
    d[36] = (uint8_t)(sum >> 8);
    d[37] = (uint8_t)sum;
}

/* Segment t to B's port 80 (from A's address unless t sets one), its
 * bytes spoiled as `how` says; the wire is emptied first, so what B sends
 * in answer is what is on it after. */
static void w_inject_seg(tcp_seg t, spoil how)
{
    t.src_addr = t.src_addr ? t.src_addr : ADDR_A;
    t.dst_addr = ADDR_B;
    t.dst_port = 80;
    t.ttl = 64;
    t.len = t.payload ? t.len : 0;
    uint8_t buf[DG_MAX];
    size_t n = tcp_wire_encode(&t, buf, sizeof buf);
    assert_true(n >= 40);
    switch (how) {
    case SPOIL_CHECKSUM:
        buf[24] ^= 0x01u; /* a bit of the sequence number */
        break;
    case SPOIL_TRUNCATE:
        n -= 4; /* shorter than its IPv4 total length */
        break;
    case SPOIL_OPTION:
        assert_int_equal(buf[40], 2); /* the MSS option first: kind 2, length 4 */
        buf[41] = 3;                  /* RFC 9293 §3.1: an illegal option length */
        fix_tcp_checksum(buf, n);
        break;
    default:
        break;
    }
    W.nwire = 0;
    logf_("inject %u fl=%x seq=%u ack=%u len=%u spoil=%d\n", t.src_port, t.flags, t.seq, t.ack,
          t.len, (int)how);
    tcp_stack_input(B(), buf, n);
}

/* The segment B sent in answer: exactly one, parsed. */
static tcp_seg answer(void)
{
    assert_int_equal(W.nwire, 1);
    tcp_seg g;
    assert_int_equal(tcp_wire_parse(W.wire[0].bytes, W.wire[0].len, &g), TCP_WIRE_OK);
    return g;
}

/* B's connection on (80, A, port): a child of the listener. */
static tcp_conn *child_of(uint16_t port)
{
    tcp_sk *e = tcp_stack_lookup(B(), 80, ADDR_A, port);
    assert_non_null(e);
    assert_false(e->ls || e->tw);
    return (tcp_conn *)e;
}

/* Segments a listener must survive, each checked against the rule that
 * decides it; every one also goes to the log the four forms compare. */
static void hostile_life(const char *profile, bool records, bool checked)
{
    refuse_records = !records;
    refused = 0;
    w_start(profile, 0x2545f4914f6cdd1dull);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tcp_check_enable(W.st[i], checked, on_violation, NULL), 0);
    const tcp_profile *p = tcp_profile_find(profile);
    tcp_sock_id l = 0;
    assert_int_equal(tcp_socket(B(), &l), TCP_OK);
    assert_int_equal(tcp_bind(B(), l, 80), TCP_OK);
    assert_int_equal(tcp_listen(B(), l, 64), TCP_OK);
    assert_int_equal(is_record(l), records);
    const tcp_stats *st = tcp_sock_stats(B(), l);
    static char big[1001];
    memset(big, 'x', sizeof big - 1);

    /* Spoiled bytes never reach the listener: counted as malformed and
     * dropped, nothing sent (tcp_wire.h; RFC 9293 §3.1 MUST-2/MUST-3 for
     * the checksum, "MUST be prepared to handle an illegal option length"). */
    tcp_seg syn = {
        .src_port = 5100, .seq = 1000, .flags = TCP_SYN, .wnd = 8192, .has_mss = true, .mss = 1000};
    w_inject_seg(syn, SPOIL_CHECKSUM);
    w_inject_seg(syn, SPOIL_TRUNCATE);
    w_inject_seg(syn, SPOIL_OPTION);
    tcp_seg p0 = {.src_port = 0, .seq = 1000, .flags = TCP_SYN, .wnd = 8192};
    w_inject_seg(p0, SPOIL_NONE);
    assert_int_equal(tcp_stack_malformed(B()), 4);
    assert_int_equal(st->segs_in, 0);
    assert_int_equal(W.nwire, 0);

    /* RFC 9293 §3.10.7.2 first check: an RST is ignored, whatever else
     * it carries (SYN, or every flag). */
    tcp_seg sr = {.src_port = 5101, .seq = 1000, .flags = TCP_SYN | TCP_RST, .wnd = 8192};
    w_inject_seg(sr, SPOIL_NONE);
    assert_int_equal(W.nwire, 0);
    sr.flags = 0xff;
    w_inject_seg(sr, SPOIL_NONE);
    assert_int_equal(W.nwire, 0);
    /* Second check: anything with an ACK (a SYN too, a FIN with text) is
     * answered <SEQ=SEG.ACK><CTL=RST>. */
    tcp_seg sa = {
        .src_port = 5102, .seq = 1000, .ack = 4242, .flags = TCP_SYN | TCP_ACK, .wnd = 8192};
    w_inject_seg(sa, SPOIL_NONE);
    tcp_seg g = answer();
    assert_int_equal(g.flags, TCP_RST);
    assert_int_equal(g.seq, 4242);
    sa.flags = TCP_FIN | TCP_ACK | TCP_PSH;
    sa.payload = (const uint8_t *)"bye";
    sa.len = 3;
    w_inject_seg(sa, SPOIL_NONE);
    g = answer();
    assert_int_equal(g.flags, TCP_RST);
    assert_int_equal(g.seq, 4242);
    /* Fourth: neither SYN nor RST nor ACK, text or not, is dropped. */
    tcp_seg bare = {.src_port = 5103,
                    .seq = 1000,
                    .flags = TCP_PSH,
                    .wnd = 0,
                    .payload = (const uint8_t *)"data",
                    .len = 4};
    w_inject_seg(bare, SPOIL_NONE);
    assert_int_equal(W.nwire, 0);
    assert_int_equal(st->segs_in, 5);
    assert_null(tcp_stack_lookup(B(), 80, ADDR_A, 5103));

    /* Third check: a SYN makes a child that answers <SEQ=ISS><ACK=RCV.NXT>
     * <CTL=SYN,ACK>, RCV.NXT = SEG.SEQ + 1: text on the SYN is not
     * acknowledged, nor a FIN with it (FreeBSD tcp-testsuite
     * rcv-syn-fin-*-listen-dropping-disabled, drop_synfin's default 0:
     * "S. 0:0(0) ack 18" for "SF 17:17(0)"). Linux drops a SYN with FIN
     * in LISTEN (tcp_rcv_state_process: "if (th->fin) goto discard"). */
    tcp_seg sd = {.src_port = 5104,
                  .seq = 7000,
                  .flags = TCP_SYN | TCP_PSH,
                  .wnd = 8192,
                  .payload = (const uint8_t *)big,
                  .len = 1000};
    w_inject_seg(sd, SPOIL_NONE);
    g = answer();
    assert_int_equal(g.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(g.ack, 7001);
    tcp_seg sf = {.src_port = 5105, .seq = 17, .flags = TCP_SYN | TCP_FIN, .wnd = 8192};
    w_inject_seg(sf, SPOIL_NONE);
    if (strcmp(profile, "linux") == 0) {
        assert_int_equal(W.nwire, 0);
        assert_null(tcp_stack_lookup(B(), 80, ADDR_A, 5105));
        assert_non_null(strstr(W.log, "note=SYN with FIN"));
    } else {
        g = answer();
        assert_int_equal(g.flags, TCP_SYN | TCP_ACK);
        assert_int_equal(g.ack, 18);
    }
    /* Options at their edges: a zero window, the largest MSS, a shift
     * count above 14 (RFC 7323 §2.3: "MUST use 14 instead"), a zero
     * timestamp; an MSS of 0, taken as no MSS option: the default 536
     * (RFC 9293 §3.7.1 MUST-15; Linux tcp_parse_options ignores a zero
     * MSS too); urgent data on the SYN. */
    tcp_seg so = {.src_port = 5106,
                  .seq = 9000,
                  .flags = TCP_SYN,
                  .wnd = 0,
                  .has_mss = true,
                  .mss = 65535,
                  .has_wscale = true,
                  .wscale = 255,
                  .has_sack_perm = true,
                  .has_ts = true,
                  .ts_val = 0};
    w_inject_seg(so, SPOIL_NONE);
    g = answer();
    assert_int_equal(g.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(g.ack, 9001);
    assert_true(g.has_mss && g.mss <= 1460);
    if (p->send_wscale)
        assert_int_equal(child_of(5106)->snd_wscale, 14);
    assert_int_equal(child_of(5106)->snd_wnd, 0);
    tcp_seg sm = {
        .src_port = 5107, .seq = 9000, .flags = TCP_SYN, .wnd = 8192, .has_mss = true, .mss = 0};
    w_inject_seg(sm, SPOIL_NONE);
    (void)answer();
    assert_int_equal(child_of(5107)->snd_mss, TCP_MSS_DEFAULT);
    tcp_seg su = {.src_port = 5108,
                  .seq = 9000,
                  .flags = TCP_SYN | TCP_URG,
                  .urg = 5,
                  .wnd = 8192,
                  .payload = (const uint8_t *)"urgent",
                  .len = 6};
    w_inject_seg(su, SPOIL_NONE);
    g = answer();
    assert_int_equal(g.ack, 9001);
    assert_int_equal(st->segs_in, 10);
    /* A SYN again on a child's 4-tuple is the child's, not the listener's. */
    w_inject_seg(so, SPOIL_NONE);
    assert_int_equal(st->segs_in, 10);
    /* A SYN from B's own address and port 80 to itself: the child's
     * SYN,ACK comes back to it, out of its window, and each ACK it answers
     * with too. A profile that limits such ACKs (Linux
     * tcp_oow_rate_limited, FreeBSD ack_war_cnt) ends the
     * exchange; rfc9293 answers each one (§3.10.7.4), as long as the
     * wire carries them (the wire's 1000 rounds here). */
    tcp_seg land = {.src_addr = ADDR_B, .src_port = 80, .seq = 500, .flags = TCP_SYN, .wnd = 8192};
    w_inject_seg(land, SPOIL_NONE);
    w_deliver();
    if (p->oow_ack_limit)
        assert_int_equal(W.nwire, 0);
    W.nwire = 0;
    log_readers(l);

    /* The children that never complete time out; the listener stays. */
    W.now += 300000000000ull;
    tcp_stack_on_time(B());
    W.nwire = 0;
    log_readers(l);
    logf_("conns %zu malformed %llu\n", tcp_stack_conns(B()),
          (unsigned long long)tcp_stack_malformed(B()));
    assert_int_equal(tcp_sock_state(B(), l), TCP_LISTEN);
    assert_int_equal(is_record(l), records);
    assert_int_equal(tcp_close(B(), l), TCP_OK);
    W.now += 300000000000ull;
    tcp_stack_on_time(B());
    W.nwire = 0;
    logf_("conns %zu\n", tcp_stack_conns(B()));
    tcp_stack_free(A());
    tcp_stack_free(B());
    refuse_records = false;
}

static void a_listener_survives_hostile_segments_in_both_forms(void **state)
{
    (void)state;
    const char *profiles[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        hostile_life(profiles[i], false, false);
        char *full = W.log;
        size_t full_len = W.loglen;
        hostile_life(profiles[i], true, false);
        same_log(full, full_len, profiles[i], END_N, "hostile, record");
        free(W.log);
        hostile_life(profiles[i], false, true);
        same_log(full, full_len, profiles[i], END_N, "hostile, full, checked");
        free(W.log);
        hostile_life(profiles[i], true, true);
        same_log(full, full_len, profiles[i], END_N, "hostile, record, checked");
        assert_null(strstr(W.log, "VIOLATION"));
        assert_non_null(strstr(W.log, "RST in LISTEN"));
        assert_non_null(strstr(W.log, "ACK in LISTEN"));
        assert_non_null(strstr(W.log, "note=no SYN"));
        free(full);
        free(W.log);
    }
}

/* A listener that connects (rfc9293's listen_connect) needs a pool slot;
 * when none can be had the call answers TCP_ENOMEM and the listener is
 * left as it was: a record, listening, answering a SYN. */
static void a_listener_that_cannot_have_a_slot_stays_listening(void **state)
{
    (void)state;
    w_start("rfc9293", 1);
    tcp_sock_id l = 0, x = 0, y = 0;
    assert_int_equal(tcp_socket(B(), &l), TCP_OK);
    assert_int_equal(tcp_socket(B(), &x), TCP_OK);
    assert_int_equal(tcp_bind(B(), l, 80), TCP_OK);
    assert_int_equal(tcp_listen(B(), l, 4), TCP_OK);
    assert_non_null(tcp_stack_find_ls(B(), l));
    assert_int_equal(tcp_socket(B(), &y), TCP_OK); /* the slot the listener left */
    assert_null(B()->pool.free);
    /* The pool's next chunk: two slots (tcp_stack.c, pool_chunk_len). */
    refuse_size = sizeof(tcp_chunk) + 2 * tcp_conn_slot_size(B());
    refused = 0;
    assert_int_equal(tcp_connect(B(), l, ADDR_A, 7000), TCP_ENOMEM);
    refuse_size = 0;
    assert_int_equal(refused, 1);
    assert_non_null(tcp_stack_find_ls(B(), l));
    assert_int_equal(tcp_sock_state(B(), l), TCP_LISTEN);
    W.loglen = 0;
    w_inject(5000, 80, 100, 0, TCP_SYN, NULL);
    assert_non_null(strstr(W.log, "LISTEN->SYN_RECEIVED"));
    /* With memory, it connects: a connection in a pool slot again. */
    W.nwire = 0;
    tcp_sock_id got = 0;
    assert_int_equal(tcp_accept(B(), l, &got), TCP_EAGAIN);
    tcp_sock_id l2 = 0;
    assert_int_equal(tcp_socket(B(), &l2), TCP_OK);
    assert_int_equal(tcp_bind(B(), l2, 90), TCP_OK);
    assert_int_equal(tcp_listen(B(), l2, 4), TCP_OK);
    assert_non_null(tcp_stack_find_ls(B(), l2));
    assert_int_equal(tcp_connect(B(), l2, ADDR_A, 7000), TCP_OK);
    assert_null(tcp_stack_find_ls(B(), l2));
    assert_non_null(tcp_stack_find(B(), l2));
    assert_int_equal(tcp_sock_state(B(), l2), TCP_SYN_SENT);
    tcp_stack_free(A());
    tcp_stack_free(B());
    free(W.log);
}

/* tcp.h rule 2: ids are never reused. A stack that gave out the last
 * (UINT32_MAX) makes no socket again: tcp_socket answers TCP_EMFILE and a
 * SYN to a listener is dropped; what exists keeps working. */
static void a_stack_out_of_ids_refuses_new_sockets(void **state)
{
    (void)state;
    w_start("rfc9293", 1);
    tcp_sock_id l = 0, x = 0, y = 0;
    assert_int_equal(tcp_socket(B(), &l), TCP_OK);
    assert_int_equal(tcp_bind(B(), l, 80), TCP_OK);
    assert_int_equal(tcp_listen(B(), l, 4), TCP_OK);
    B()->next_id = UINT32_MAX; /* as after 2^32 - 2 sockets */
    assert_int_equal(tcp_socket(B(), &x), TCP_OK);
    assert_int_equal(x, UINT32_MAX);
    assert_int_equal(tcp_socket(B(), &y), TCP_EMFILE);
    assert_int_equal(y, 0);
    assert_string_equal(tcp_err_name(TCP_EMFILE), "EMFILE");
    W.loglen = 0;
    w_inject(5000, 80, 100, 0, TCP_SYN, NULL);
    assert_non_null(strstr(W.log, "note=out of socket ids"));
    assert_null(strstr(W.log, "SYN_RECEIVED"));
    assert_int_equal(W.nwire, 0);
    assert_int_equal(tcp_stack_conns(B()), 2);
    /* The sockets there are still work; a closed one gives no id back. */
    tcp_sock_id got = 0;
    assert_int_equal(tcp_accept(B(), l, &got), TCP_EAGAIN);
    assert_int_equal(tcp_setopt(B(), x, TCP_OPT_NODELAY, 1), TCP_OK);
    assert_int_equal(tcp_close(B(), x), TCP_OK);
    assert_int_equal(tcp_stack_conns(B()), 1);
    assert_int_equal(tcp_socket(B(), &y), TCP_EMFILE);
    assert_int_equal(tcp_close(B(), l), TCP_OK);
    assert_int_equal(tcp_stack_conns(B()), 0);
    tcp_stack_free(A());
    tcp_stack_free(B());
    free(W.log);
}

/* A listening socket costs its record and its queues; the record is a
 * third of a connection's slot. */
static void a_listener_record_is_a_third_of_a_slot(void **state)
{
    (void)state;
    print_message("tcp_ls %zu bytes (tcp_conn %zu, tcp_lq %zu)\n", sizeof(tcp_ls), sizeof(tcp_conn),
                  sizeof(tcp_lq));
    assert_true(sizeof(tcp_ls) <= 136);
    assert_true(3 * sizeof(tcp_ls) <= sizeof(tcp_conn) + 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_behaves_as_the_connection_it_replaces),
        cmocka_unit_test(a_listener_that_cannot_have_a_slot_stays_listening),
        cmocka_unit_test(a_listener_record_is_a_third_of_a_slot),
        cmocka_unit_test(a_stack_out_of_ids_refuses_new_sockets),
        cmocka_unit_test(a_listener_survives_hostile_segments_in_both_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
