/*
 * fuzz_net_ops — libFuzzer entry over the whole of sim/net's C API: a byte
 * string is read as a sequence of operations (hosts, links with absurd
 * parameters, listen, connect, send, recv, shutdown, close, abort, accept,
 * crash and restart, fault rules whose callbacks add rules and reconfigure
 * their link, crafted segments, time advancing) on one net with the stack's
 * invariant checker on. A crash, a sanitizer report, an assertion or a
 * broken invariant (net_error) is a finding; operating errors (negative
 * codes) are expected answers to hostile calls.
 *
 * A host's profile may have its knobs changed as a scenario may change them
 * (fz_knobs: receive-window growth, autotuning, SACK compression, the ATO,
 * buffers, MSS, the options offered, at the edges of their ranges). Sockets
 * get options mid-connection (op_setopt) and sends past a send buffer, so
 * segments are lent from the send ring while retransmissions, corruption
 * (a lent datagram copied first), reordering and crashes go on. Segments
 * aimed at a live connection (op_aim) come from its peer's address with
 * sequence numbers at, below and beyond RCV.NXT, an ACK near SND.UNA or
 * SND.NXT, zero and other windows, timestamps, SACK blocks,
 * SACK-permitted and window-scale options.
 *
 * Indices handed to the API are always ones it handed out (an index never
 * handed out is a programmer error, an assertion by net.h rule 7), except
 * for links, whose host indices are checked (net_link_add). Build and run:
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *         -Isim/net -Isim/core -Istack tests/fuzz/fuzz_net_ops.c \
 *         sim/net/net_*.c sim/core/sim_*.c stack/tcp_*.c sim/kern/kern_*.c \
 *         -o build/fuzz_net_ops
 *   ./build/fuzz_net_ops -max_len=512 -timeout=10 tests/fuzz/corpus
 *
 * (scripts/fuzz.sh net_ops SECONDS does the same.) Built with
 * -DFUZZ_REPLAY it has a main() that runs each file named on the command
 * line, or every file of the seed corpus folder given with -d, once; ctest
 * fuzz/net_ops_replay runs the seed corpus that way under every build.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define HOSTS_MAX      6
#define OPS_MAX        256
#define HOOK_RULES_MAX 16u
#define MS             1000000ull

typedef struct fz {
    net *n;
    const uint8_t *p;
    size_t len, at;
    uint32_t nhosts, nlinks;
    uint32_t links[HOSTS_MAX * HOSTS_MAX];
    uint32_t hook_calls;
    uint32_t hook_rules; /* rules the hook added */
} fz;

static uint8_t next(fz *f)
{
    return f->at < f->len ? f->p[f->at++] : 0;
}

/* The next len bytes of the input (zeros past its end). */
static void next_bytes(fz *f, uint8_t *out, size_t len)
{
    size_t have = f->len - f->at < len ? f->len - f->at : len;
    if (have)
        memcpy(out, f->p + f->at, have);
    memset(out + have, 0, len - have);
    f->at += have;
}

static uint32_t next32(fz *f)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | next(f);
    return v;
}

/* A hook that adds a rule now and then, takes its direction down and up,
 * and decides by the segment's first payload byte. */
static sim_fault_verdict fz_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    fz *f = ctx;
    (void)rule;
    f->hook_calls++;
    sim_link *l = sim_link_by_id(net_world(f->n), v->link);
    /* A hook that passes never uses up its count, and every rule is
     * walked for each segment: adding one at every 7th call without a
     * bound grows the walk geometrically (an input found a one-minute
     * run), a cost of the caller's making, not a finding. */
    if (f->hook_calls % 7 == 0 && f->hook_rules < HOOK_RULES_MAX) {
        f->hook_rules++;
        net_rule_opts o = {.action = NET_RULE_HOOK,
                           .filter = {.dir = -1, .len = -1},
                           .count = 3,
                           .hook = fz_hook,
                           .ctx = f};
        net_rule_add(f->n, v->link, &o, NULL);
    }
    if (f->hook_calls % 11 == 0) {
        sim_link_set_up(l, v->dir, false);
        sim_link_set_up(l, v->dir, true);
    }
    static const sim_fault_action acts[] = {SIM_FAULT_PASS, SIM_FAULT_DROP, SIM_FAULT_DELAY,
                                            SIM_FAULT_DUPLICATE, SIM_FAULT_HOLD};
    uint8_t b = v->seg->len ? v->seg->payload[0] : (uint8_t)v->seg->seq;
    return (sim_fault_verdict){acts[b % 5], (sim_time_t)(b % 50) * MS, 1u + b % 3};
}

