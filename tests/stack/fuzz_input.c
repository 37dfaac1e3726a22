/*
 * fuzz_input — libFuzzer entry: bytes into a simulated host's TCP stack
 * through sim/net (the glue, its records and deferred callbacks, the link
 * and the event loop all run), on a host that has a listener (port 80) and
 * an established connection on it.
 *
 * Build and run it from the repository root with:
 *
 *   mkdir -p build/fuzz-corpus
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *         -Isim/net -Isim/core -Istack -Isim/kern tests/stack/fuzz_input.c \
 *         sim/net/net_*.c sim/core/sim_*.c stack/tcp_*.c sim/kern/kern_*.c \
 *         -o build/fuzz_input
 *   ./build/fuzz_input -max_len=4096 -timeout=5 build/fuzz-corpus
 *
 * Built with -DFUZZ_REPLAY it has a main() that runs each file named on the
 * command line (or a built-in input touching every record kind) once; ctest
 * stack/fuzz_replay builds and runs it that way, and stack/fuzz_replay_findings
 * on every input of tests/stack/corpus/input/ (past findings).
 *
 * Each input starts from scratch: the target host T (10.0.0.1) listens on
 * 80, a peer host P (10.0.0.2) on a 1 ms link connects to it, and the
 * handshake runs, so T holds a listener and an ESTABLISHED child. Byte 0
 * picks both hosts' profile: bits 0-1 rfc9293, linux, bsd, or (3) linux
 * with its receive-window knobs pushed to the edges of what a scenario may
 * set, from bits 2-7 (scaling_ratio, rcv_win_ratio, rcvbuf and rcvbuf_max,
 * SACK compression's delay, slack and count; see pick_knobs). The rest is
 * read as records:
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
 *                           5 as 3, the seq moved forward by the given
 *                             seq's low byte x 64 instead (out of order,
 *                             up to 16 kB past RCV.NXT)
 *                           6-7 as 3
 *            bits 3-5  k: before the datagram, run the world for
 *                         4^(k-1) ms (k > 0): timers fire, the link delivers
 *            bit 6     afterwards, run the world for 10 ms (T and P
 *                      exchange what they sent)
 *            bit 7     afterwards, a user call on T's child, chosen by the
 *                      length's low byte: send, recv, shutdown, close
 *   bytes 1-2  length n, big-endian; then n bytes (clipped to what is left)
 *
 * The datagram is handed to T's stack with net_host_input. Raw bytes
 * exercise the parser; the fixed-up ones get past the checksums into the
 * state machine. Invariants checked (abort on failure): every datagram a
 * host sends parses cleanly, a run never hits the event limit (a timer
 * stuck at or before now would spin the host forever), both stacks keep
 * their invariants after every event (net_set_check, stack/tcp_check.h),
 * and freeing the net leaves nothing (ASan).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define ADDR_T     0x0a000001u
#define ADDR_P     0x0a000002u
#define MS         1000000ull
#define EVENTS_MAX 1000000u /* far beyond what an input can cause legitimately */

typedef struct fz_world {
    net *n;
    uint32_t t, p;  /* hosts */
    tcp_seg last_t; /* the last segment T sent on the connection */
    bool have_last_t;
    uint16_t client_port;
    uint32_t child, listener, client; /* records */
} fz_world;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every packet a host sends must parse: a stack must never emit what it
 * would itself reject. Remembers T's last segment on the connection. */
static void fz_trace(void *ctx, const sim_trace_rec *rec)
{
    fz_world *w = ctx;
    tcp_seg s;

    if (rec->kind != SIM_TR_SEND)
        return;
    if (tcp_wire_parse(rec->bytes, rec->len, &s) != TCP_WIRE_OK)
        abort();
    if (s.src_addr == ADDR_T && s.dst_addr == ADDR_P && s.src_port == 80 &&
        s.dst_port == w->client_port) {
        w->last_t = s;
        w->last_t.payload = NULL;
        w->have_last_t = true;
    }
}

/* A broken stack invariant (net.h rule 8), whatever the input: a bug. */
static void fz_violation(void *ctx, uint32_t host, const char *report)
{
    (void)ctx;
    (void)host;
    fprintf(stderr, "fuzz_input: %s\n", report);
    abort();
}

static void run_for(fz_world *w, uint64_t ns)
{
    sim_world *sw = net_world(w->n);
    sim_run_result r = sim_world_run_until_time(sw, sim_world_now(sw) + ns);

    if (r == SIM_RUN_LIMIT_EVENTS || r == SIM_RUN_LIMIT_TIME)
        abort();
}

/* Profile byte 3: the linux profile with the knobs of the receive window's
 * growth, autotuning and SACK compression at values a scenario may set
 * (sim/lua/lsim_opts.c: any u32 or duration; comp_sack_nr 0..255). */
