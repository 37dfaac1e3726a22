/*
 * cli_test — `tcpsim test`: runs many scenarios, each in its own process
 * (`tcpsim run FILE --quiet`), up to --jobs at a time, over a seed range
 * when asked. Results are printed in a fixed order (files sorted, then
 * seeds), whatever order the processes finish in, and end with the line
 * "N passed, N failed". A failure names the command that replays it.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char TEST_HELP[] =
    "usage: tcpsim test [PATHS...] [options]\n"
    "\n"
    "Runs every scenario found in PATHS (files, folders searched recursively for\n"
    "*.lua, skipping lib/ folders, or glob patterns; default: scenarios/), each in its\n"
    "own process, and ends with the line 'N passed, N failed'. A scenario passes\n"
    "when it exits 0 having checked at least one expectation.\n"
    "\n"
    "options:\n"
    "  --jobs N, -j N      processes at once (default: 2)\n"
    "  --seeds A..B        run each scenario once per seed A..B (overrides its seed)\n"
    "  --shard I/N         run only the I-th of N equal shares of the work (1-based)\n"
    "  --junit FILE        write a JUnit XML report\n"
    "  --tap               print TAP instead of one line per scenario\n"
    "  --quiet             print failures and the closing line only\n"
    "  -I DIR, --profile P, --check, --unsafe, --max-events N, --max-time D,\n"
    "  --max-instructions N   passed on to every run (see tcpsim run --help)\n"
    "\n"
    "exit status: 0 all passed, 1 a scenario failed, 2 bad command line\n"
    "\n"
    "examples:\n"
    "  tcpsim test scenarios/\n"
    "  tcpsim test scenarios/teardown --seeds 1..200 --jobs 8\n"
    "  tcpsim test scenarios/ --shard 2/4 --junit results.xml\n";

typedef struct task {
    const char *file;
    bool seeded;
    uint64_t seed;
    pid_t pid;
    FILE *out;
    int status; /* exit code; -1 while running */
    bool done;
    char *text;
    size_t ntext;
} task;

typedef struct test_opts {
    const char *pass[64];
    int npass;
    long jobs;
    bool seeded, tap, quiet;
    uint64_t seed_lo, seed_hi;
    long shard_i, shard_n;
    const char *junit;
    char **files;
    size_t nfiles, capfiles;
} test_opts;

static void add_file(test_opts *o, const char *path)
{
    if (o->nfiles == o->capfiles) {
        o->capfiles = o->capfiles ? o->capfiles * 2 : 64;
        o->files = realloc(o->files, o->capfiles * sizeof *o->files);
        if (!o->files)
            abort();
    }
    o->files[o->nfiles++] = strdup(path);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void scan_dir(test_opts *o, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "lib") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            scan_dir(o, path);
        else if (ends_with(e->d_name, ".lua"))
            add_file(o, path);
    }
    closedir(d);
}

static int add_path(test_opts *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            char trimmed[4096];
            snprintf(trimmed, sizeof trimmed, "%s", path);
            size_t n = strlen(trimmed);
            while (n > 1 && trimmed[n - 1] == '/')
                trimmed[--n] = 0;
            scan_dir(o, trimmed);
        } else {
            add_file(o, path);
        }
        return 0;
    }
    glob_t g;
    if (glob(path, 0, NULL, &g) != 0) {
        fprintf(stderr, "tcpsim test: no such file or folder: %s\n", path);
        return -1;
    }
    for (size_t i = 0; i < g.gl_pathc; i++)
        add_path(o, g.gl_pathv[i]);
    globfree(&g);
    return 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_seeds(test_opts *o, const char *v)
{
    const char *dots = v ? strstr(v, "..") : NULL;
    if (!dots)
        return -1;
    char lo[32];
    snprintf(lo, sizeof lo, "%.*s", (int)(dots - v), v);
    if (cli_parse_u64(lo, &o->seed_lo) || cli_parse_u64(dots + 2, &o->seed_hi) ||
        o->seed_lo > o->seed_hi || o->seed_hi > INT64_MAX)
        return -1;
    o->seeded = true;
    return 0;
}

