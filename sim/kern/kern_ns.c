/*
 * kern_ns — the namespace of one run: made with unshare(CLONE_NEWNET) and
 * bind-mounted on /run/netns/<name> (what `ip netns add` does), holding a
 * TUN device with the kernel endpoint's address and a host route per peer
 * (kern_route.c: with the route metrics and MTU the configuration asks).
 *
 * The thread that opens a kern_ns returns to its own namespace before
 * kern_ns_open returns; later calls enter the namespace only for as long as
 * they make a socket or touch a sysctl (kern_enter / kern_leave). A socket
 * or device stays in the namespace it was made in, so the process as a
 * whole never moves and the machine's own interfaces are never touched.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "kern_internal.h"

int kern_fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int kern_enter(kern_ns *ns)
{
    return setns(ns->ns_fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}

void kern_leave(kern_ns *ns)
{
    /* Failing to return would leave the caller's thread in the run's
     * namespace: no later call could be trusted. */
    int rc = setns(ns->home_fd, CLONE_NEWNET);
    assert(rc == 0);
    (void)rc;
}

static bool in_net(uint32_t a, uint32_t base)
{
    uint32_t host = a & ~KERN_NET_MASK;
    return (a & KERN_NET_MASK) == base && host != 0 && host != 0xff;
}

static bool in_range(uint32_t a)
{
    return in_net(a, KERN_NET_BASE);
}

/* A peer may also sit in TEST-NET-1, where a raw peer lives by default
 * (sim:raw_peer): a documentation range, routed only as a /32 to the TUN
 * device inside the private namespace, so nothing sent to it can leave. */
static bool peer_in_range(uint32_t a)
{
    return in_net(a, KERN_NET_BASE) || in_net(a, KERN_DOC_BASE);
}

static int check_config(const kern_config *c, char *err, size_t err_len)
{
    char ip[INET_ADDRSTRLEN];
    if (!in_range(c->kernel_addr))
        return kern_fail(err, err_len, "kernel address %s is outside the test range 10.0.0.0/24",
                         inet_ntop(AF_INET, &(uint32_t){htonl(c->kernel_addr)}, ip, sizeof ip));
    if (c->npeers == 0 || c->npeers > KERN_PEERS_MAX)
        return kern_fail(err, err_len, "peers: need 1 to %d, got %zu", KERN_PEERS_MAX, c->npeers);
    for (size_t i = 0; i < c->npeers; i++) {
        uint32_t a = c->peer_addrs[i];
        inet_ntop(AF_INET, &(uint32_t){htonl(a)}, ip, sizeof ip);
        if (!peer_in_range(a))
            return kern_fail(err, err_len,
                             "peer address %s is outside the test ranges 10.0.0.0/24 and "
                             "192.0.2.0/24",
                             ip);
        if (a == c->kernel_addr)
            return kern_fail(err, err_len, "peer address %s is the kernel's own", ip);
        for (size_t j = 0; j < i; j++)
            if (c->peer_addrs[j] == a)
                return kern_fail(err, err_len, "peer address %s given twice", ip);
    }
    if (c->mtu && (c->mtu < 68 || c->mtu > 65535))
        return kern_fail(err, err_len, "mtu must be in [68,65535], got %u", c->mtu);
    if (c->nsysctls > KERN_SYSCTLS_MAX)
        return kern_fail(err, err_len, "too many sysctls: %zu", c->nsysctls);
    for (size_t i = 0; i < c->nsysctls; i++)
        if (!kern_sysctl_name_ok(c->sysctls[i].name))
            return kern_fail(err, err_len, "sysctl '%s': only net.* names may be set",
                             c->sysctls[i].name);
    return 0;
}

/* /run/netns as `ip netns add` leaves it: a mount point with shared
 * propagation, so a name mounted here is seen, and unmounted, in every mount
 * namespace, and a later `ip netns add` finds nothing to re-bind over it. */
