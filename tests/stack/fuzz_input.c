/*
 * fuzz_input — libFuzzer entry: bytes into tcp_stack_input on a stack that
 * has a listener (port 80) and an established connection on it.
 *
 * Not part of the ctest build (the name is outside the test_* glob). Build
 * and run it from the repository root with:
 *
 *   mkdir -p build/fuzz-corpus
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *         -Istack tests/stack/fuzz_input.c stack/tcp_*.c -o build/fuzz_input
 *   ./build/fuzz_input -max_len=4096 -timeout=5 build/fuzz-corpus
 *
 * Each input starts from scratch: the target stack T (10.0.0.1) listens on
 * 80, a peer stack P (10.0.0.2) connects to it, and the handshake runs, so
 * T holds a listener and an ESTABLISHED child. The input is then read as
 * records:
 *
 *   byte 0   control
 *            bits 0-2  aim: 0 the bytes as given (raw)
 *                           1 IPv4 header forced sane (version, IHL 5,
 *                             total length, no fragment, protocol 6, P -> T
 *                             addresses) and both checksums recomputed
 *                           2 as 1, and the ports of the established connection
 *                           3 as 2, and seq/ack just where T expects them,
 *                             moved by the low 4 bits of the given seq/ack
 *                             bytes (-8..+7)
 *                           4 as 1, to port 80 (a new connection attempt)
 *                           5-7 as 3
 *            bits 3-5  k: before the datagram, advance the clock by
 *                         4^(k-1) ms (k > 0), running timers
 *            bit 6     afterwards, let T and P exchange what they sent
 *            bit 7     afterwards, a user call on T's child, chosen by the
 *                      length's low byte: send, recv, shutdown, close
 *   bytes 1-2  length n, big-endian; then n bytes (clipped to what is left)
 *
 * Raw bytes exercise the parser; the fixed-up ones get past the checksums
 * into the state machine. Invariants checked (abort on failure): every
 * datagram either stack outputs parses cleanly, the clock never has a timer
 * stuck at or before now, and freeing the stacks leaves nothing (ASan).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define ADDR_T    0x0a000001u
#define ADDR_P    0x0a000002u
#define WIRE_MAX  64   /* datagrams held between the two stacks */
#define DGRAM_MAX 2048 /* bigger outputs are dropped (still parsed) */
#define PUMP_MAX  256  /* deliveries per exchange */

typedef struct fz_dgram {
    size_t to; /* 0: T, 1: P */
    size_t len;
    uint8_t bytes[DGRAM_MAX];
} fz_dgram;

typedef struct fz_world fz_world;

typedef struct fz_node {
    fz_world *w;
    size_t index;
    tcp_env env;
    tcp_stack *stack;
    uint64_t rng;
} fz_node;

struct fz_world {
    uint64_t now_ns;
    fz_node node[2];
    fz_dgram wire[WIRE_MAX];
    size_t n_wire;
    tcp_seg last_t; /* the last segment T sent on the connection */
    bool have_last_t;
    uint16_t client_port;
    tcp_sock_id child, listener, client;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fz_now(void *ctx)
{
    const fz_node *n = ctx;

    return n->w->now_ns;
}

static uint64_t fz_random(void *ctx)
{
    fz_node *n = ctx;

    n->rng = n->rng * 6364136223846793005u + 1442695040888963407u;
    return n->rng >> 11;
}

static void fz_output(void *ctx, const uint8_t *bytes, size_t len)
{
    fz_node *n = ctx;
    fz_world *w = n->w;
    tcp_seg s;

    if (tcp_wire_parse(bytes, len, &s) != TCP_WIRE_OK)
        abort(); /* a stack must never emit what it would itself reject */
    if (n->index == 0 && s.dst_addr == ADDR_P && s.src_port == 80 && s.dst_port == w->client_port) {
        w->last_t = s;
        w->last_t.payload = NULL;
        w->have_last_t = true;
    }
    if (w->n_wire == WIRE_MAX || len > DGRAM_MAX)
        return;
    w->wire[w->n_wire].to = n->index == 0 ? 1 : 0;
    w->wire[w->n_wire].len = len;
    memcpy(w->wire[w->n_wire].bytes, bytes, len);
    w->n_wire++;
}

/* Delivers what is on the wire, oldest first, until it is empty. */
static void pump(fz_world *w)
{
    size_t n = 0;
    fz_dgram d;

    while (w->n_wire > 0 && n++ < PUMP_MAX) {
        d = w->wire[0];
        memmove(w->wire, w->wire + 1, (w->n_wire - 1) * sizeof w->wire[0]);
        w->n_wire--;
        tcp_stack_input(w->node[d.to].stack, d.bytes, d.len);
    }
}

static void advance(fz_world *w, uint64_t ns)
{
    uint64_t until = w->now_ns + ns, d;
    size_t i, guard = 0;

    for (;;) {
        size_t who = 2;
        uint64_t t = UINT64_MAX;

        for (i = 0; i < 2; i++) {
            d = tcp_stack_next_deadline(w->node[i].stack);
            if (d < t) {
                t = d;
                who = i;
            }
        }
        if (who == 2 || t > until || ++guard > 10000)
            break;
        if (t > w->now_ns)
            w->now_ns = t;
        tcp_stack_on_time(w->node[who].stack);
        if (tcp_stack_next_deadline(w->node[who].stack) <= w->now_ns)
            abort(); /* a timer that never moves would spin the host forever */
    }
    w->now_ns = until;
}

static bool setup(fz_world *w)
{
    const tcp_profile *p = tcp_profile_find("rfc9293");
    uint32_t raddr;
    uint16_t rport;
    size_t i;

    memset(w, 0, sizeof *w);
    for (i = 0; i < 2; i++) {
        fz_node *n = &w->node[i];

        n->w = w;
        n->index = i;
        n->rng = 0x1234 + i;
        n->env = (tcp_env){.ctx = n, .now_ns = fz_now, .random = fz_random, .output = fz_output};
        n->stack = tcp_stack_new(&n->env, i == 0 ? ADDR_T : ADDR_P, p);
        if (n->stack == NULL)
            return false;
    }
    if (tcp_socket(w->node[0].stack, &w->listener) != TCP_OK ||
        tcp_bind(w->node[0].stack, w->listener, 80) != TCP_OK ||
        tcp_listen(w->node[0].stack, w->listener, 8) != TCP_OK ||
        tcp_socket(w->node[1].stack, &w->client) != TCP_OK ||
        tcp_bind(w->node[1].stack, w->client, 0) != TCP_OK ||
        tcp_connect(w->node[1].stack, w->client, ADDR_T, 80) != TCP_OK ||
        tcp_sock_endpoints(w->node[1].stack, w->client, &w->client_port, &raddr, &rport) != 0)
        return false;
    pump(w);
    return tcp_accept(w->node[0].stack, w->listener, &w->child) == TCP_OK;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v >> 16);
    wr16(p + 2, v);
}