/* A 32-bit knob value: an edge of its range or of a computation on it
 * (ratios near 256, buffers near the window scale's steps), or any. */
static uint32_t pick32(fz *f)
{
    static const uint32_t edges[] = {0,         1,
                                     2,         127,
                                     128,       160,
                                     255,       256,
                                     257,       536,
                                     1460,      65535,
                                     65536,     131072,
                                     1u << 20,  33554432,
                                     1u << 30,  (1u << 30) + 1,
                                     1u << 31,  UINT32_MAX - 1,
                                     UINT32_MAX};
    uint8_t b = next(f);
    return b < sizeof edges / sizeof edges[0] ? edges[b] : next32(f);
}

/* A duration knob: zero, a tick, the profiles' values, or near the end of
 * time (a deadline sum that must not wrap). */
static uint64_t pick_ns(fz *f)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     1000,
                                     MS,
                                     40 * MS,
                                     200 * MS,
                                     1000 * MS,
                                     UINT64_MAX / 4,
                                     UINT64_MAX / 2,
                                     UINT64_MAX - 1,
                                     UINT64_MAX};
    uint8_t b = next(f);
    return b < sizeof edges / sizeof edges[0] ? edges[b] : (uint64_t)next32(f) * 1000u;
}

/* Knobs as a scenario may set them (sim/lua/lsim_opts.c takes any u32 or
 * duration, comp_sack_nr 0..255, mss 1..65535): the receive-window growth,
 * autotuning, SACK compression, the ATO and the options offered, turned on
 * and pushed to the edges of their ranges. */
static void fz_knobs(fz *f, tcp_profile *p)
{
    uint8_t m = next(f);
    p->grow_window = m & 1;
    p->rcv_autotune = m & 2;
    p->send_sack_perm = p->send_sack_perm || (m & 4);
    p->send_timestamps = p->send_timestamps || (m & 8);
    p->send_wscale = p->send_wscale || (m & 16);
    p->tlp = m & 32;
    p->pingpong = m & 64;
    p->read_ack = m & 128;
    uint8_t which = next(f);
    if (which & 1)
        p->scaling_ratio = pick32(f);
    if (which & 2)
        p->rcv_win_ratio = pick32(f);
    if (which & 4) {
        p->rcvbuf = pick32(f);
        p->rcvbuf_max = pick32(f);
    }
    if (which & 8) {
        p->comp_sack_delay_ns = pick_ns(f);
        p->comp_sack_slack_ns = pick_ns(f);
        p->comp_sack_nr = next(f);
    }
    if (which & 16) {
        p->delack_ns = pick_ns(f);
        p->delack_max_ns = pick_ns(f);
        p->delack_tick_ns = pick_ns(f);
        p->quickack = next(f);
    }
    if (which & 32) {
        p->sndbuf = pick32(f);
        p->sndbuf_expand = next(f) % 5;
        p->sndbuf_max = pick32(f);
    }
    if (which & 64) {
        uint16_t mss = (uint16_t)pick32(f);
        p->mss = mss ? mss : 1;
    }
    p->wnd_mss_round = which & 128;
}