static int prepare_run_dir(char *err, size_t err_len)
{
    if (mkdir(KERN_NETNS_DIR, 0755) != 0 && errno != EEXIST)
        return kern_fail(err, err_len, "%s: %s", KERN_NETNS_DIR, strerror(errno));
    if (mount("", KERN_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return 0;
    if (errno != EINVAL) /* EINVAL: not a mount point yet */
        return kern_fail(err, err_len, "%s: shared mount: %s", KERN_NETNS_DIR, strerror(errno));
    if (mount(KERN_NETNS_DIR, KERN_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) != 0 ||
        mount("", KERN_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0)
        return kern_fail(err, err_len, "%s: mount point: %s", KERN_NETNS_DIR, strerror(errno));
    return 0;
}

/* Creates /run/netns/<name> exclusively, so two runs never share a name. */
static int make_name(kern_ns *ns, char *err, size_t err_len)
{
    static unsigned counter;
    if (prepare_run_dir(err, err_len) != 0)
        return -1;
    for (int tries = 0; tries < 100; tries++) {
        snprintf(ns->name, sizeof ns->name, "%s%ld-%u", KERN_NS_PREFIX, (long)getpid(), counter++);
        snprintf(ns->path, sizeof ns->path, "%s/%s", KERN_NETNS_DIR, ns->name);
        int fd = open(ns->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd >= 0) {
            close(fd);
            ns->slot = kern_cleanup_add(ns->path);
            if (ns->slot < 0) {
                unlink(ns->path);
                ns->path[0] = '\0';
                return kern_fail(err, err_len, "too many namespaces open at once");
            }
            return 0;
        }
        if (errno != EEXIST)
            return kern_fail(err, err_len, "%s: %s", ns->path, strerror(errno));
    }
    return kern_fail(err, err_len, "no free namespace name under %s", KERN_NETNS_DIR);
}

/* A sysctl that may be absent on this kernel (IPv6 compiled out, an older kernel): fine. */
static int sysctl_optional(const char *name, const char *value)
{
    int rc = kern_sysctl_write(name, value);
    return rc == -ENOENT ? 0 : rc;
}

/* The machine's values of the sysctls a namespace derives from the size of
 * its connection hash (tcp_sk_init: tcp_max_syn_backlog is the buckets / 128,
 * tcp_max_tw_buckets half of them), read at home and written in the run's
 * namespace so its own small hash changes nothing else. */
static const char *const EHASH_DERIVED[] = {"net.ipv4.tcp_max_syn_backlog",
                                            "net.ipv4.tcp_max_tw_buckets"};

/* A sock_diag dump walks every bucket of the namespace's connection hash.
 * A new namespace shares the machine's (tcp_ehash_entries, 262,144 buckets
 * here: about 1.5 ms of system time a dump, and the sampler dumps every
 * millisecond) unless its parent set tcp_child_ehash_entries (Linux 5.19).
 * So the thread first enters an intermediate namespace, sets that there,
 * and makes the run's namespace from it: nothing of the machine's is
 * written, and the intermediate one is freed once the thread leaves it.
 * On an older kernel the sysctl is missing and the shared hash is kept. */
static int unshare_small_hash(char *err, size_t err_len)
{
    if (unshare(CLONE_NEWNET) != 0)
        return kern_fail(err, err_len, "unshare(CLONE_NEWNET): %s", strerror(errno));
    int rc = sysctl_optional("net.ipv4.tcp_child_ehash_entries", KERN_EHASH_ENTRIES);
    if (rc != 0)
        return kern_fail(err, err_len, "sysctl net.ipv4.tcp_child_ehash_entries: %s",
                         strerror(-rc));
    if (unshare(CLONE_NEWNET) != 0)
        return kern_fail(err, err_len, "unshare(CLONE_NEWNET): %s", strerror(errno));
    return 0;
}

/* unshare this thread into a new namespace, pin it on the name, come back. */
static int make_netns(kern_ns *ns, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof EHASH_DERIVED / sizeof EHASH_DERIVED[0]; i++) {
        int rc =
            kern_sysctl_read(EHASH_DERIVED[i], ns->ehash_derived[i], sizeof ns->ehash_derived[i]);
        if (rc != 0)
            return kern_fail(err, err_len, "%s: %s", EHASH_DERIVED[i], strerror(-rc));
    }
    ns->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns->home_fd < 0)
        return kern_fail(err, err_len, "/proc/thread-self/ns/net: %s", strerror(errno));
    if (unshare_small_hash(err, err_len) != 0) {
        kern_leave(ns);
        return -1;
    }
    int rc = 0;
    ns->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns->ns_fd < 0)
        rc = kern_fail(err, err_len, "new namespace: %s", strerror(errno));
    else if (mount("/proc/thread-self/ns/net", ns->path, "none", MS_BIND, NULL) != 0)
        rc = kern_fail(err, err_len, "mount --bind on %s: %s", ns->path, strerror(errno));
    kern_leave(ns);
    return rc;
}

