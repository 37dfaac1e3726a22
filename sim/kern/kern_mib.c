/*
 * kern_mib — the namespace's SNMP and Linux MIB counters, as `nstat` and
 * `netstat -s` read them: /proc/net/netstat (TcpExt, IpExt, ...) and
 * /proc/net/snmp (Ip, Tcp, ...). Each file holds pairs of lines, "Group:
 * name name ..." then "Group: value value ...". /proc/thread-self/net
 * shows the network namespace of the reading thread, so the file is
 * opened between kern_enter and kern_leave; a new namespace's counters
 * start at zero, so what they say is the run's alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kern_internal.h"

/* Both files together are about 6 KB on Linux 6.18. */
#define MIB_FILE_MAX 32768

static int slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        if ((n += (size_t)r) == cap - 1) { /* the rest would be cut: refuse, never misread */
            close(fd);
            return -EFBIG;
        }
    }
    close(fd);
    buf[n] = '\0';
    return 0;
}

/* The value of `group` `name` in text: 0, -ENOENT, or -EIO when the value
 * is not a decimal number ended by a space or the line's end (a text cut
 * short would otherwise give the digits before the cut). */
int kern_mib_find(const char *text, const char *group, const char *name, uint64_t *out)
{
    size_t glen = strlen(group), nlen = strlen(name);
    const char *hdr = text;
    while (hdr && *hdr) {
        const char *vals = strchr(hdr, '\n');
        if (!vals)
            break;
        vals++;
        if (strncmp(hdr, group, glen) == 0 && hdr[glen] == ':' && strncmp(vals, group, glen) == 0 &&
            vals[glen] == ':') {
            const char *h = hdr + glen + 1, *v = vals + glen + 1;
            for (;;) { /* the names and the values, one column at a time */
                while (*h == ' ')
                    h++;
                while (*v == ' ')
                    v++;
                if (*h == '\n' || *h == '\0' || *v == '\n' || *v == '\0')
                    break;
                size_t hl = strcspn(h, " \n");
                if (hl == nlen && strncmp(h, name, nlen) == 0) {
                    size_t vl = strspn(v, "0123456789");
                    if (vl == 0 || (v[vl] != ' ' && v[vl] != '\n'))
                        return -EIO;
                    *out = strtoull(v, NULL, 10);
                    return 0;
                }
                h += hl;
                v += strcspn(v, " \n");
            }
        }
        hdr = strchr(vals, '\n');
        hdr = hdr ? hdr + 1 : NULL;
    }
    return -ENOENT;
}

int kern_ns_mib_read(kern_ns *ns, const char *group, const char *name, uint64_t *out)
{
    char *buf = malloc(MIB_FILE_MAX);
    if (!buf)
        return -ENOMEM;
    int rc = kern_enter(ns);
    if (rc == 0) {
        static const char *const FILES[] = {"/proc/thread-self/net/netstat",
                                            "/proc/thread-self/net/snmp"};
        rc = -ENOENT;
        for (size_t i = 0; i < 2 && rc == -ENOENT; i++) {
            int r = slurp(FILES[i], buf, MIB_FILE_MAX);
            rc = r != 0 ? r : kern_mib_find(buf, group, name, out);
        }
        kern_leave(ns);
    }
    free(buf);
    return rc;
}
