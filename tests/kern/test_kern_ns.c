/*
 * test_kern_ns — the namespace's contract: what is inside it (one TUN
 * device, one route per peer, IPv6 off, rp_filter off, the sysctls asked
 * for), that nothing outside it changes, and that it is gone after every way
 * out: kern_ns_close, a configuration refused before anything is made, an
 * error after the namespace was made, exit() without close, SIGTERM and
 * SIGINT. SIGKILL leaves the name behind, and kern_sweep_stale removes it.
 *
 * What is inside is read independently of kern: the test enters the
 * namespace through its name under /run/netns, as `ip netns exec` does, and
 * reads /proc/thread-self/net.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kpeer.h"

/* Reads a whole /proc/thread-self/net file from inside the named namespace. */
static void read_inside(const char *name, const char *file, char *buf, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", KERN_NETNS_DIR, name);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(nsfd >= 0 && home >= 0);
    assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
    snprintf(path, sizeof path, "/proc/thread-self/net/%s", file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    close(nsfd);
    close(home);
    buf[0] = '\0';
    if (fd < 0)
        return; /* absent: e.g. if_inet6 with IPv6 off */
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
}

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void host_sysctl(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, (int)len, f));
    fclose(f);
}

static void expect_sysctl(kern_ns *ns, const char *name, const char *want)
{
    char v[64];
    int rc = kern_ns_sysctl_read(ns, name, v, sizeof v);
    if (rc != 0)
        fail_msg("%s: %s", name, strerror(-rc));
    if (strcmp(v, want) != 0)
        fail_msg("%s is %s, expected %s", name, v, want);
}

static void inside_is_what_was_asked(void **state)
{
    (void)state;
    char before[64], after[64];
    host_sysctl("/proc/sys/net/ipv4/tcp_fin_timeout", before, sizeof before);
    kern_config cfg;
    kp_config(&cfg);
    cfg.peer_addrs[1] = 0x0a000003u; /* 10.0.0.3 */
    cfg.npeers = 2;
    snprintf(cfg.sysctls[cfg.nsysctls].name, 64, "net.ipv4.tcp_fin_timeout");
    snprintf(cfg.sysctls[cfg.nsysctls++].value, 64, "17"); /* after the profile's 60 */
    kpeer p;
    int mounts = kp_count_netns_mounts(getpid());
    kp_open(&p, &cfg, 40000, 80);
    assert_int_equal(kp_count_netns_mounts(getpid()), mounts + 1); /* its name, mounted */
    expect_sysctl(p.ns, "net.ipv4.tcp_fin_timeout", "17");
    expect_sysctl(p.ns, "net.ipv4.conf." KERN_TUN_NAME ".rp_filter", "0");
    expect_sysctl(p.ns, "net.ipv4.conf.all.rp_filter", "0");
    expect_sysctl(p.ns, "net.ipv6.conf." KERN_TUN_NAME ".disable_ipv6", "1");
    host_sysctl("/proc/sys/net/ipv4/tcp_fin_timeout", after, sizeof after);
    assert_string_equal(before, after); /* the machine's own value is untouched */

    char buf[8192];
    read_inside(p.name, "dev", buf, sizeof buf);
    assert_int_equal(count_substr(buf, ":"), 2); /* lo and the TUN device only */
    assert_non_null(strstr(buf, KERN_TUN_NAME ":"));
    /* /proc/net/route: destinations in network byte order, printed as a
     * little-endian word: 10.0.0.1 is 0100000A. Exactly the peers' /32s. */
    read_inside(p.name, "route", buf, sizeof buf);
    assert_int_equal(count_substr(buf, "\n"), 3);
    assert_non_null(strstr(buf, KERN_TUN_NAME "\t0100000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF"));
    assert_non_null(strstr(buf, KERN_TUN_NAME "\t0300000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF"));
    read_inside(p.name, "if_inet6", buf, sizeof buf);
    assert_string_equal(buf, ""); /* no IPv6 address on any device */
    kp_close(&p);
}

