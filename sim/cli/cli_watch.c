/*
 * cli_watch — `tcpsim run FILE --watch`: run, then run again each time FILE
 * is saved, clearing the terminal first, until interrupted.
 *
 * It watches the file's folder, not the file: editors often save by writing
 * a new file and renaming it over the old one, which a watch on the old file
 * would miss. Saves that come in a burst (write, then rename, then chmod)
 * give one rerun: events arriving within SETTLE_MS of the last are drained.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli.h"

#define SETTLE_MS 100

/* True when the buffer holds an event about `name`. */
static bool names_file(const char *buf, ssize_t len, const char *name)
{
    for (ssize_t off = 0; off < len;) {
        const struct inotify_event *ev = (const void *)(buf + off);
        if (ev->len && strcmp(ev->name, name) == 0)
            return true;
        off += (ssize_t)(sizeof *ev + ev->len);
    }
    return false;
}

/* Blocks until `name` in the watched folder changes; -1 on error. */
static int wait_change(int fd, const char *name)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool seen = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, seen ? SETTLE_MS : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0; /* settled */
        ssize_t len = read(fd, buf, sizeof buf);
        if (len < 0 && errno == EINTR)
            continue;
        if (len <= 0)
            return -1;
        seen = seen || names_file(buf, len, name);
    }
}

int cli_watch(const char *path, int (*run)(void *), void *ctx)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
        fprintf(stderr, "tcpsim: --watch: cannot watch %s: %s\n", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    bool tty = isatty(1);
    for (unsigned n = 1;; n++) {
        if (tty)
            fputs("\033[H\033[2J", stdout);
        int rc = run(ctx);
        fflush(stdout);
        fprintf(stderr, "tcpsim: run %u of %s exited %d; watching for changes (Ctrl-C stops)\n", n,
                path, rc);
        if (wait_change(fd, name) != 0) {
            fprintf(stderr, "tcpsim: --watch: %s\n", strerror(errno));
            close(fd);
            return 2;
        }
    }
}