static int parse_shard(test_opts *o, const char *v)
{
    if (!v || sscanf(v, "%ld/%ld", &o->shard_i, &o->shard_n) != 2 || o->shard_n < 1 ||
        o->shard_i < 1 || o->shard_i > o->shard_n)
        return -1;
    return 0;
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim test: %s '%s' (try tcpsim test --help)\n", msg, arg ? arg : "");
    return 2;
}

static int parse_test(int argc, char **argv, test_opts *o)
{
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    o->jobs = 2;
    bool any_path = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = cli_common_opt(&cfg, argc, argv, i);
        if (used < 0)
            return 2;
        if (used) {
            for (int j = 0; j < used && o->npass < 62; j++)
                o->pass[o->npass++] = argv[i + j];
            i += used - 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(TEST_HELP, stdout);
            exit(0);
        } else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
            uint64_t n;
            if (cli_parse_u64(v, &n) || n < 1 || n > 1024)
                return bad("--jobs needs a number in [1,1024], got", v);
            o->jobs = (long)n;
            i++;
        } else if (strcmp(a, "--seeds") == 0) {
            if (parse_seeds(o, v))
                return bad("--seeds needs A..B (e.g. 1..100), got", v);
            i++;
        } else if (strcmp(a, "--shard") == 0) {
            if (parse_shard(o, v))
                return bad("--shard needs I/N with 1 <= I <= N, got", v);
            i++;
        } else if (strcmp(a, "--junit") == 0) {
            if (!v)
                return bad("--junit needs a file name", "");
            o->junit = v;
            i++;
        } else if (strcmp(a, "--tap") == 0) {
            o->tap = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (a[0] == '-') {
            return bad("unknown option", a);
        } else {
            any_path = true;
            if (add_path(o, a) != 0)
                return 2;
        }
    }
    if (!any_path && add_path(o, "scenarios") != 0)
        return 2;
    qsort(o->files, o->nfiles, sizeof *o->files, cmp_path);
    return 0;
}

static void start(task *t, const test_opts *o, const char *self)
{
    t->out = tmpfile();
    if (!t->out) {
        perror("tcpsim test: tmpfile");
        exit(2);
    }
    fflush(stdout);
    fflush(stderr);
    t->pid = fork();
    if (t->pid < 0) {
        perror("tcpsim test: fork");
        exit(2);
    }
    if (t->pid == 0) {
        dup2(fileno(t->out), 1);
        dup2(fileno(t->out), 2);
        const char *args[80];
        int n = 0;
        char seed[32];
        args[n++] = self;
        args[n++] = "run";
        args[n++] = t->file;
        args[n++] = "--quiet";
        if (t->seeded) {
            snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
            args[n++] = "--seed";
            args[n++] = seed;
        }
        for (int i = 0; i < o->npass; i++)
            args[n++] = o->pass[i];
        args[n] = NULL;
        execv(self, (char *const *)args);
        perror("tcpsim test: exec");
        _exit(2);
    }
}

static void collect(task *t, int wstatus)
{
    t->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    t->done = true;
    long len;
    fflush(t->out);
    fseek(t->out, 0, SEEK_END);
    len = ftell(t->out);
    rewind(t->out);
    t->text = malloc((size_t)len + 1);
    if (!t->text)
        abort();
    t->ntext = fread(t->text, 1, (size_t)len, t->out);
    t->text[t->ntext] = 0;
    fclose(t->out);
    t->out = NULL;
}

/* A run "passed" when it exited 0 and checked something. */
static bool passed(const task *t)
{
    return t->status == 0 && !strstr(t->text, "no expectations were checked");
}

static void print_result(const task *t, size_t n, const test_opts *o)
{
    char name[4200];
    if (t->seeded)
        snprintf(name, sizeof name, "%s --seed %llu", t->file, (unsigned long long)t->seed);
    else
        snprintf(name, sizeof name, "%s", t->file);
    bool ok = passed(t);
    if (o->tap)
        printf("%s %zu - %s\n", ok ? "ok" : "not ok", n, name);
    else if (!ok || !o->quiet)
        printf("%s %s\n", ok ? "PASS" : "FAIL", name);
    if (ok)
        return;
    const char *why = t->status == 1   ? "an expectation failed"
                      : t->status == 2 ? "error"
                      : t->status == 0 ? "no expectations were checked"
                                       : "crashed";
    printf("%s   %s (exit %d); replay: tcpsim run %s\n", o->tap ? "#" : "", why, t->status, name);
    const char *p = t->text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("%s   | %.*s\n", o->tap ? "#" : "", len, p);
        p += len + (nl ? 1 : 0);
    }
}