static void op_host(fz *f)
{
    if (f->nhosts >= HOSTS_MAX)
        return;
    char name[8];
    snprintf(name, sizeof name, "H%u", f->nhosts);
    static const char *const profiles[] = {"rfc9293", "linux", "bsd"};
    uint8_t b = next(f);
    tcp_profile p = *tcp_profile_find(profiles[(b & 0x3f) % 3]);
    if (b & 0x80)
        fz_knobs(f, &p);
    uint32_t id;
    if (net_host_add(f->n, name, 0x0a000001u + f->nhosts, &p, &id) == 0) {
        if (b & 0x40)
            net_host_keep_mss(f->n, id);
        f->nhosts++;
    }
}

static void op_link(fz *f)
{
    sim_link_params lp;
    sim_link_params_default(&lp);
    uint8_t k = next(f);
    lp.delay_ns = (sim_time_t)next(f) * MS;
    lp.loss_ppb = k & 1 ? next32(f) % (SIM_PPB_ONE + 2) : 0; /* sometimes past 1 */
    lp.duplicate_ppb = k & 2 ? next32(f) % SIM_PPB_ONE : 0;
    lp.mtu = k & 4 ? next(f) * 8u : 1500;
    lp.bandwidth_bps = k & 8 ? next32(f) : 0;
    lp.queue_packets = k & 16 ? next(f) : 0;
    if (k & 32) { /* a flipped bit copies a lent datagram first (sim_packet_writable) */
        lp.corrupt_ppb = next32(f) % (SIM_PPB_ONE + 1);
        lp.jitter_ns = (sim_time_t)next(f) * MS;
    }
    if (k & 64) {
        lp.reorder_ppb = next32(f) % (SIM_PPB_ONE + 1);
        lp.reorder_delay_ns = (sim_time_t)next(f) * MS;
    }
    uint32_t a = next(f) % (HOSTS_MAX + 1), b = next(f) % (HOSTS_MAX + 1), id;
    if (net_link_add(f->n, a, b, &lp, &lp, &id) == 0)
        f->links[f->nlinks++] = id;
}

static void op_rule(fz *f)
{
    if (!f->nlinks)
        return;
    uint8_t k = next(f);
    net_rule_opts o = {.action = (net_rule_action)(k % 5),
                       .filter = {.dir = (int)(k >> 3) % 3 - 1, .flags = next(f), .len = -1},
                       .skip = next(f) % 4,
                       .count = 1u + next(f) % 4,
                       .copies = 1u + k % 3,
                       .delay_ns = (sim_time_t)next(f) * MS,
                       .hook = fz_hook,
                       .ctx = f};
    net_rule_add(f->n, f->links[next(f) % f->nlinks], &o, NULL);
}

