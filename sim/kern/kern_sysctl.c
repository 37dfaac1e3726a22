/*
 * kern_sysctl — net.* sysctls of the namespace, and the Linux profile's
 * values that have one.
 *
 * /proc/sys/net shows the network namespace of the thread that opens the
 * file, so a write made between kern_enter and kern_leave changes that
 * namespace only. Names are restricted to "net." followed by [a-z0-9_.-]:
 * nothing outside net.* is per-namespace, and no name can climb out of
 * /proc/sys/net with "/" or "..".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kern_internal.h"

bool kern_sysctl_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n <= 4 || n >= sizeof(((kern_sysctl *)0)->name) || strncmp(name, "net.", 4) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok || (c == '.' && (i + 1 == n || name[i + 1] == '.')))
            return false;
    }
    return true;
}

static void sysctl_path(const char *name, char *path, size_t len)
{
    snprintf(path, len, "/proc/sys/%s", name);
    for (char *p = path + strlen("/proc/sys/"); *p; p++)
        if (*p == '.')
            *p = '/';
}

int kern_sysctl_write(const char *name, const char *value)
{
    if (!kern_sysctl_name_ok(name))
        return -EINVAL;
    char path[128];
    sysctl_path(name, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    int rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
    close(fd);
    return rc;
}

int kern_sysctl_read(const char *name, char *buf, size_t len)
{
    if (!kern_sysctl_name_ok(name) || len == 0)
        return -EINVAL;
    char path[128];
    sysctl_path(name, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, len - 1);
    int rc = r < 0 ? -errno : 0;
    close(fd);
    if (rc != 0)
        return rc;
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
        r--;
    buf[r] = '\0';
    return 0;
}

int kern_ns_sysctl_read(kern_ns *ns, const char *name, char *buf, size_t len)
{
    int rc = kern_enter(ns);
    if (rc != 0)
        return rc;
    rc = kern_sysctl_read(name, buf, len);
    kern_leave(ns);
    return rc;
}

static int add_str(kern_config *c, const char *name, const char *v, char *err, size_t err_len)
{
    if (c->nsysctls >= KERN_SYSCTLS_MAX)
        return kern_fail(err, err_len, "too many sysctls (max %d)", KERN_SYSCTLS_MAX);
    kern_sysctl *s = &c->sysctls[c->nsysctls++];
    snprintf(s->name, sizeof s->name, "net.ipv4.%s", name);
    snprintf(s->value, sizeof s->value, "%s", v);
    return 0;
}

static int add(kern_config *c, const char *name, unsigned long long v, char *err, size_t err_len)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", v);
    return add_str(c, name, buf, err, err_len);
}

/* A duration as whole seconds, the only unit these sysctls take. */
static int add_seconds(kern_config *c, const char *name, const char *knob, uint64_t ns, char *err,
                       size_t err_len)
{
    if (ns == 0 || ns % 1000000000ull != 0)
        return kern_fail(err, err_len, "%s: %llu ns has no net.ipv4.%s value (whole seconds > 0)",
                         knob, (unsigned long long)ns, name);
    return add(c, name, ns / 1000000000ull, err, err_len);
}

int kern_sysctls_from_profile(const tcp_profile *p, kern_config *c, char *err, size_t err_len)
{
    /* Names and meanings: Documentation/networking/ip-sysctl.rst. */
    if (add_seconds(c, "tcp_fin_timeout", "fin_wait_2_timeout", p->fin_wait_2_timeout_ns, err,
                    err_len) != 0 ||
        add(c, "tcp_syn_retries", p->syn_retries, err, err_len) != 0 ||
        add(c, "tcp_synack_retries", p->synack_retries, err, err_len) != 0 ||
        add(c, "tcp_retries2", p->data_retries, err, err_len) != 0 ||
        add_seconds(c, "tcp_keepalive_time", "keepalive_idle", p->keepalive_idle_ns, err,
                    err_len) != 0 ||
        add_seconds(c, "tcp_keepalive_intvl", "keepalive_intvl", p->keepalive_intvl_ns, err,
                    err_len) != 0 ||
        add(c, "tcp_keepalive_probes", p->keepalive_probes, err, err_len) != 0 ||
        add(c, "tcp_rfc1337", p->tw_rst == TCP_TW_RST_IGNORE, err, err_len) != 0 ||
        add(c, "tcp_timestamps", p->send_timestamps, err, err_len) != 0 ||
        add(c, "tcp_window_scaling", p->send_wscale, err, err_len) != 0 ||
        add(c, "tcp_sack", p->send_sack_perm, err, err_len) != 0 ||
        add(c, "tcp_comp_sack_delay_ns", p->comp_sack_delay_ns, err, err_len) != 0 ||
        add(c, "tcp_comp_sack_slack_ns", p->comp_sack_slack_ns, err, err_len) != 0 ||
        add(c, "tcp_comp_sack_nr", p->comp_sack_nr, err, err_len) != 0 ||
        /* Receive-buffer autotuning (tcp_rcv_space_adjust runs only with
         * it): a namespace sysctl, default 1, the profile's rcv_autotune. */
        add(c, "tcp_moderate_rcvbuf", p->rcv_autotune, err, err_len) != 0 ||
        /* The stack's congestion control is RFC 5681 with RFC 6582's
         * recovery: Linux's "reno" (tcp_cong.c, always built in and
         * allowed in any namespace), not the machine's default (CUBIC or
         * BBR, whose send buffer, pacing and window growth differ:
         * tcp_sndbuf_expand takes BBR's factor 3). */
        add_str(c, "tcp_congestion_control", KERN_CONGESTION_CONTROL, err, err_len) != 0)
        return -1;
    return 0;
}
