/*
 * kern — the machine's own Linux TCP as an endpoint, kept inside a private
 * network namespace made for one run.
 *
 * What it promises:
 *  1. kern_ns_open makes a network namespace of its own (a name under
 *     /run/netns starting KERN_NS_PREFIX, so `ip netns exec` can look in),
 *     a TUN device in it carrying the kernel endpoint's address, one host
 *     route per simulated peer to that device and nothing else, IPv6 off,
 *     rp_filter off, a TCP connection hash of its own (where the kernel has
 *     tcp_child_ehash_entries, so a sock_diag dump walks only its few
 *     buckets), and the caller's net.* sysctls; it returns only once
 *     an ICMP echo written to the device has been answered through it.
 *  2. Every address is in the project's test range 10.0.0.0/24; nothing is
 *     configured outside the namespace, and no sysctl outside net.* is
 *     written (only per-namespace sysctls are visible inside it).
 *  3. The namespace is removed by kern_ns_close, on any error in
 *     kern_ns_open, at exit() (atexit) and on SIGINT/SIGTERM/SIGHUP (a
 *     handler that removes it and re-raises). A process killed outright
 *     leaves its name behind; kern_sweep_stale, which every kern_ns_open
 *     runs first, removes names of this prefix whose process is gone.
 *  4. Socket calls are made inside the namespace and return 0 or -errno, the
 *     kernel's own error, unchanged. Sockets are non-blocking: nothing here
 *     waits except kern_tun_read, for at most the time it is given.
 *  5. States come from NETLINK_SOCK_DIAG (sockets without a file descriptor
 *     too: orphans, TIME_WAIT, request sockets) and TCP_INFO; the sampler
 *     records changes with the interval in which each happened, and flags a
 *     change no single transition explains, never inventing the states in
 *     between.
 *
 * Ownership: a kern_ns owns its TUN device, its netlink socket and every
 * socket made through it; kern_ns_close closes them all. Addresses and
 * ports are in host byte order. Not thread-safe: one thread uses a kern_ns.
 */
#ifndef KERN_H
#define KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

#define KERN_NS_PREFIX   "tcpsim-k"
#define KERN_NETNS_DIR   "/run/netns"
#define KERN_TUN_NAME    "tcpsim0"
#define KERN_NET_BASE    0x0a000000u /* 10.0.0.0/24: the project's test range */
#define KERN_NET_MASK    0xffffff00u
#define KERN_DOC_BASE    0xc0000200u /* 192.0.2.0/24 (RFC 5737 TEST-NET-1): peers only */
#define KERN_PEERS_MAX   16
#define KERN_SYSCTLS_MAX 32
#define KERN_SOCKS_MAX   64
#define KERN_DGRAM_MAX   65536 /* the largest TUN MTU is 65535 */

/* A sysctl as sysctl(8) spells it ("net.ipv4.tcp_fin_timeout") and its value. */
typedef struct kern_sysctl {
    char name[64];
    char value[64];
} kern_sysctl;

typedef struct kern_config {
    uint32_t kernel_addr;                  /* the kernel endpoint, e.g. 10.0.0.2 */
    uint32_t peer_addrs[KERN_PEERS_MAX];   /* simulated hosts and raw peers, routed to the TUN */
    size_t npeers;                         /* at least 1 */
    kern_sysctl sysctls[KERN_SYSCTLS_MAX]; /* written in order, after the fixed ones */
    size_t nsysctls;
    uint64_t ready_timeout_ns; /* for the datapath check; 0: 2 s */
    /* What the profile and the link say and no sysctl holds (0: the
     * kernel's own): the TUN device's MTU (68..65535; else 1500), and route
     * metrics on every peer's route, `ip route ... rto_min R initcwnd N
     * advmss M` (rto_min locked, in ms). */
    uint32_t mtu, rto_min_ms, initcwnd, advmss;
} kern_config;

typedef struct kern_ns kern_ns;

/* ---- Namespace ---------------------------------------------------------- */

/* 0 if this process can open a namespace (root, /dev/net/tun, CLONE_NEWNET,
 * /run/netns); else -1 and one line saying what is missing in why. Leaves
 * nothing behind (the CLONE_NEWNET try runs in a child that exits). */
int kern_probe(char *why, size_t why_len);

/* Opens a namespace for cfg, first sweeping stale names (kern_sweep_stale).
 * 0 and *out on success; -1 with a one-line message in err otherwise,
 * having removed whatever it had made. */
int kern_ns_open(const kern_config *cfg, kern_ns **out, char *err, size_t err_len);

/* Closes every socket and device of ns, removes the namespace, frees ns.
 * NULL is a no-op. */
void kern_ns_close(kern_ns *ns);

/* "tcpsim-k<pid>-<n>": `ip netns exec NAME ss -tan` shows its sockets. */
const char *kern_ns_name(const kern_ns *ns);