static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 && c != '\n' && c != '\t')
            fputc('?', f);
        else
            fputc(c, f);
    }
}

static int write_junit(const char *path, const task *tasks, size_t n, size_t failed)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tcpsim test: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuite name=\"tcpsim\" tests=\"%zu\" failures=\"%zu\">\n", n, failed);
    for (size_t i = 0; i < n; i++) {
        const task *t = &tasks[i];
        fprintf(f, "  <testcase classname=\"tcpsim\" name=\"");
        xml_escaped(f, t->file);
        if (t->seeded)
            fprintf(f, " --seed %llu", (unsigned long long)t->seed);
        fprintf(f, "\">");
        if (!passed(t)) {
            fprintf(f, "<failure message=\"exit %d\">", t->status);
            xml_escaped(f, t->text);
            fprintf(f, "</failure>");
        }
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n");
    return fclose(f) == 0 ? 0 : -1;
}

static task *make_tasks(const test_opts *o, size_t *ntasks)
{
    uint64_t nseeds = o->seeded ? o->seed_hi - o->seed_lo + 1 : 1;
    size_t cap = 64, n = 0, k = 0;
    task *tasks = malloc(cap * sizeof *tasks);
    for (size_t f = 0; f < o->nfiles; f++) {
        for (uint64_t s = 0; s < nseeds; s++, k++) {
            if (o->shard_n && (long)(k % (size_t)o->shard_n) != o->shard_i - 1)
                continue;
            if (n == cap) {
                cap *= 2;
                tasks = realloc(tasks, cap * sizeof *tasks);
            }
            if (!tasks)
                abort();
            memset(&tasks[n], 0, sizeof tasks[n]);
            tasks[n].file = o->files[f];
            tasks[n].seeded = o->seeded;
            tasks[n].seed = o->seed_lo + s;
            tasks[n].status = -1;
            n++;
        }
    }
    *ntasks = n;
    return tasks;
}

static size_t run_all(task *tasks, size_t n, const test_opts *o, const char *self)
{
    size_t next = 0, printed = 0, running = 0, failed = 0;
    if (o->tap)
        printf("TAP version 13\n1..%zu\n", n);
    while (printed < n) {
        while (running < (size_t)o->jobs && next < n) {
            start(&tasks[next++], o, self);
            running++;
        }
        int ws;
        pid_t pid = wait(&ws);
        if (pid < 0)
            break;
        for (size_t i = 0; i < next; i++)
            if (tasks[i].pid == pid && !tasks[i].done) {
                collect(&tasks[i], ws);
                running--;
            }
        while (printed < n && tasks[printed].done) {
            failed += !passed(&tasks[printed]);
            print_result(&tasks[printed], printed + 1, o);
            printed++;
        }
        fflush(stdout);
    }
    return failed;
}

int cli_test(int argc, char **argv)
{
    test_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_test(argc, argv, &o);
    if (rc)
        return rc;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        snprintf(self, sizeof self, "%s", argv[0]);
    else
        self[len] = 0;
    size_t n;
    task *tasks = make_tasks(&o, &n);
    size_t failed = run_all(tasks, n, &o, self);
    if (o.junit && write_junit(o.junit, tasks, n, failed) != 0)
        rc = 2;
    printf("%s%zu passed, %zu failed\n", o.tap ? "# " : "", n - failed, failed);
    for (size_t i = 0; i < n; i++)
        free(tasks[i].text);
    free(tasks);
    for (size_t i = 0; i < o.nfiles; i++)
        free(o.files[i]);
    free(o.files);
    if (rc)
        return rc;
    return failed || n == 0 ? 1 : 0;
}
