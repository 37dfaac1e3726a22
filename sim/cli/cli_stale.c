/*
 * cli_stale — the outputs an earlier run may have left under the names this
 * command line writes, removed when this run fails (cli.h).
 *
 * A failed run writes no output, and a file an earlier run wrote under one
 * of its names would pass for this run's. Those names are the paths given
 * and their tagged forms (main.c's path_tagged): STEM.simK.EXT for a
 * scenario of several simulations, and for a capture also STEM.HOST.EXT and
 * STEM.simK.HOST.EXT, one per host. Which hosts and how many simulations
 * the earlier run had, only that run knew; so the folder of each path is
 * read before the run for the names of that form, and the hard stops (a
 * signal handler, the inside of malloc) then need only unlink and write.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static char **names;                     /* owned, each and the array */
static volatile sig_atomic_t names_live; /* how many the hard stops may read */
static size_t names_n, names_cap;

static void keep(const char *dir, size_t dirlen, const char *base)
{
    if (names_n == names_cap) {
        size_t cap = names_cap ? 2 * names_cap : 16;
        char **p = realloc(names, cap * sizeof *p);
        if (!p)
            return; /* a name not removed: no worse than before this file */
        names = p;
        names_cap = cap;
    }
    size_t blen = strlen(base);
    char *s = malloc(dirlen + blen + 1);
    if (!s)
        return;
    memcpy(s, dir, dirlen);
    memcpy(s + dirlen, base, blen + 1);
    names[names_n++] = s;
}

/* s[0..len) is one tag path_tagged may put in a name: letters, digits, '-'
 * and '_' (a host's file tag; "simK" is one too). */
static bool is_tag(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static bool is_sim_tag(const char *s, size_t len)
{
    if (len < 4 || strncmp(s, "sim", 3) != 0 || s[3] == '0')
        return false;
    for (size_t i = 3; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* mid is what lies between "STEM." and EXT in a name: "simK" for any
 * output; for a capture also "HOST", and "simK.HOST" (with an EXT) or
 * "HOST.simK" (without: path_tagged puts the tag before the last dot). */
static bool is_tagged(const char *mid, size_t len, bool capture, bool ext)
{
    const char *dot = memchr(mid, '.', len);
    if (!dot)
        return is_sim_tag(mid, len) || (capture && is_tag(mid, len));
    size_t a = (size_t)(dot - mid), b = len - a - 1;
    if (!capture || !is_tag(mid, a) || !is_tag(dot + 1, b))
        return false;
    return ext ? is_sim_tag(mid, a) : is_sim_tag(dot + 1, b);
}

/* The names of path's family found in its folder, and path itself. */
static void scan_one(const char *path, bool capture)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    keep(path, strlen(path), "");
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base); /* no extension: tags go at the end */
    size_t stem = (size_t)(dot - base), ext = strlen(dot);
    char dirname[4096];
    if (dirlen >= sizeof dirname)
        return;
    memcpy(dirname, path, dirlen);
    dirname[dirlen] = '\0';
    DIR *d = opendir(dirlen ? dirname : ".");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len > stem + 1 + ext && strncmp(n, base, stem) == 0 && n[stem] == '.' &&
            strcmp(n + len - ext, dot) == 0 &&
            is_tagged(n + stem + 1, len - stem - 1 - ext, capture, ext > 0))
            keep(path, dirlen, n);
    }
    closedir(d);
}

void cli_stale_scan(const char *const *paths, const bool *capture, size_t n)
{
    cli_stale_forget();
    for (size_t i = 0; i < n; i++)
        if (paths[i])
            scan_one(paths[i], capture[i]);
    names_live = (sig_atomic_t)names_n;
}

static void say(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

void cli_stale_remove(void)
{
    for (sig_atomic_t i = 0; i < names_live; i++)
        if (unlink(names[i]) == 0) {
            say("tcpsim: removed ");
            say(names[i]);
            say(", left by an earlier run\n");
        }
}

void cli_stale_forget(void)
{
    names_live = 0; /* first: a hard stop from here on reads none */
    for (size_t i = 0; i < names_n; i++)
        free(names[i]);
    free(names);
    names = NULL;
    names_n = names_cap = 0;
}
