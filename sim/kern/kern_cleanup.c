/*
 * kern_cleanup — namespaces are removed on every way out of the process.
 *
 * A signal handler and an atexit function cannot be handed a kern_ns, so the
 * names of live namespaces sit in the one writable static table of this
 * module. The table is written only with SIGINT/SIGTERM/SIGHUP blocked, so
 * the handler never sees a half-written entry. The handler removes every
 * name, restores the signal's default action and raises it again, so the
 * process still dies of the signal it was sent.
 *
 * Entries carry the pid that made them: a child made by fork() inherits the
 * table, and its exit must not remove its parent's namespaces.
 *
 * A process killed with SIGKILL runs none of this: its names stay under
 * /run/netns until kern_sweep_stale (which parses the pid in the name).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kern_internal.h"

#define SLOTS 8

static struct {
    volatile sig_atomic_t used;
    pid_t owner; /* a child made by fork() inherits the table, not the namespaces */
    char path[96];
} live[SLOTS];
static bool installed;

static const int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
#define NSIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])

void kern_netns_unlink(const char *path)
{
    /* MNT_DETACH: a socket still open in the namespace must not stop the
     * name from going; the namespace itself ends with its last user. */
    umount2(path, MNT_DETACH);
    unlink(path);
}

static void remove_all(void)
{
    pid_t self = getpid();
    for (int i = 0; i < SLOTS; i++) {
        if (live[i].used && live[i].owner == self) {
            kern_netns_unlink(live[i].path);
            live[i].used = 0;
        }
    }
}

static void on_signal(int sig)
{
    int saved = errno;
    remove_all();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    errno = saved;
    raise(sig); /* delivered when this handler returns: the signal is blocked in it */
}

static void install(void)
{
    if (installed)
        return;
    installed = true;
    atexit(remove_all);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaddset(&sa.sa_mask, SIGNALS[i]);
    for (size_t i = 0; i < NSIGNALS; i++) {
        struct sigaction old;
        /* A signal the process ignores stays ignored (nohup, a shell's
         * background job): the handler would make it fatal. */
        if (sigaction(SIGNALS[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(SIGNALS[i], &sa, NULL);
    }
}

static void block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaddset(&set, SIGNALS[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

int kern_cleanup_add(const char *path)
{
    sigset_t old;
    block(&old);
    install();
    int slot = -1;
    for (int i = 0; i < SLOTS && slot < 0; i++) {
        if (!live[i].used || live[i].owner != getpid()) {
            snprintf(live[i].path, sizeof live[i].path, "%s", path);
            live[i].owner = getpid();
            live[i].used = 1;
            slot = i;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return slot;
}

void kern_cleanup_remove(int slot)
{
    if (slot < 0 || slot >= SLOTS)
        return;
    sigset_t old;
    block(&old);
    live[slot].used = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* "tcpsim-k<pid>-<n>" -> pid, or 0 if the name is not of that form. */
static pid_t name_pid(const char *name)
{
    size_t plen = strlen(KERN_NS_PREFIX);
    if (strncmp(name, KERN_NS_PREFIX, plen) != 0)
        return 0;
    long pid = 0;
    const char *p = name + plen;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9' && pid < 100000000)
        pid = pid * 10 + (*p++ - '0');
    return *p == '-' ? (pid_t)pid : 0;
}

int kern_sweep_stale(char *err, size_t err_len)
{
    DIR *d = opendir(KERN_NETNS_DIR);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return kern_fail(err, err_len, "%s: %s", KERN_NETNS_DIR, strerror(errno));
    }
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        pid_t pid = name_pid(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge): keep */
        char path[600];
        snprintf(path, sizeof path, "%s/%s", KERN_NETNS_DIR, e->d_name);
        kern_netns_unlink(path);
        removed++;
    }
    closedir(d);
    return removed;
}