/* The namespace's identity, its nsfs inode (`net:[N]` in /proc). */
uint64_t kern_ns_id(const kern_ns *ns);

/* Reads a net.* sysctl as seen inside ns (trailing newline removed).
 * 0, or -errno. */
int kern_ns_sysctl_read(kern_ns *ns, const char *name, char *buf, size_t len);

/* A counter of the namespace as nstat names it, group and name apart
 * ("TcpExt", "TCPChallengeACK"; "Tcp", "OutRsts"), from /proc/net/netstat
 * or /proc/net/snmp seen inside ns. 0 and *out set, -ENOENT when this
 * kernel has no such counter, or -errno. */
int kern_ns_mib_read(kern_ns *ns, const char *group, const char *name, uint64_t *out);
/* The same lookup in the text of such a file (for tests). */
int kern_mib_find(const char *text, const char *group, const char *name, uint64_t *out);

/* Removes names under /run/netns starting KERN_NS_PREFIX whose process no
 * longer exists. Returns how many it removed, or -1 with err set. */
int kern_sweep_stale(char *err, size_t err_len);

/* The congestion control the stack models (RFC 5681/6582), by its Linux
 * name: net.ipv4.tcp_congestion_control inside the namespace. */
#define KERN_CONGESTION_CONTROL "reno"

/* The Linux profile values that have a sysctl, as (name, value) pairs
 * appended to cfg: tcp_fin_timeout, tcp_syn_retries, tcp_synack_retries,
 * tcp_retries2, tcp_keepalive_*, tcp_rfc1337, tcp_timestamps,
 * tcp_window_scaling, tcp_sack, and tcp_congestion_control
 * (KERN_CONGESTION_CONTROL, not a default). -1 with err if a value has no sysctl
 * spelling (a duration that is not whole seconds, no FIN_WAIT_2 timeout)
 * or cfg is full. Knobs with no sysctl at all are listed in docs/kernel.md. */
int kern_sysctls_from_profile(const tcp_profile *p, kern_config *cfg, char *err, size_t err_len);

/* ---- Kernel endpoint sockets (all 0 or -errno) -------------------------- */

/* A TCP socket bound to addr:port (port 0: any), listening. */
int kern_sock_listen(kern_ns *ns, uint32_t addr, uint16_t port, int backlog, int *fd);
/* The next connection of a listener: 0 and *fd, -EAGAIN if none is ready. */
int kern_sock_accept(kern_ns *ns, int lfd, int *fd);
/* A non-blocking connect from src (src_port 0: ephemeral) to dst. *fd is set
 * whenever a socket was made: 0 (connected), -EINPROGRESS (the usual) or
 * another -errno with the socket kept for inspection. */
int kern_sock_connect(kern_ns *ns, uint32_t src, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                      int *fd);
/* Pending error of a socket (SO_ERROR): 0 or -errno, cleared by reading. */
int kern_sock_error(int fd);
/* send(2) with MSG_DONTWAIT|MSG_NOSIGNAL; *sent bytes taken. */
int kern_sock_send(int fd, const void *buf, size_t len, size_t *sent);
/* recv(2) with MSG_DONTWAIT: *got bytes; *got == 0 with 0 means end of stream. */
int kern_sock_recv(int fd, void *buf, size_t len, size_t *got);
/* Reads and discards all that is queued: *total bytes, *eof if the stream
 * ended. 0 (or -EAGAIN never: an empty queue is 0), or -errno. */
int kern_sock_drain(int fd, size_t *total, bool *eof);
int kern_sock_shutdown(int fd, int how); /* SHUT_RD, SHUT_WR, SHUT_RDWR */
/* close(2); fd was made through ns. */
int kern_sock_close(kern_ns *ns, int fd);
/* SO_LINGER: on with timeout_s (0: close sends RST), or off. */
int kern_sock_linger(int fd, bool on, int timeout_s);
/* SO_KEEPALIVE on/off, and TCP_KEEPIDLE/INTVL/CNT for each value > 0. */
int kern_sock_keepalive(int fd, bool on, int idle_s, int intvl_s, int cnt);
int kern_sock_nodelay(int fd, bool on);
/* A receive buffer of exactly bytes (sk_rcvbuf, as SO_RCVBUF reads back),
 * locked as SO_RCVBUF locks it; set on a listener before its first SYN, its
 * connections inherit it. -ERANGE when the kernel would take another size
 * (odd, below its floor, above net.core.rmem_max). */
int kern_sock_rcvbuf(int fd, uint32_t bytes);
/* Reads an int option back (for tests and reports). */
int kern_sock_getopt(int fd, int level, int name, int *value);

/* ---- States ------------------------------------------------------------- */

/* A connection's four-tuple as the kernel sees it (local = kernel side). */
typedef struct kern_tuple {
    uint32_t local_addr, remote_addr;
    uint16_t local_port, remote_port;
} kern_tuple;

