/*
 * kpeer — see kpeer.h. Test support only: failures go through cmocka.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpeer.h"
#include "tcp.h"

int kp_main(const char *group, const struct CMUnitTest *tests, size_t n)
{
    char why[256];
    if (kern_probe(why, sizeof why) != 0) {
        printf("SKIPPED %s: %s\n", group, why);
        return KP_SKIP;
    }
    char err[256];
    int swept = kern_sweep_stale(err, sizeof err);
    if (swept > 0)
        printf("# removed %d stale namespace name(s)\n", swept);
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

void kp_config(kern_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kernel_addr = KP_KERNEL;
    cfg->peer_addrs[0] = KP_PEER;
    cfg->npeers = 1;
    char err[256];
    int rc = kern_sysctls_from_profile(tcp_profile_find("linux"), cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("linux profile sysctls: %s", err);
}

void kp_open(kpeer *p, const kern_config *cfg, uint16_t peer_port, uint16_t kernel_port)
{
    memset(p, 0, sizeof *p);
    char err[256];
    if (kern_ns_open(cfg, &p->ns, err, sizeof err) != 0)
        fail_msg("kern_ns_open: %s", err);
    snprintf(p->name, sizeof p->name, "%s", kern_ns_name(p->ns));
    p->ns_id = kern_ns_id(p->ns);
    assert_true(p->ns_id != 0);
    p->peer_port = peer_port;
    p->kernel_port = kernel_port;
}

void kp_close(kpeer *p)
{
    kern_ns_close(p->ns);
    p->ns = NULL;
    assert_true(kp_gone(p->name, p->ns_id));
}

void kp_send_seg(kpeer *p, tcp_seg *seg)
{
    seg->src_addr = KP_PEER;
    seg->dst_addr = KP_KERNEL;
    seg->src_port = p->peer_port;
    seg->dst_port = p->kernel_port;
    uint8_t buf[KERN_DGRAM_MAX];
    size_t n = tcp_wire_encode(seg, buf, sizeof buf);
    assert_true(n > 0);
    int rc = kern_tun_write(p->ns, buf, n);
    if (rc != 0)
        fail_msg("tun write: %s", strerror(-rc));
}

void kp_send(kpeer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint32_t len)
{
    tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.wnd = 65535;
    s.payload = data;
    s.len = len;
    kp_send_seg(p, &s);
}

/* 1 and *seg, 0 on timeout; anything unparsable or foreign fails. */
static int next_seg(kpeer *p, uint64_t wait_ns, tcp_seg *seg)
{
    size_t n;
    int rc = kern_tun_read(p->ns, p->rx, sizeof p->rx, wait_ns, &n);
    if (rc < 0)
        fail_msg("tun read: %s", strerror(-rc));
    if (rc == 0)
        return 0;
    tcp_wire_err e = tcp_wire_parse(p->rx, n, seg);
    if (e != TCP_WIRE_OK)
        fail_msg("the kernel wrote %zu bytes that do not parse: %s", n, tcp_wire_err_name(e));
    if (seg->src_addr != KP_KERNEL || seg->dst_addr != KP_PEER || seg->src_port != p->kernel_port ||
        seg->dst_port != p->peer_port)
        fail_msg("a segment from %08x:%u to %08x:%u, not the test's connection", seg->src_addr,
                 seg->src_port, seg->dst_addr, seg->dst_port);
    return 1;
}

void kp_expect(kpeer *p, uint8_t flags, tcp_seg *seg)
{
    if (next_seg(p, KP_WAIT_NS, seg) != 1)
        fail_msg("the kernel sent nothing within 2 s");
    char got[64], want[64];
    if (seg->flags != flags)
        fail_msg("the kernel sent %s, expected %s", tcp_flags_str(seg->flags, got, sizeof got),
                 tcp_flags_str(flags, want, sizeof want));
}

void kp_next(kpeer *p, tcp_seg *seg)
{
    if (next_seg(p, KP_WAIT_NS, seg) != 1)
        fail_msg("the kernel sent nothing within 2 s");
}

void kp_expect_quiet(kpeer *p)
{
    tcp_seg s;
    char f[64];
    if (next_seg(p, KP_QUIET_NS, &s) == 1)
        fail_msg("the kernel sent %s seq %u ack %u, expected nothing",
                 tcp_flags_str(s.flags, f, sizeof f), s.seq, s.ack);
}

kern_tuple kp_tuple(const kpeer *p)
{
    return (kern_tuple){.local_addr = KP_KERNEL,
                        .remote_addr = KP_PEER,
                        .local_port = p->kernel_port,
                        .remote_port = p->peer_port};
}

tcp_state kp_state(kpeer *p)
{
    kern_tuple t = kp_tuple(p);
    kern_diag d;
    int rc = kern_diag_lookup(p->ns, &t, &d);
    if (rc < 0)
        fail_msg("sock_diag: %s", strerror(-rc));
    return rc == 1 ? d.state : TCP_CLOSED;
}

/* Lines of a file containing `needle` and `also`. */
static int count_lines(const char *path, const char *needle, const char *also)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL && strstr(line, also) != NULL;
    fclose(f);
    return n;
}

int kp_count_netns_mounts(long pid)
{
    char at[96];
    snprintf(at, sizeof at, " %s/%s%ld-", KERN_NETNS_DIR, KERN_NS_PREFIX, pid);
    return count_lines("/proc/self/mountinfo", " net:[", at);
}

int kp_count_names(long pid)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s%ld-", KERN_NS_PREFIX, pid);
    DIR *d = opendir(KERN_NETNS_DIR);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static bool fd_on(uint64_t id)
{
    char want[64];
    snprintf(want, sizeof want, "net:[%llu]", (unsigned long long)id);
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[128];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            found |= strcmp(target, want) == 0;
        }
    }
    closedir(d);
    return found;
}

bool kp_gone(const char *name, uint64_t id)
{
    char path[128], mnt[64];
    snprintf(path, sizeof path, "%s/%s", KERN_NETNS_DIR, name);
    snprintf(mnt, sizeof mnt, " net:[%llu]", (unsigned long long)id);
    bool gone = true;
    if (access(path, F_OK) == 0 || errno != ENOENT) {
        print_error("%s still exists\n", path);
        gone = false;
    }
    if (count_lines("/proc/self/mountinfo", mnt, "") != 0) {
        print_error("namespace %s is still mounted\n", mnt + 1);
        gone = false;
    }
    if (fd_on(id)) {
        print_error("a descriptor still holds namespace net:[%llu]\n", (unsigned long long)id);
        gone = false;
    }
    return gone;
}