/* The namespace has a connection hash of its own, so a sock_diag dump
 * walks its few buckets rather than the machine's (tcp_ehash_entries is
 * positive for a namespace that owns its hash, negative for one sharing
 * the machine's), while the two sysctls the kernel derives from that size
 * keep the machine's values, and the machine's own sysctls are untouched. */
static void namespace_owns_a_small_connection_hash(void **state)
{
    (void)state;
    char home_child[64], home_backlog[64], home_tw[64], v[64];
    if (access("/proc/sys/net/ipv4/tcp_child_ehash_entries", F_OK) != 0)
        skip(); /* before Linux 5.19: the hash is shared */
    host_sysctl("/proc/sys/net/ipv4/tcp_child_ehash_entries", home_child, sizeof home_child);
    host_sysctl("/proc/sys/net/ipv4/tcp_max_syn_backlog", home_backlog, sizeof home_backlog);
    host_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", home_tw, sizeof home_tw);
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_int_equal(kern_ns_sysctl_read(p.ns, "net.ipv4.tcp_ehash_entries", v, sizeof v), 0);
    assert_string_equal(v, "256");
    home_backlog[strcspn(home_backlog, "\n")] = '\0';
    home_tw[strcspn(home_tw, "\n")] = '\0';
    expect_sysctl(p.ns, "net.ipv4.tcp_max_syn_backlog", home_backlog);
    expect_sysctl(p.ns, "net.ipv4.tcp_max_tw_buckets", home_tw);
    kp_close(&p);
    host_sysctl("/proc/sys/net/ipv4/tcp_child_ehash_entries", v, sizeof v);
    assert_string_equal(v, home_child);
}

/* Each value kern_sysctls_from_profile writes for the linux profile is
 * what a fresh namespace of this kernel already has: the profile's claim,
 * checked against the kernel's defaults. The congestion control is the
 * one exception (the stack's reno, not the machine's default), checked
 * below. */
static void linux_profile_matches_kernel_defaults(void **state)
{
    (void)state;
    kern_config cfg, prof;
    kp_config(&prof); /* with the profile's sysctls */
    memcpy(&cfg, &prof, sizeof cfg);
    cfg.nsysctls = 0; /* a namespace with the kernel's own defaults */
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_true(prof.nsysctls >= 11);
    int differ = 0;
    for (size_t i = 0; i < prof.nsysctls; i++) {
        if (!strcmp(prof.sysctls[i].name, "net.ipv4.tcp_congestion_control"))
            continue;
        char v[64];
        assert_int_equal(kern_ns_sysctl_read(p.ns, prof.sysctls[i].name, v, sizeof v), 0);
        print_message("# %s: kernel %s, profile %s\n", prof.sysctls[i].name, v,
                      prof.sysctls[i].value);
        differ += strcmp(v, prof.sysctls[i].value) != 0;
    }
    assert_int_equal(differ, 0);
    kp_close(&p);
}

/* The namespace runs the stack's congestion control (reno, allowed in any
 * namespace), whatever the machine's default; the machine keeps its own. */
static void namespace_runs_reno(void **state)
{
    (void)state;
    char before[64], after[64], v[64];
    host_sysctl("/proc/sys/net/ipv4/tcp_congestion_control", before, sizeof before);
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_int_equal(kern_ns_sysctl_read(p.ns, "net.ipv4.tcp_congestion_control", v, sizeof v), 0);
    assert_string_equal(v, KERN_CONGESTION_CONTROL);
    kp_close(&p);
    host_sysctl("/proc/sys/net/ipv4/tcp_congestion_control", after, sizeof after);
    assert_string_equal(after, before);
}

/* The namespace's counters are its own, from zero: the datapath check's
 * echo is the only ICMP it has seen, and no challenge ACK was sent; a name
 * this kernel does not have is -ENOENT. */
