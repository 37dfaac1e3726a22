/*
 * net_rt — the run controls of a net (net_kern.h promise 3): without a
 * kernel host each is the sim_world run it names; with one, virtual time
 * follows CLOCK_MONOTONIC, the TUN device is read while waiting for the
 * next event, and the kernel is sampled at least every NET_KERN_SAMPLE_NS.
 */
#include "kern.h"
#include "net_int.h"
#include "net_kern.h"

/* Runs every event due by the wall clock, then sets the clock to it; not
 * past limit, so a "+0" after a wait is never in the past (the next run
 * call resumes the clock from where this one stopped). */
void net_rt_catch_up(net *n, sim_time_t limit)
{
    sim_world *w = n->world;
    uint64_t now = net_kern_vnow(n);
    now = now < limit ? now : limit;
    if (now > sim_world_now(w))
        sim_world_run_until_time(w, now);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* With the kernel quiet (no connection, nothing written lately), the clock
 * may jump to `target`: nothing the kernel could send is pending. */
static bool may_jump(net *n)
{
    if (kern_clock_ns() - net_kern_last_io(n) < NET_KERN_SETTLE_NS)
        return false;
    return net_kern_quiet(n);
}

/* The sampling interval: NET_KERN_SAMPLE_NS while datagrams or calls are
 * recent, NET_KERN_SAMPLE_IDLE_NS after NET_KERN_BUSY_NS without any (what
 * the kernel does then without a segment is a timer ending a connection,
 * TIME_WAIT or FIN_WAIT_2; a sock_diag dump every millisecond costs a run
 * a third of a core). */
static uint64_t sample_every(const net *n)
{
    return kern_clock_ns() - net_kern_last_io(n) < NET_KERN_BUSY_NS ? NET_KERN_SAMPLE_NS
                                                                    : NET_KERN_SAMPLE_IDLE_NS;
}

/* One turn while no event is due: wait for a datagram up to the next event,
 * the deadline or the next sample. */
static bool wait_turn(net *n, sim_time_t next, sim_time_t deadline)
{
    uint64_t now = net_kern_vnow(n);
    uint64_t every = sample_every(n);
    uint64_t until = min_u64(min_u64(next, deadline), now + every);
    uint64_t wait = until > now ? until - now : 0;
    if (net_kern_pump(n, wait, deadline))
        return true;
    uint64_t before = sim_world_events(n->world);
    net_rt_catch_up(n, deadline);
    if (kern_clock_ns() - net_kern_last_sample(n) >= every)
        net_kern_sample(n);
    return sim_world_events(n->world) != before;
}

static sim_run_result rt_run(net *n, bool (*pred)(void *), void *arg, sim_time_t deadline,
                             bool to_idle)
{
    sim_world *w = n->world;
    if (net_kern_open(n) < 0)
        return SIM_RUN_STOPPED;
    /* The script ran between two run calls (or since the namespace opened):
     * in simulation that takes no time, so the clock resumes where the last
     * run left it, and what the kernel sent meanwhile (the SYN of a
     * connect) is read at the instant of the call that caused it. */
    uint64_t v0 = net_kern_vnow(n);
    if (v0 > sim_world_now(w))
        net_kern_shift(n, -(int64_t)(v0 - sim_world_now(w)));
    uint64_t wall_end = kern_clock_ns() + NET_KERN_MAX_WALL_NS;
    /* pred is asked again only once something happened: an event, a
     * datagram, a change in the kernel's records */
    bool dirty = true;
    for (;;) {
        if (n->halted)
            return SIM_RUN_STOPPED;
        dirty = net_kern_take_change(n) || dirty;
        if (pred && dirty && pred(arg))
            return SIM_RUN_PREDICATE;
        dirty = false;
        if (kern_clock_ns() > wall_end) {
            net_kern_refuse(n,
                            NET_KERN_REFUSAL "wait more than 150 s of wall time in one run call");
            return SIM_RUN_STOPPED;
        }
        uint64_t now = net_kern_vnow(n);
        sim_time_t next = sim_world_next_time(w);
        if (next <= deadline && next <= now) {
            if (now - next > NET_KERN_LAG_NS) /* the driver fell behind: the clock waits */
                net_kern_shift(n, -(int64_t)(now - next));
            sim_run_result r = sim_world_step(w);
            if (r != SIM_RUN_STEPPED && r != SIM_RUN_IDLE)
                return r;
            dirty = true;
            continue;
        }
        if (now >= deadline) {
            sim_world_run_until_time(w, deadline);
            return SIM_RUN_TIME;
        }
        bool quiet = may_jump(n);
        if (to_idle && next == SIM_TIME_NEVER && quiet)
            return SIM_RUN_IDLE;
        uint64_t target = min_u64(next, deadline);
        if (quiet && target != SIM_TIME_NEVER) {
            net_kern_shift(n, (int64_t)(target - now));
            continue;
        }
        dirty = wait_turn(n, next, deadline);
    }
}

sim_run_result net_run(net *n)
{
    if (!n->kern)
        return sim_world_run(n->world);
    return rt_run(n, NULL, NULL, SIM_TIME_NEVER, true);
}

sim_run_result net_run_until_time(net *n, sim_time_t until)
{
    if (!n->kern)
        return sim_world_run_until_time(n->world, until);
    return rt_run(n, NULL, NULL, until, false);
}

sim_run_result net_run_until(net *n, bool (*pred)(void *arg), void *arg, sim_time_t deadline)
{
    if (!n->kern)
        return sim_world_run_until(n->world, pred, arg, deadline);
    sim_run_result r = rt_run(n, pred, arg, deadline, true);
    return r;
}
