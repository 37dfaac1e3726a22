/*
 * net_kern — one host of a net played by the machine's own Linux TCP
 * (sim/kern/), and the real-time driver that runs such a net.
 *
 * What it promises:
 *  1. After net_kern_attach, the host's stack is never called: the net_*
 *     user calls on its records (listen, connect, send, recv, shutdown,
 *     close, abort, accept, setopt) are made on kernel sockets inside a
 *     private network namespace, opened at the first call that needs it.
 *  2. Datagrams the link delivers to the host are written to the
 *     namespace's TUN device at the instant of delivery (so link delay and
 *     every fault and rule apply as in simulation); datagrams the kernel
 *     writes are read from the device and sent from the host into the link
 *     at the instant they were read.
 *  3. With a kernel host, virtual time follows CLOCK_MONOTONIC (net_run*):
 *     an event runs when the wall clock reaches it. Between run calls
 *     (the script running) the clock stands still, as it does in
 *     simulation: each run call resumes it where the last one stopped. While the kernel holds
 *     no connection (only listeners) and has not been written to for
 *     NET_KERN_SETTLE_NS, nothing it could send is pending, and the clock
 *     jumps to the next event instead of waiting. When the driver falls
 *     behind the wall clock by more than NET_KERN_LAG_NS (a busy machine
 *     ran something else), the clock waits for it: the lag is taken out of
 *     virtual time, so the kernel's answer to a datagram written late is
 *     not counted late too (a kernel timer armed before such a lag then
 *     looks early by it).
 *  4. The kernel's records are kept from NETLINK_SOCK_DIAG samples, taken
 *     after every datagram in either direction and at least every
 *     NET_KERN_SAMPLE_NS (NET_KERN_SAMPLE_IDLE_NS once nothing was
 *     exchanged for NET_KERN_BUSY_NS); a change no single RFC 9293 transition explains
 *     is traced with the note "sampled: states missed", never filled in.
 *  5. What the kernel cannot do is refused with a reason: crash/restart,
 *     socket options with no kernel equivalent, a profile knob with no
 *     sysctl set to a value other than the linux profile's, a kernel host
 *     with no other host or more than KERN_PEERS_MAX others. Every such
 *     reason begins with NET_KERN_REFUSAL, so a caller can tell a scenario
 *     the kernel cannot play from a failure.
 * Without a kernel host every net_run* is the sim_world_run* it names.
 */
#ifndef NET_KERN_H
#define NET_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define NET_KERN_SAMPLE_NS      1000000ull      /* 1 ms */
#define NET_KERN_SAMPLE_IDLE_NS 10000000ull     /* 10 ms, after NET_KERN_BUSY_NS idle */
#define NET_KERN_BUSY_NS        200000000ull    /* 200 ms */
#define NET_KERN_SETTLE_NS      50000000ull     /* 50 ms */
#define NET_KERN_LAG_NS         1000000ull      /* 1 ms */
#define NET_KERN_MAX_WALL_NS    150000000000ull /* 150 s: a run call that waits longer is refused */

#define NET_KERN_REFUSAL "the kernel endpoint cannot "

enum {
    NET_EKERNEL = -110,  /* the kernel refused the call (errno in net_kern_errno) */
    NET_ENOKERNEL = -111 /* the kernel endpoint cannot do this */
};

/* Makes `host` the kernel endpoint of n (one per net). 0, or -1 with a
 * one-line reason in err (a second kernel host, a profile knob with no
 * sysctl that differs from the linux profile). */
int net_kern_attach(net *n, uint32_t host, char *err, size_t err_len);
/* Whether `host` is played by the kernel. */
bool net_kern_host(const net *n, uint32_t host);
/* The last kernel errno behind NET_EKERNEL, and the last reason behind
 * NET_ENOKERNEL or an open failure ("" if none). */
int net_kern_errno(const net *n);
const char *net_kern_reason(const net *n);
/* The namespace's name once open ("" before). */
const char *net_kern_ns_name(const net *n);
/* Whether some kernel record's trace has a "states missed" step. */
bool net_kern_gaps(const net *n);

/* One counter of a kernel socket by its tcp_stats name ("segs_in",
 * "challenge_acks"...), read from what Linux keeps: TCP_INFO for segs_in,
 * segs_out, bytes_in, bytes_out and retransmits (tcpi_total_retrans), the
 * last only once the descriptor is closed, from the samples' tcp_info;
 * the namespace's TcpExt TCPChallengeACK for challenge_acks while the
 * kernel host has made one connection (the counter is the namespace's,
 * and the namespace is the run's). 0 and *out set, or NET_ENOKERNEL with
 * the reason in why (beginning NET_KERN_REFUSAL): no equivalent (dup_acks_in,
 * keepalive_probes, persist_probes), the socket's descriptor closed, more
 * than one connection for a namespace counter. */
int net_kern_stat(net *n, uint32_t sock, const char *name, uint64_t *out, char *why,
                  size_t why_len);

/* Run controls: as sim_world_run, _run_until_time and _run_until, in real
 * time when a kernel host exists. */
sim_run_result net_run(net *n);
sim_run_result net_run_until_time(net *n, sim_time_t until);
sim_run_result net_run_until(net *n, bool (*pred)(void *arg), void *arg, sim_time_t deadline);

#endif