static void namespace_counters_are_its_own(void **state)
{
    (void)state;
    static const char text[] = "TcpExt: SyncookiesSent TCPChallengeACK\n"
                               "TcpExt: 0 7\n"
                               "IpExt: InNoRoutes\n"
                               "IpExt: 3\n";
    uint64_t v = 99;
    assert_int_equal(kern_mib_find(text, "TcpExt", "TCPChallengeACK", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(kern_mib_find(text, "IpExt", "InNoRoutes", &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(kern_mib_find(text, "TcpExt", "InNoRoutes", &v), -ENOENT);
    assert_int_equal(kern_mib_find(text, "Tcp", "TCPChallengeACK", &v), -ENOENT);
    /* A text cut inside the value (a file read short) or a value that is
     * no number is an error, not the digits before the cut */
    v = 99;
    assert_int_equal(
        kern_mib_find("TcpExt: A TCPChallengeACK\nTcpExt: 0 12", "TcpExt", "TCPChallengeACK", &v),
        -EIO);
    assert_int_equal(kern_mib_find("TcpExt: A TCPChallengeACK\nTcpExt: 0 1x2\n", "TcpExt",
                                   "TCPChallengeACK", &v),
                     -EIO);
    assert_int_equal(v, 99);
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_int_equal(kern_ns_mib_read(p.ns, "TcpExt", "TCPChallengeACK", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(kern_ns_mib_read(p.ns, "Icmp", "InEchos", &v), 0);
    assert_true(v >= 1);
    assert_int_equal(kern_ns_mib_read(p.ns, "Tcp", "ActiveOpens", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(kern_ns_mib_read(p.ns, "TcpExt", "NoSuchCounter", &v), -ENOENT);
    kp_close(&p);
}

/* rcv_autotune is tcp_moderate_rcvbuf inside the namespace: turned off
 * there, the machine's own value stays. */
static void rcv_autotune_off_is_the_namespace_moderate_rcvbuf(void **state)
{
    (void)state;
    char before[64], after[64], v[64];
    host_sysctl("/proc/sys/net/ipv4/tcp_moderate_rcvbuf", before, sizeof before);
    tcp_profile pr = *tcp_profile_find("linux");
    pr.rcv_autotune = false;
    kern_config cfg;
    kp_config(&cfg);
    cfg.nsysctls = 0;
    char err[256];
    assert_int_equal(kern_sysctls_from_profile(&pr, &cfg, err, sizeof err), 0);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_int_equal(kern_ns_sysctl_read(p.ns, "net.ipv4.tcp_moderate_rcvbuf", v, sizeof v), 0);
    assert_string_equal(v, "0");
    kp_close(&p);
    host_sysctl("/proc/sys/net/ipv4/tcp_moderate_rcvbuf", after, sizeof after);
    assert_string_equal(after, before);
}

static void rfc9293_profile_has_no_sysctl_for_no_fin_wait_2_timeout(void **state)
{
    (void)state;
    kern_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[256];
    assert_int_equal(kern_sysctls_from_profile(tcp_profile_find("rfc9293"), &cfg, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "fin_wait_2_timeout"));
}

/* Refused before anything exists: nothing to remove, nothing left. */
static void bad_config_is_refused_and_leaves_nothing(void **state)
{
    (void)state;
    int names = kp_count_names(getpid()), mounts = kp_count_netns_mounts(getpid());
    kern_config cfg;
    kp_config(&cfg);
    cfg.kernel_addr = 0xc0a80102u; /* 192.168.1.2: not the test range */
    kern_ns *ns;
    char err[256];
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_null(ns);
    assert_non_null(strstr(err, "outside the test range"));

    kp_config(&cfg);
    snprintf(cfg.sysctls[0].name, 64, "kernel.panic"); /* not per-namespace */
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "only net.* names"));

    kp_config(&cfg);
    snprintf(cfg.sysctls[0].name, 64, "net.ipv4/../../kernel/panic");
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);

    kp_config(&cfg);
    cfg.peer_addrs[0] = KP_KERNEL;
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "kernel's own"));

    /* TEST-NET-1 is a peer's range (a raw peer's default address), never
     * the kernel's; anything else is neither */
    kp_config(&cfg);
    cfg.kernel_addr = 0xc0000202u; /* 192.0.2.2 */
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "outside the test range"));
    kp_config(&cfg);
    cfg.peer_addrs[0] = 0xc0000302u; /* 192.0.3.2 */
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "outside the test ranges"));
    assert_int_equal(kp_count_names(getpid()), names);
    assert_int_equal(kp_count_netns_mounts(getpid()), mounts);
}