/* Sets the TCP header fields the aim asks for (d holds >= 40 bytes). */
static void aim_tcp(const fz_world *w, uint8_t *t, unsigned aim)
{
    uint32_t seq = rd32(t + 4), ack = rd32(t + 8);

    if (aim == 4) {
        wr16(t + 2, 80);
        return;
    }
    if (aim < 2)
        return;
    wr16(t, w->client_port);
    wr16(t + 2, 80);
    if (aim >= 3 && w->have_last_t) {
        uint32_t used =
            w->last_t.len + !!(w->last_t.flags & TCP_SYN) + !!(w->last_t.flags & TCP_FIN);

        wr32(t + 4, w->last_t.ack + (seq & 0x0f) - 8u);
        wr32(t + 8, w->last_t.seq + used + (ack & 0x0f) - 8u);
    }
}

/* Rewrites d (n >= 40 bytes) into a sane IPv4 + TCP datagram from P to T. */
static void fix_up(const fz_world *w, uint8_t *d, size_t n, unsigned aim)
{
    uint8_t *t = d + 20;
    uint32_t pseudo;
    size_t tlen = n - 20;

    d[0] = 0x45;
    wr16(d + 2, (uint32_t)n);
    wr16(d + 6, 0x4000);
    d[9] = 6;
    wr32(d + 12, ADDR_P);
    wr32(d + 16, ADDR_T);
    aim_tcp(w, t, aim);
    wr16(d + 10, 0);
    wr16(d + 10, (uint16_t)~tcp_wire_sum(d, 20, 0));
    pseudo = (ADDR_P >> 16) + (ADDR_P & 0xffff) + (ADDR_T >> 16) + (ADDR_T & 0xffff) + 6 +
             (uint32_t)tlen;
    wr16(t + 16, 0);
    wr16(t + 16, (uint16_t)~tcp_wire_sum(t, tlen, pseudo));
}

static void user_call(fz_world *w, unsigned which)
{
    static const char text[100] = "fuzz";
    uint8_t buf[256];
    tcp_stack *t = w->node[0].stack;

    switch (which & 3u) {
    case 0:
        tcp_send(t, w->child, text, sizeof text);
        break;
    case 1:
        tcp_recv(t, w->child, buf, sizeof buf);
        break;
    case 2:
        tcp_shutdown(t, w->child);
        break;
    default:
        tcp_close(t, w->child);
        break;
    }
}

/* The datagram goes in from an exact-size heap copy, so ASan sees any read
 * past its end. */
static void one_record(fz_world *w, uint8_t ctl, const uint8_t *bytes, size_t n)
{
    unsigned aim = ctl & 7u, k = (ctl >> 3) & 7u;
    size_t len = aim == 0 || n >= 40 ? n : 40;
    uint8_t *d = malloc(len > 0 ? len : 1);

    if (d == NULL)
        abort();
    if (k > 0)
        advance(w, (uint64_t)1000000u << (2 * (k - 1)));
    memset(d, 0, len);
    memcpy(d, bytes, n);
    if (aim != 0)
        fix_up(w, d, len, aim > 4 ? 3 : aim);
    tcp_stack_input(w->node[0].stack, d, len);
    free(d);
    if (ctl & 0x40u)
        pump(w);
    else
        w->n_wire = 0;
    if (ctl & 0x80u)
        user_call(w, (unsigned)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_world w;
    size_t i = 0;

    if (setup(&w)) {
        while (i + 3 <= size) {
            uint8_t ctl = data[i];
            size_t n = (size_t)data[i + 1] << 8 | data[i + 2];

            i += 3;
            if (n > size - i)
                n = size - i;
            one_record(&w, ctl, data + i, n);
            i += n;
        }
        advance(&w, 1000000000u);
    }
    for (i = 0; i < 2; i++)
        if (w.node[i].stack != NULL)
            tcp_stack_free(w.node[i].stack);
    return 0;
}