typedef struct kern_diag {
    tcp_state state;
    uint8_t linux_state; /* the kernel's number, include/net/tcp_states.h */
    uint32_t inode;      /* 0: no file descriptor (orphan, TIME_WAIT, request) */
    uint32_t rqueue, wqueue;
    uint8_t timer;       /* idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe */
    uint32_t expires_ms; /* of that timer */
    /* From the dump's INET_DIAG_INFO (struct tcp_info), given for a full
     * socket, with a descriptor or orphaned; not for a request or a
     * TIME_WAIT socket. */
    bool has_info;
    uint32_t total_retrans; /* tcpi_total_retrans */
} kern_diag;

/* Looks t up through NETLINK_SOCK_DIAG (all states). 1 and *out if found,
 * 0 if the kernel has no such socket (CLOSED), -errno on failure. */
int kern_diag_lookup(kern_ns *ns, const kern_tuple *t, kern_diag *out);
/* Every IPv4 TCP socket of ns: fills up to cap, returns the count found
 * (may exceed cap), or -errno. */
int kern_diag_list(kern_ns *ns, kern_tuple *tuples, kern_diag *diags, size_t cap);

typedef struct kern_tcp_info {
    tcp_state state;
    uint8_t linux_state;
    uint32_t snd_mss, rcv_mss;
    uint32_t rto_us, rtt_us;
    uint32_t snd_cwnd; /* segments */
    uint32_t unacked, retrans, probes, backoff;
    uint8_t snd_wscale, rcv_wscale;
    bool timestamps, sack, wscale;
} kern_tcp_info;

/* TCP_INFO of a live socket: 0 or -errno. */
int kern_tcp_info_get(int fd, kern_tcp_info *out);

/* The Linux state number as a tcp_state (TCP_NEW_SYN_RECV is SYN_RECEIVED,
 * TCP_CLOSE is CLOSED). -1 for a number Linux does not define. */
int kern_state_from_linux(uint8_t linux_state, tcp_state *out);

/* ---- Sampler ------------------------------------------------------------ */

#define KERN_CHANGES_MAX 64

/* A change the sampler saw: the state became `to` after t_before_ns (the
 * previous sample, still `from`) and at or before t_seen_ns. `gap` is set
 * when no single transition leads from `from` to `to`: at least one state
 * between them was missed and is not reported. */
typedef struct kern_change {
    uint64_t t_before_ns, t_seen_ns;
    tcp_state from, to;
    bool gap;
} kern_change;

typedef struct kern_sampler {
    kern_tuple tuple;
    tcp_state last;
    uint64_t last_ns;
    uint32_t samples;
    kern_change changes[KERN_CHANGES_MAX];
    size_t nchanges;
    size_t lost; /* changes past KERN_CHANGES_MAX, counted, not stored */
} kern_sampler;

/* Starts with the tuple CLOSED (no socket) at now_ns. */
void kern_sampler_init(kern_sampler *s, const kern_tuple *t, uint64_t now_ns);
/* One sample at now_ns: 1 if the state changed, 0 if not, -errno. */
int kern_sampler_sample(kern_sampler *s, kern_ns *ns, uint64_t now_ns);
/* Samples until the state is `want` or timeout_ns passes (every 1 ms):
 * 1 if reached, 0 on timeout, -errno. */
int kern_sampler_wait(kern_sampler *s, kern_ns *ns, tcp_state want, uint64_t timeout_ns);
/* Whether one transition leads from `from` to `to`, as a tuple's socket
 * can be seen to move (RFC 9293 §3.3.2 diagram; any state may end CLOSED). */
bool kern_transition_direct(tcp_state from, tcp_state to);

/* ---- Packet pump -------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t kern_clock_ns(void);
/* The first instant at or after at_ns (CLOCK_MONOTONIC) on the kernel's
 * tick grid, where jiffies advance; returns once that instant plus
 * offset_ns has passed. at_ns itself, at once, where the grid cannot be
 * read. */
uint64_t kern_tick_align_ns(uint64_t at_ns, uint64_t offset_ns);
/* The TUN device's file descriptor (non-blocking), for an event loop's poll. */
int kern_tun_fd(const kern_ns *ns);
/* Writes one IPv4 datagram to the kernel: 0, or -errno (-EIO if short). */
int kern_tun_write(kern_ns *ns, const uint8_t *dgram, size_t len);
/* Reads one datagram the kernel sent, waiting at most timeout_ns (0: do not
 * wait). 1 and *len, 0 on timeout, -errno. The device offers no offloads,
 * so the kernel segments before it and a datagram never exceeds the MTU:
 * a buffer of KERN_DGRAM_MAX always holds one whole. */
int kern_tun_read(kern_ns *ns, uint8_t *buf, size_t cap, uint64_t timeout_ns, size_t *len);

#endif
