/*
 * kern_internal — the kern_ns layout and the helpers the kern_*.c files
 * share. Not part of the contract (kern.h is).
 */
#ifndef KERN_INTERNAL_H
#define KERN_INTERNAL_H

#include <stdarg.h>

#include "kern.h"

struct kern_ns {
    char name[48];
    char path[96]; /* KERN_NETNS_DIR "/" name */
    int slot;      /* in the cleanup table, -1 if none */
    int ns_fd;     /* the namespace */
    int home_fd;   /* the namespace this thread came from */
    int tun_fd;    /* the TUN device, non-blocking */
    int diag_fd;   /* NETLINK_SOCK_DIAG, made inside the namespace */
    uint32_t diag_seq;
    kern_config cfg;
    int socks[KERN_SOCKS_MAX]; /* -1: free */
    char ehash_derived[2][32]; /* the machine's values, see kern_ns.c */
};

/* Buckets of the run namespace's own connection hash (a power of two). */
#define KERN_EHASH_ENTRIES "256"

/* Moves this thread into ns / back home: 0 or -errno. kern_leave must follow
 * every successful kern_enter, on every path. */
int kern_enter(kern_ns *ns);
void kern_leave(kern_ns *ns);

/* Records / forgets a socket made through ns: 0, or -EMFILE when full. */
int kern_track(kern_ns *ns, int fd);
void kern_untrack(kern_ns *ns, int fd);

/* Writes a sysctl in the current thread's namespace: 0 or -errno. */
int kern_sysctl_write(const char *name, const char *value);
/* Reads one in the current thread's namespace (trailing newline removed):
 * 0 or -errno. */
int kern_sysctl_read(const char *name, char *buf, size_t len);
/* Whether a sysctl name is one kern may write: "net." then [a-z0-9_.-]. */
bool kern_sysctl_name_ok(const char *name);

/* Cleanup table for the signal handler and atexit (kern_cleanup.c). */
int kern_cleanup_add(const char *path);
void kern_cleanup_remove(int slot);
/* Removes a namespace name: detach the bind mount, unlink the file.
 * Async-signal-safe. */
void kern_netns_unlink(const char *path);

/* Sends an ICMP echo from a peer to the kernel until a reply comes back
 * through the TUN device: 0, or -ETIMEDOUT / -errno. */
int kern_wait_datapath(kern_ns *ns, uint64_t timeout_ns);

/* snprintf into err if err_len > 0; returns -1. */
int kern_fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* kern_route.c, with the thread inside the namespace: the peers' routes
 * with cfg's metrics; the device's MTU through socket s. */
int kern_route_add_peers(const kern_config *c, char *err, size_t err_len);
int kern_route_set_mtu(int s, uint32_t mtu);

#endif