/* Fails after the namespace and the device exist: all of it goes. */
static void error_after_creation_removes_namespace(void **state)
{
    (void)state;
    int names = kp_count_names(getpid()), mounts = kp_count_netns_mounts(getpid());
    kern_config cfg;
    kp_config(&cfg);
    snprintf(cfg.sysctls[cfg.nsysctls].name, 64, "net.ipv4.tcp_no_such_knob");
    snprintf(cfg.sysctls[cfg.nsysctls++].value, 64, "1");
    kern_ns *ns;
    char err[256];
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    assert_null(ns);
    print_message("# %s\n", err);
    assert_non_null(strstr(err, "net.ipv4.tcp_no_such_knob"));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(kp_count_names(getpid()), names);
    assert_int_equal(kp_count_netns_mounts(getpid()), mounts);
}

/* The datapath check can fail: with echo requests ignored no reply comes,
 * kern_ns_open gives up after ready_timeout_ns and removes everything. */
static void silent_datapath_fails_the_open(void **state)
{
    (void)state;
    int names = kp_count_names(getpid()), mounts = kp_count_netns_mounts(getpid());
    kern_config cfg;
    kp_config(&cfg);
    snprintf(cfg.sysctls[cfg.nsysctls].name, 64, "net.ipv4.icmp_echo_ignore_all");
    snprintf(cfg.sysctls[cfg.nsysctls++].value, 64, "1");
    cfg.ready_timeout_ns = 200000000ull;
    kern_ns *ns;
    char err[256];
    uint64_t t0 = kern_clock_ns();
    assert_int_equal(kern_ns_open(&cfg, &ns, err, sizeof err), -1);
    uint64_t took_ms = (kern_clock_ns() - t0) / 1000000;
    print_message("# %s (%llu ms)\n", err, (unsigned long long)took_ms);
    assert_non_null(strstr(err, "no echo reply"));
    assert_true(took_ms >= 200 && took_ms < 1000);
    assert_int_equal(kp_count_names(getpid()), names);
    assert_int_equal(kp_count_netns_mounts(getpid()), mounts);
}

/* A child opens a namespace, reports its name, then does `how`. */
enum child_end { END_PAUSE, END_EXIT };

static pid_t child_with_ns(enum child_end how, char *name, size_t len)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        kern_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.kernel_addr = KP_KERNEL;
        cfg.peer_addrs[0] = KP_PEER;
        cfg.npeers = 1;
        kern_ns *ns;
        char err[256];
        if (kern_ns_open(&cfg, &ns, err, sizeof err) != 0)
            _exit(3);
        dprintf(pfd[1], "%s\n", kern_ns_name(ns));
        close(pfd[1]);
        if (how == END_EXIT)
            exit(0); /* no kern_ns_close: atexit must remove it */
        for (int i = 0; i < 100; i++)
            sleep(1); /* until the parent's signal; bounded regardless */
        _exit(4);
    }
    close(pfd[1]);
    ssize_t n = read(pfd[0], name, len - 1);
    close(pfd[0]);
    assert_true(n > 1);
    name[n - 1] = '\0';
    return pid;
}

static bool name_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", KERN_NETNS_DIR, name);
    return access(path, F_OK) == 0;
}

