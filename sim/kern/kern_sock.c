/*
 * kern_sock — the kernel endpoint's socket calls. A socket is made inside
 * the namespace (only socket(2) needs to be there: a socket belongs to the
 * namespace it was made in), non-blocking, and every call returns 0 or the
 * kernel's -errno unchanged, so a report can compare it with the stack's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* not netinet/tcp.h: its state enum clashes with tcp_state */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kern_internal.h"

static int new_socket(kern_ns *ns, int *fd)
{
    *fd = -1;
    int rc = kern_enter(ns);
    if (rc != 0)
        return rc;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    rc = s < 0 ? -errno : 0;
    kern_leave(ns);
    if (rc != 0)
        return rc;
    rc = kern_track(ns, s);
    if (rc != 0) {
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(addr);
    a.sin_port = htons(port);
    return a;
}

static int bind_to(int fd, uint32_t addr, uint16_t port)
{
    struct sockaddr_in a = sin_of(addr, port);
    return bind(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -errno;
}

/* On failure the socket is closed and *fd is -1. */
static int give_up(kern_ns *ns, int *fd, int rc)
{
    kern_sock_close(ns, *fd);
    *fd = -1;
    return rc;
}

int kern_sock_listen(kern_ns *ns, uint32_t addr, uint16_t port, int backlog, int *fd)
{
    int rc = new_socket(ns, fd);
    if (rc != 0)
        return rc;
    int one = 1;
    if (setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return give_up(ns, fd, -errno);
    if ((rc = bind_to(*fd, addr, port)) != 0)
        return give_up(ns, fd, rc);
    if (listen(*fd, backlog) != 0)
        return give_up(ns, fd, -errno);
    return 0;
}

int kern_sock_accept(kern_ns *ns, int lfd, int *fd)
{
    *fd = -1;
    int s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    int rc = kern_track(ns, s);
    if (rc != 0) {
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

int kern_sock_connect(kern_ns *ns, uint32_t src, uint16_t src_port, uint32_t dst, uint16_t dst_port,
                      int *fd)
{
    int rc = new_socket(ns, fd);
    if (rc != 0)
        return rc;
    if ((rc = bind_to(*fd, src, src_port)) != 0)
        return rc; /* the socket stays, for inspection */
    struct sockaddr_in a = sin_of(dst, dst_port);
    return connect(*fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -errno;
}

int kern_sock_error(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return -errno;
    return -e;
}

int kern_sock_send(int fd, const void *buf, size_t len, size_t *sent)
{
    *sent = 0;
    ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    *sent = (size_t)n;
    return 0;
}

int kern_sock_recv(int fd, void *buf, size_t len, size_t *got)
{
    *got = 0;
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    *got = (size_t)n;
    return 0;
}

int kern_sock_drain(int fd, size_t *total, bool *eof)
{
    *total = 0;
    *eof = false;
    char buf[4096];
    for (;;) {
        size_t got;
        int rc = kern_sock_recv(fd, buf, sizeof buf, &got);
        if (rc == -EAGAIN)
            return 0;
        if (rc != 0)
            return rc;
        if (got == 0) {
            *eof = true;
            return 0;
        }
        *total += got;
    }
}

int kern_sock_shutdown(int fd, int how)
{
    return shutdown(fd, how) == 0 ? 0 : -errno;
}

int kern_sock_close(kern_ns *ns, int fd)
{
    kern_untrack(ns, fd);
    return close(fd) == 0 ? 0 : -errno;
}

static int setopt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

int kern_sock_linger(int fd, bool on, int timeout_s)
{
    struct linger l = {.l_onoff = on, .l_linger = timeout_s};
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0 ? 0 : -errno;
}

int kern_sock_keepalive(int fd, bool on, int idle_s, int intvl_s, int cnt)
{
    int rc = setopt(fd, SOL_SOCKET, SO_KEEPALIVE, on);
    if (rc == 0 && idle_s > 0)
        rc = setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_s);
    if (rc == 0 && intvl_s > 0)
        rc = setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl_s);
    if (rc == 0 && cnt > 0)
        rc = setopt(fd, IPPROTO_TCP, TCP_KEEPCNT, cnt);
    return rc;
}

int kern_sock_nodelay(int fd, bool on)
{
    return setopt(fd, IPPROTO_TCP, TCP_NODELAY, on);
}

int kern_sock_getopt(int fd, int level, int name, int *value)
{
    socklen_t len = sizeof *value;
    return getsockopt(fd, level, name, value, &len) == 0 ? 0 : -errno;
}

/* SO_RCVBUF stores twice the value given (sock_setsockopt: the other half
 * pays for the kernel's bookkeeping) and sets SOCK_RCVBUF_LOCK, so half of
 * bytes is asked for and the result read back: a value the kernel clamps
 * (below SOCK_MIN_RCVBUF, above net.core.rmem_max) is -ERANGE rather than a
 * buffer of another size. */
int kern_sock_rcvbuf(int fd, uint32_t bytes)
{
    if (bytes < 2 || bytes % 2 != 0 || bytes > (uint32_t)INT32_MAX)
        return -ERANGE;
    int rc = setopt(fd, SOL_SOCKET, SO_RCVBUF, (int)(bytes / 2));
    int got = 0;
    if (rc == 0)
        rc = kern_sock_getopt(fd, SOL_SOCKET, SO_RCVBUF, &got);
    return rc != 0 ? rc : (uint32_t)got == bytes ? 0 : -ERANGE;
}
