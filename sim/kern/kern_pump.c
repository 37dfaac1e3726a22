/*
 * kern_pump — datagrams in and out of the TUN device, on CLOCK_MONOTONIC.
 *
 * The device is IFF_TUN|IFF_NO_PI: one read or write is exactly one IPv4
 * datagram, no header before it. Reads wait with ppoll, so a timeout is as
 * fine as the kernel's timers allow and never longer than asked.
 * kern_wait_datapath and kern_probe are the checks made before a run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kern_internal.h"
#include "tcp_wire.h"

uint64_t kern_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC_COARSE is the timekeeper's time as of the last tick,
 * and it advances a whole tick (TICK_NSEC, its resolution) at a time, so
 * its value modulo its resolution is the phase of the tick grid. Waits
 * with TIMER_ABSTIME until the aligned instant plus offset_ns has come,
 * so a clock measured from the result never reads less than offset_ns. */
uint64_t kern_tick_align_ns(uint64_t at_ns, uint64_t offset_ns)
{
    struct timespec res, c;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 ||
        clock_gettime(CLOCK_MONOTONIC_COARSE, &c) != 0 || res.tv_sec != 0 || res.tv_nsec <= 1)
        return at_ns;
    uint64_t tick = (uint64_t)res.tv_nsec;
    uint64_t phase = ((uint64_t)c.tv_sec * 1000000000ull + (uint64_t)c.tv_nsec) % tick;
    uint64_t aligned = at_ns - at_ns % tick + phase;
    if (aligned < at_ns)
        aligned += tick;
    uint64_t until = aligned + offset_ns;
    struct timespec ts = {.tv_sec = (time_t)(until / 1000000000ull),
                          .tv_nsec = (long)(until % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    return aligned;
}

int kern_tun_write(kern_ns *ns, const uint8_t *dgram, size_t len)
{
    ssize_t n = write(ns->tun_fd, dgram, len);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int kern_tun_read(kern_ns *ns, uint8_t *buf, size_t cap, uint64_t timeout_ns, size_t *len)
{
    *len = 0;
    uint64_t end = kern_clock_ns() + timeout_ns;
    for (;;) {
        ssize_t n = read(ns->tun_fd, buf, cap);
        if (n >= 0) {
            *len = (size_t)n;
            return 1;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        uint64_t now = kern_clock_ns();
        if (now >= end)
            return 0;
        uint64_t left = end - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000ull),
                              .tv_nsec = (long)(left % 1000000000ull)};
        struct pollfd p = {.fd = ns->tun_fd, .events = POLLIN};
        if (ppoll(&p, 1, &ts, NULL) < 0 && errno != EINTR)
            return -errno;
    }
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An ICMP echo request (RFC 792) from `src` to `dst`, 28 bytes. */
static size_t echo_request(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq)
{
    memset(b, 0, 28);
    b[0] = 0x45;
    put16(b + 2, 28);
    b[8] = 64; /* TTL */
    b[9] = 1;  /* ICMP */
    put32(b + 12, src);
    put32(b + 16, dst);
    put16(b + 10, (uint16_t)~tcp_wire_sum(b, 20, 0));
    b[20] = 8; /* echo request */
    put16(b + 24, id);
    put16(b + 26, seq);
    put16(b + 22, (uint16_t)~tcp_wire_sum(b + 20, 8, 0));
    return 28;
}

static bool is_echo_reply(const uint8_t *b, size_t n, uint32_t to, uint16_t id)
{
    if (n < 28 || (b[0] >> 4) != 4 || b[9] != 1)
        return false;
    size_t ihl = (size_t)(b[0] & 15) * 4;
    uint32_t dst = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    return n >= ihl + 8 && dst == to && b[ihl] == 0 && (b[ihl + 4] << 8 | b[ihl + 5]) == id;
}

int kern_wait_datapath(kern_ns *ns, uint64_t timeout_ns)
{
    uint32_t peer = ns->cfg.peer_addrs[0];
    uint16_t id = (uint16_t)getpid();
    uint64_t end = kern_clock_ns() + timeout_ns;
    uint8_t req[28], buf[KERN_DGRAM_MAX];
    for (uint16_t seq = 1;; seq++) {
        int rc = kern_tun_write(ns, req, echo_request(req, peer, ns->cfg.kernel_addr, id, seq));
        if (rc != 0 && rc != -EIO)
            return rc;
        /* Anything else the kernel sends meanwhile is not ours to keep. */
        uint64_t round_end = kern_clock_ns() + 50000000ull;
        for (;;) {
            uint64_t now = kern_clock_ns();
            if (now >= round_end || now >= end)
                break;
            size_t n;
            rc = kern_tun_read(ns, buf, sizeof buf, round_end - now, &n);
            if (rc < 0)
                return rc;
            if (rc == 1 && is_echo_reply(buf, n, peer, id))
                return 0;
        }
        if (kern_clock_ns() >= end)
            return -ETIMEDOUT;
    }
}

/* In a child, so the caller's thread keeps its namespace whatever happens. */
static int try_unshare(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        _exit(unshare(CLONE_NEWNET) == 0 ? 0 : (errno & 0x7f));
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -errno;
    return WIFEXITED(st) ? -WEXITSTATUS(st) : -ECHILD;
}

int kern_probe(char *why, size_t why_len)
{
    if (geteuid() != 0)
        return kern_fail(why, why_len, "not root (euid %ld): a network namespace needs root",
                         (long)geteuid());
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return kern_fail(why, why_len, "no TUN device: /dev/net/tun: %s", strerror(errno));
    close(fd);
    int rc = try_unshare();
    if (rc != 0)
        return kern_fail(why, why_len, "no network namespaces: unshare(CLONE_NEWNET): %s",
                         strerror(-rc));
    /* Either /run/netns is writable or /run is, to make it in. */
    if (access(KERN_NETNS_DIR, W_OK) != 0 && (errno != ENOENT || access("/run", W_OK) != 0))
        return kern_fail(why, why_len, "cannot write %s: %s", KERN_NETNS_DIR, strerror(errno));
    return 0;
}