static void op_inject(fz *f)
{
    if (!f->nlinks)
        return;
    tcp_seg seg;
    memset(&seg, 0, sizeof seg);
    uint8_t data[64];
    seg.src_port = (uint16_t)next32(f);
    seg.dst_port = next(f) & 1 ? 80 : (uint16_t)next32(f);
    seg.seq = next32(f);
    seg.ack = next32(f);
    seg.flags = next(f);
    seg.wnd = (uint16_t)next32(f);
    size_t len = next(f) % sizeof data;
    next_bytes(f, data, len);
    seg.len = (uint32_t)len;
    seg.payload = data;
    uint32_t link = f->links[next(f) % f->nlinks];
    int dir = next(f) & 1;
    const sim_link *l = sim_link_by_id(net_world(f->n), link);
    seg.src_addr = sim_host_addr(sim_link_host(l, dir));
    seg.dst_addr = sim_host_addr(sim_link_host(l, 1 - dir));
    net_inject(f->n, link, dir, &seg);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Raw options for an aimed segment: timestamps (any value, or the one the
 * record's host last echoed nothing of: the fuzzer picks), SACK blocks
 * around [una, una + span), SACK-permitted and a window scale (valid only
 * on a SYN, hostile elsewhere). Returns the option length. */
static size_t aim_options(fz *f, uint8_t *o, uint32_t una, uint32_t span)
{
    size_t n = 0;
    uint8_t k = next(f);
    if (k & 1) {
        o[n++] = 8;
        o[n++] = 10;
        wr32(o + n, next(f) & 1 ? next32(f) : (uint32_t)(next(f) * 1000u));
        wr32(o + n + 4, next32(f));
        n += 8;
    }
    if (k & 2) {
        o[n++] = 4;
        o[n++] = 2;
    }
    if (k & 4) {
        o[n++] = 3;
        o[n++] = 3;
        o[n++] = next(f);
    }
    uint32_t blocks = (k >> 3) % 5;
    if (blocks && n + 2 + 8 * blocks <= TCP_OPT_MAX) {
        o[n++] = 5;
        o[n++] = (uint8_t)(2 + 8 * blocks);
        for (uint32_t i = 0; i < blocks; i++) {
            uint32_t a = una + (span ? next32(f) % (span + 1) : 0) - (next(f) & 1);
            uint32_t b = a + next(f) * 8u;
            wr32(o + n, next(f) & 0x80 ? next32(f) : a);
            wr32(o + n + 4, b);
            n += 8;
        }
    }
    return n;
}

/* A segment aimed at one connection from its peer's address: sequence
 * numbers at or near the receiver's RCV.NXT (out-of-order data beyond it,
 * old data below it, data past the window), an ACK at or near SND.UNA and
 * SND.NXT, any window (zero included), with options. Sent from the far end
 * of a link leaving the connection's host, so rules and delays apply. */
static void op_aim(fz *f)
{
    uint32_t count = net_sock_count(f->n);
    if (!count || !f->nlinks)
        return;
    uint32_t s = next32(f) % count;
    const net_sock *r = net_sock_at(f->n, s);
    tcp_tcb t;
    if (!r->alive || net_sock_tcb(f->n, s, &t) != 0 || !r->lport)
        return;
    const sim_link *l = sim_link_by_id(net_world(f->n), f->links[next(f) % f->nlinks]);
    uint32_t me = sim_host_addr(net_host_sim(f->n, r->host));
    int dir = sim_host_addr(sim_link_host(l, 0)) == me ? 1 : 0; /* the far end sends */
    if (sim_host_addr(sim_link_host(l, 1 - dir)) != me)
        return;
    tcp_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.src_addr = r->raddr;
    seg.dst_addr = me;
    seg.src_port = r->rport;
    seg.dst_port = r->lport;
    static const int32_t offs[] = {0, 1, -1, 536, 1460, 2920, 65535, 65536, -65536, 1 << 20};
    uint8_t k = next(f);
    seg.seq = t.rcv_nxt + (uint32_t)offs[k % 10] + (k & 0x10 ? next(f) : 0);
    seg.ack = (k & 0x20 ? t.snd_nxt : t.snd_una) + (uint32_t)(int32_t)(int8_t)next(f);
    seg.flags = (uint8_t)(TCP_ACK | (k & 0x40 ? TCP_PSH : 0) | (k & 0x80 ? next(f) & 0x3f : 0));
    seg.wnd = next(f) & 1 ? 0 : (uint16_t)next32(f);
    static uint8_t data[NET_INJECT_OPTS_DGRAM_MAX - 60];
    uint8_t l8 = next(f);
    seg.len = l8 < 200 ? l8 : (uint32_t)(l8 - 199) * 1460u / 8u; /* up to 10 kB */
    memset(data, 'a' + l8 % 26, seg.len);
    seg.payload = data;
    uint8_t o[TCP_OPT_MAX];
    size_t on = aim_options(f, o, t.snd_una, t.snd_max - t.snd_una);
    net_inject_opts(f->n, sim_link_id(l), dir, &seg, o, on);
}

/* Socket options mid-connection (the stack refuses what it cannot take
 * once the buffer exists or the window was offered). */
static void op_setopt(fz *f, uint32_t s)
{
    static const tcp_opt opts[] = {TCP_OPT_RCVBUF, TCP_OPT_SNDBUF, TCP_OPT_MSS, TCP_OPT_NODELAY,
                                   TCP_OPT_CORK};
    net_opt o = {.opt = opts[next(f) % 5], .value = pick32(f)};
    uint32_t failed;
    net_setopt(f->n, s, &o, 1, &failed);
}

/* A user call on a record: send, recv, shutdown, close, abort, accept. */
static void op_sock(fz *f)
{
    uint32_t count = net_sock_count(f->n);
    if (!count)
        return;
    uint32_t s = next32(f) % count, out;
    char buf[256];
    switch (next(f) % 8) {
    case 0:
        memset(buf, 'x', sizeof buf);
        net_send(f->n, s, buf, next(f));
        break;
    case 6:
        net_send(f->n, s, NULL, (size_t)next(f) * 1024u); /* past a send buffer */
        break;
    case 7:
        op_setopt(f, s);
        break;
    case 1:
        net_recv(f->n, s, buf, 1u + next(f) % sizeof buf);
        break;
    case 2:
        net_shutdown(f->n, s);
        break;
    case 3:
        net_close(f->n, s);
        break;
    case 4:
        net_abort(f->n, s);
        break;
    default:
        net_accept(f->n, s, &out);
    }
}

static void op_open(fz *f)
{
    if (!f->nhosts)
        return;
    uint32_t h = next(f) % f->nhosts, out;
    if (next(f) & 1) {
        net_listen_opts lo = {
            .port = (uint16_t)(80 + next(f) % 3), .backlog = next(f) % 4, .autoread = next(f) & 1};
        net_listen(f->n, h, &lo, &out);
    } else {
        net_connect_opts co = {.raddr = 0x0a000001u + next(f) % (HOSTS_MAX + 1),
                               .rport = (uint16_t)(80 + next(f) % 3),
                               .autoread = true};
        net_connect(f->n, h, &co, &out);
    }
}

static void op_host_state(fz *f)
{
    if (!f->nhosts)
        return;
    uint32_t h = next(f) % f->nhosts;
    if (net_host_up(f->n, h))
        net_host_crash(f->n, h);
    else
        net_host_restart(f->n, h);
}

static void run_ops(fz *f)
{
    sim_world *w = net_world(f->n);
    for (int i = 0; i < OPS_MAX && f->at < f->len && !net_halted(f->n); i++) {
        switch (next(f) % 10) {
        case 0:
            op_host(f);
            break;
        case 1:
            op_link(f);
            break;
        case 2:
        case 3:
            op_open(f);
            break;
        case 4:
            op_sock(f);
            break;
        case 5:
            op_rule(f);
            break;
        case 6:
            op_inject(f);
            break;
        case 7:
            op_host_state(f);
            break;
        case 8:
            op_aim(f);
            break;
        default:
            sim_world_run_until_time(w, sim_world_now(w) + (sim_time_t)next(f) * 10 * MS);
        }
    }
    sim_world_run_until_time(w, sim_world_now(w) + 2000 * MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f = {.p = data, .len = size};
    f.n = net_new(1 + (size ? data[0] : 0));
    net_set_check(f.n, true);
    sim_world_set_limits(net_world(f.n), 100000, 3600 * 1000 * MS);
    run_ops(&f);
    if (net_error(f.n)) {
        fprintf(stderr, "fuzz_net_ops: %s\n", net_error(f.n));
        abort();
    }
    net_free(f.n);
    return 0;
}

#ifdef FUZZ_REPLAY
static int replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

/* Every regular file of `dir`, in name order. Returns the count run. */
static int replay_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    int ran = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && replay_file(path) == 0)
            ran++;
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            ran += replay_dir(argv[++i]);
        else if (replay_file(argv[i]) == 0)
            ran++;
    }
    printf("fuzz_net_ops: %d inputs replayed, no finding\n", ran);
    return ran > 0 ? 0 : 1;
}
#endif