static void killed_by(int sig)
{
    char name[64];
    pid_t pid = child_with_ns(END_PAUSE, name, sizeof name);
    assert_true(name_exists(name));
    assert_int_equal(kill(pid, sig), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), sig); /* the handler re-raised it */
    assert_false(name_exists(name));
    assert_int_equal(kp_count_names(pid), 0);
}

static void sigterm_removes_namespace(void **state)
{
    (void)state;
    killed_by(SIGTERM);
}

static void sigint_removes_namespace(void **state)
{
    (void)state;
    killed_by(SIGINT);
}

static void exit_without_close_removes_namespace(void **state)
{
    (void)state;
    char name[64];
    pid_t pid = child_with_ns(END_EXIT, name, sizeof name);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_false(name_exists(name));
}

/* A child made by fork() inherits the cleanup table: its exit() and its
 * death by SIGTERM must leave the parent's namespace alone. */
static void forked_child_leaves_parent_namespace_alone(void **state)
{
    (void)state;
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    for (int sig = 0; sig <= SIGTERM; sig += SIGTERM) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (sig)
                raise(sig);
            exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(sig ? WIFSIGNALED(st) : WIFEXITED(st));
        assert_true(name_exists(p.name));
    }
    int fd;
    assert_int_equal(kern_sock_listen(p.ns, KP_KERNEL, 80, 8, &fd), 0); /* still usable */
    kp_close(&p);
}

static void sigkill_leaves_a_name_that_the_sweep_removes(void **state)
{
    (void)state;
    char name[64];
    pid_t pid = child_with_ns(END_PAUSE, name, sizeof name);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(name_exists(name)); /* nothing runs on SIGKILL */
    char err[256];
    int removed = kern_sweep_stale(err, sizeof err);
    assert_true(removed >= 1);
    assert_false(name_exists(name));
    assert_int_equal(kp_count_names(pid), 0);
}

static void next_open_sweeps_what_sigkill_left(void **state)
{
    (void)state;
    char name[64];
    pid_t pid = child_with_ns(END_PAUSE, name, sizeof name);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(name_exists(name));
    kern_config cfg;
    kp_config(&cfg);
    kpeer p;
    kp_open(&p, &cfg, 40000, 80);
    assert_false(name_exists(name));
    kp_close(&p);
}

static void sweep_keeps_live_namespaces(void **state)
{
    (void)state;
    char name[64];
    pid_t pid = child_with_ns(END_PAUSE, name, sizeof name);
    char err[256];
    assert_true(kern_sweep_stale(err, sizeof err) >= 0);
    assert_true(name_exists(name)); /* its process is alive */
    kill(pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_false(name_exists(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inside_is_what_was_asked),
        cmocka_unit_test(namespace_owns_a_small_connection_hash),
        cmocka_unit_test(linux_profile_matches_kernel_defaults),
        cmocka_unit_test(namespace_runs_reno),
        cmocka_unit_test(namespace_counters_are_its_own),
        cmocka_unit_test(rcv_autotune_off_is_the_namespace_moderate_rcvbuf),
        cmocka_unit_test(rfc9293_profile_has_no_sysctl_for_no_fin_wait_2_timeout),
        cmocka_unit_test(bad_config_is_refused_and_leaves_nothing),
        cmocka_unit_test(error_after_creation_removes_namespace),
        cmocka_unit_test(silent_datapath_fails_the_open),
        cmocka_unit_test(sigterm_removes_namespace),
        cmocka_unit_test(sigint_removes_namespace),
        cmocka_unit_test(exit_without_close_removes_namespace),
        cmocka_unit_test(forked_child_leaves_parent_namespace_alone),
        cmocka_unit_test(sigkill_leaves_a_name_that_the_sweep_removes),
        cmocka_unit_test(next_open_sweeps_what_sigkill_left),
        cmocka_unit_test(sweep_keeps_live_namespaces),
    };
    return KP_MAIN("kern_ns", tests);
}