static void pick_knobs(tcp_profile *p, uint8_t b)
{
    static const uint32_t ratios[] = {0, 1, 160, UINT32_MAX};
    static const uint32_t bufs[] = {1, 4096, 33554432, UINT32_MAX};
    static const uint64_t delays[] = {0, 1, 1000000, UINT64_MAX};

    p->scaling_ratio = ratios[(b >> 2) & 3];
    p->rcv_win_ratio = ratios[(b >> 4) & 3] ? ratios[(b >> 4) & 3] : 128;
    p->rcvbuf = bufs[(b >> 6) & 3];
    p->rcvbuf_max = bufs[(b >> 4) & 3];
    p->comp_sack_delay_ns = delays[(b >> 2) & 3];
    p->comp_sack_slack_ns = delays[(b >> 6) & 3];
    p->comp_sack_nr = b & 0x80 ? 255 : (b >> 3) & 3;
}

static bool setup(fz_world *w, uint8_t profile)
{
    static const char *const names[] = {"rfc9293", "linux", "bsd", "linux"};
    tcp_profile p = *tcp_profile_find(names[profile & 3]);
    uint32_t link;
    sim_link_params lp;

    if ((profile & 3) == 3)
        pick_knobs(&p, profile);
    memset(w, 0, sizeof *w);
    w->n = net_new(0x1234);
    if (w->n == NULL || net_host_add(w->n, "T", ADDR_T, &p, &w->t) != 0 ||
        net_host_add(w->n, "P", ADDR_P, &p, &w->p) != 0)
        return false;
    sim_link_params_default(&lp);
    lp.delay_ns = 1 * MS;
    if (net_link_add(w->n, w->t, w->p, &lp, &lp, &link) != 0)
        return false;
    sim_world_set_trace(net_world(w->n), fz_trace, w);
    sim_world_set_limits(net_world(w->n), EVENTS_MAX, UINT64_MAX);
    net_set_observer(w->n, &(net_observer){.on_violation = fz_violation});
    net_set_check(w->n, true);
    net_listen_opts lo = {.port = 80, .backlog = 8};
    net_connect_opts co = {.raddr = ADDR_T, .rport = 80};
    if (net_listen(w->n, w->t, &lo, &w->listener) != 0 ||
        net_connect(w->n, w->p, &co, &w->client) != 0)
        return false;
    net_sock_ports(w->n, w->client);
    w->client_port = net_sock_at(w->n, w->client)->lport;
    run_for(w, 10 * MS);
    return net_accept(w->n, w->listener, &w->child) == 0;
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

        wr32(t + 4,
             aim == 5 ? w->last_t.ack + (seq & 0xff) * 64u : w->last_t.ack + (seq & 0x0f) - 8u);
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
    char buf[256];

    switch (which & 3u) {
    case 0:
        net_send(w->n, w->child, text, sizeof text);
        break;
    case 1:
        net_recv(w->n, w->child, buf, sizeof buf);
        break;
    case 2:
        net_shutdown(w->n, w->child);
        break;
    default:
        net_close(w->n, w->child);
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
        run_for(w, MS << (2 * (k - 1)));
    memset(d, 0, len);
    memcpy(d, bytes, n);
    if (aim != 0)
        fix_up(w, d, len, aim > 5 ? 3 : aim);
    net_host_input(w->n, w->t, d, len);
    free(d);
    if (ctl & 0x40u)
        run_for(w, 10 * MS);
    if (ctl & 0x80u)
        user_call(w, (unsigned)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w;
    size_t i = 1;

    if (setup(&w, size ? data[0] : 0)) {
        while (i + 3 <= size) {
            uint8_t ctl = data[i];
            size_t n = (size_t)data[i + 1] << 8 | data[i + 2];

            i += 3;
            if (n > size - i)
                n = size - i;
            one_record(&w, ctl, data + i, n);
            i += n;
        }
        run_for(&w, 1000 * MS);
    }
    net_free(w.n);
    return 0;
}

#ifdef FUZZ_REPLAY
/* Records touching every aim, clock step, exchange and user call. */
static void builtin_input(uint8_t profile, uint8_t *buf, size_t *len)
{
    size_t at = 0;

    buf[at++] = profile;
    for (unsigned ctl = 0; ctl < 256 && at + 3 + 60 <= *len; ctl += 7) {
        buf[at++] = (uint8_t)ctl;
        buf[at++] = 0;
        buf[at++] = 60;
        for (unsigned j = 0; j < 60; j++)
            buf[at++] = (uint8_t)(ctl * 31u + j * 17u);
    }
    *len = at;
}

int main(int argc, char **argv)
{
    static uint8_t buf[1 << 16];
    size_t len = sizeof buf;

    if (argc < 2) {
        /* Each profile, and linux with its knobs at the far ends. */
        static const uint8_t profiles[] = {0x00, 0x01, 0x02, 0x03, 0xff, 0x5f, 0xaf};
        for (size_t k = 0; k < sizeof profiles; k++) {
            len = sizeof buf;
            builtin_input(profiles[k], buf, &len);
            LLVMFuzzerTestOneInput(buf, len);
        }
        printf("fuzz_input: built-in input of %zu bytes ran clean under %zu profiles\n", len,
               sizeof profiles);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "fuzz_input: cannot open %s\n", argv[i]);
            return 1;
        }
        len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz_input: %d inputs replayed, no finding\n", argc - 1);
    return 0;
}
#endif
