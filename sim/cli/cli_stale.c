/*
 * cli_stale — the outputs an earlier run may have left under the names this
 * command line writes, removed when this run fails (cli.h).
 *
 * A failed run writes no output, and a file an earlier run wrote under one
 * of its names would pass for this run's. Only the exact paths given are
 * removed: the tagged forms an earlier run may also have written
 * (STEM.simK.EXT, a capture's STEM.HOST.EXT) are left in place, since a
 * name alone does not prove tcpsim wrote the file (a capture named "s" has
 * "s.lua", the scenario, in its family; one named "x.pcap" a user's
 * "x.orig.pcap"). The list is made before the run, so that the hard stops
 * (a signal handler, the inside of malloc) need only unlink and write.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* A name to remove, and the file that was there when the run began (none:
 * existed false): a file found there at the end that is not that one is
 * this run's (outputs are written beside and renamed into place). */
typedef struct stale {
    char *path; /* owned */
    bool existed;
    dev_t dev;
    ino_t ino;
} stale;

static stale *names;                     /* owned */
static volatile sig_atomic_t names_live; /* how many the hard stops may read */
static size_t names_n, names_cap;

static void keep(const char *path)
{
    if (names_n == names_cap) {
        size_t cap = names_cap ? 2 * names_cap : 16;
        stale *p = realloc(names, cap * sizeof *p);
        if (!p)
            return; /* a name not removed: no worse than before this file */
        names = p;
        names_cap = cap;
    }
    size_t len = strlen(path);
    char *s = malloc(len + 1);
    if (!s)
        return;
    memcpy(s, path, len + 1);
    struct stat st;
    stale *n = &names[names_n++];
    *n = (stale){.path = s, .existed = lstat(path, &st) == 0};
    if (n->existed) {
        n->dev = st.st_dev;
        n->ino = st.st_ino;
    }
}

/* Whether path names the scenario's own file: never an output to remove,
 * whatever the command line calls it. */
static bool is_scenario(const char *path, const char *scenario)
{
    struct stat a, b;
    if (!scenario || stat(path, &a) != 0 || stat(scenario, &b) != 0)
        return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void cli_stale_scan(const char *const *paths, size_t n, const char *scenario)
{
    cli_stale_forget();
    for (size_t i = 0; i < n; i++)
        if (paths[i] && !is_scenario(paths[i], scenario))
            keep(paths[i]);
    names_live = (sig_atomic_t)names_n;
}

static void say(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

void cli_stale_remove(void)
{
    for (sig_atomic_t i = 0; i < names_live; i++) {
        const stale *n = &names[i];
        struct stat st; /* lstat and unlink: both safe in a signal handler */
        bool earlier =
            n->existed && lstat(n->path, &st) == 0 && st.st_dev == n->dev && st.st_ino == n->ino;
        if (unlink(n->path) == 0) {
            say("tcpsim: removed ");
            say(n->path);
            say(earlier ? ", left by an earlier run\n" : ", begun by this run before it failed\n");
        }
    }
}

void cli_stale_forget(void)
{
    names_live = 0; /* first: a hard stop from here on reads none */
    for (size_t i = 0; i < names_n; i++)
        free(names[i].path);
    free(names);
    names = NULL;
    names_n = names_cap = 0;
}