static int ifreq_addr(int s, unsigned long req, uint32_t addr)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", KERN_TUN_NAME);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    return ioctl(s, req, &ifr) == 0 ? 0 : -errno;
}

static int set_up(int s)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", KERN_TUN_NAME);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(s, SIOCSIFFLAGS, &ifr) == 0 ? 0 : -errno;
}

/* The address is set while the device is down and narrowed to /32 before it
 * comes up, so the kernel never installs the class-A prefix route that
 * SIOCSIFADDR implies: the only routes to the device are the peers'. */
static int configure_tun(const kern_ns *ns, char *err, size_t err_len)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return kern_fail(err, err_len, "socket: %s", strerror(errno));
    int rc = ifreq_addr(s, SIOCSIFADDR, ns->cfg.kernel_addr);
    const char *step = "address";
    if (rc == 0 && (step = "netmask", rc = ifreq_addr(s, SIOCSIFNETMASK, 0xffffffffu)) == 0 &&
        ns->cfg.mtu)
        rc = (step = "mtu", kern_route_set_mtu(s, ns->cfg.mtu));
    if (rc == 0)
        rc = (step = "link up", set_up(s));
    close(s);
    if (rc != 0)
        return kern_fail(err, err_len, "%s %s: %s", KERN_TUN_NAME, step, strerror(-rc));
    return kern_route_add_peers(&ns->cfg, err, err_len);
}

static int open_tun(kern_ns *ns, char *err, size_t err_len)
{
    ns->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (ns->tun_fd < 0)
        return kern_fail(err, err_len, "/dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", KERN_TUN_NAME);
    if (ioctl(ns->tun_fd, TUNSETIFF, &ifr) != 0)
        return kern_fail(err, err_len, "TUNSETIFF %s: %s", KERN_TUN_NAME, strerror(errno));
    return 0;
}

/* Before the device exists: IPv6 off by default (no router solicitations,
 * no link-local address ever appears) and no reverse-path filtering. */
static const kern_sysctl FIXED_BEFORE[] = {
    {"net.ipv6.conf.all.disable_ipv6", "1"},
    {"net.ipv6.conf.default.disable_ipv6", "1"},
    {"net.ipv4.conf.all.rp_filter", "0"},
    {"net.ipv4.conf.default.rp_filter", "0"},
};
static const kern_sysctl FIXED_AFTER[] = {
    {"net.ipv6.conf." KERN_TUN_NAME ".disable_ipv6", "1"},
    {"net.ipv4.conf." KERN_TUN_NAME ".rp_filter", "0"},
};

static int write_sysctls(const kern_sysctl *list, size_t n, bool optional, char *err,
                         size_t err_len)
{
    for (size_t i = 0; i < n; i++) {
        int rc = optional ? sysctl_optional(list[i].name, list[i].value)
                          : kern_sysctl_write(list[i].name, list[i].value);
        if (rc != 0)
            return kern_fail(err, err_len, "sysctl %s=%s: %s", list[i].name, list[i].value,
                             strerror(-rc));
    }
    return 0;
}

/* The machine's tcp_max_syn_backlog and tcp_max_tw_buckets, in place of
 * the values tcp_sk_init derived from the namespace's small hash. */
static int write_derived(const kern_ns *ns, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof EHASH_DERIVED / sizeof EHASH_DERIVED[0]; i++) {
        int rc = kern_sysctl_write(EHASH_DERIVED[i], ns->ehash_derived[i]);
        if (rc != 0)
            return kern_fail(err, err_len, "sysctl %s=%s: %s", EHASH_DERIVED[i],
                             ns->ehash_derived[i], strerror(-rc));
    }
    return 0;
}

/* Everything done inside the namespace, in order. */
static int populate(kern_ns *ns, char *err, size_t err_len)
{
    size_t nb = sizeof FIXED_BEFORE / sizeof FIXED_BEFORE[0];
    size_t na = sizeof FIXED_AFTER / sizeof FIXED_AFTER[0];
    if (write_sysctls(FIXED_BEFORE, nb, true, err, err_len) != 0 ||
        open_tun(ns, err, err_len) != 0 || write_sysctls(FIXED_AFTER, na, true, err, err_len) ||
        configure_tun(ns, err, err_len) != 0 || write_derived(ns, err, err_len) != 0 ||
        write_sysctls(ns->cfg.sysctls, ns->cfg.nsysctls, false, err, err_len) != 0)
        return -1;
    ns->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (ns->diag_fd < 0)
        return kern_fail(err, err_len, "NETLINK_SOCK_DIAG: %s", strerror(errno));
    /* A dump answers at once; the bound only guards against a kernel that
     * never does, so no call here can hang. */
    struct timeval tv = {.tv_sec = 1};
    if (setsockopt(ns->diag_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        return kern_fail(err, err_len, "SO_RCVTIMEO: %s", strerror(errno));
    return 0;
}

static kern_ns *ns_alloc(const kern_config *cfg)
{
    kern_ns *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NULL;
    ns->slot = -1;
    ns->ns_fd = ns->home_fd = ns->tun_fd = ns->diag_fd = -1;
    ns->cfg = *cfg;
    for (size_t i = 0; i < KERN_SOCKS_MAX; i++)
        ns->socks[i] = -1;
    return ns;
}

int kern_ns_open(const kern_config *cfg, kern_ns **out, char *err, size_t err_len)
{
    *out = NULL;
    if (check_config(cfg, err, err_len) != 0)
        return -1;
    kern_sweep_stale(NULL, 0); /* what a killed run left behind */
    kern_ns *ns = ns_alloc(cfg);
    if (!ns)
        return kern_fail(err, err_len, "out of memory");
    if (make_name(ns, err, err_len) != 0 || make_netns(ns, err, err_len) != 0)
        goto fail;
    int rc = kern_enter(ns);
    if (rc != 0) {
        kern_fail(err, err_len, "setns: %s", strerror(-rc));
        goto fail;
    }
    rc = populate(ns, err, err_len);
    kern_leave(ns);
    if (rc != 0)
        goto fail;
    uint64_t wait_ns = cfg->ready_timeout_ns ? cfg->ready_timeout_ns : 2000000000ull;
    rc = kern_wait_datapath(ns, wait_ns);
    if (rc != 0) {
        kern_fail(err, err_len, "%s: no echo reply through %s: %s", ns->name, KERN_TUN_NAME,
                  strerror(-rc));
        goto fail;
    }
    *out = ns;
    return 0;
fail:
    kern_ns_close(ns);
    return -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void kern_ns_close(kern_ns *ns)
{
    if (!ns)
        return;
    for (size_t i = 0; i < KERN_SOCKS_MAX; i++)
        close_fd(&ns->socks[i]);
    close_fd(&ns->tun_fd);
    close_fd(&ns->diag_fd);
    close_fd(&ns->ns_fd);
    close_fd(&ns->home_fd);
    if (ns->path[0])
        kern_netns_unlink(ns->path);
    kern_cleanup_remove(ns->slot);
    free(ns);
}

const char *kern_ns_name(const kern_ns *ns)
{
    return ns->name;
}

uint64_t kern_ns_id(const kern_ns *ns)
{
    struct stat st;
    return fstat(ns->ns_fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int kern_tun_fd(const kern_ns *ns)
{
    return ns->tun_fd;
}

int kern_track(kern_ns *ns, int fd)
{
    for (size_t i = 0; i < KERN_SOCKS_MAX; i++) {
        if (ns->socks[i] < 0) {
            ns->socks[i] = fd;
            return 0;
        }
    }
    return -EMFILE;
}

void kern_untrack(kern_ns *ns, int fd)
{
    for (size_t i = 0; i < KERN_SOCKS_MAX; i++)
        if (ns->socks[i] == fd)
            ns->socks[i] = -1;
}
