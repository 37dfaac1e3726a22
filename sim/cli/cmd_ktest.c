/*
 * cmd_ktest — `tcpsim test --kernel`: every scenario given (files and
 * folders, as for tcpsim test) played with one host by this machine's Linux
 * kernel (`tcpsim kernel FILE --no-ladder`, one process each, up to --jobs
 * at a time so the kernel's 60 s TIME_WAIT waits overlap), then one verdict
 * per scenario, in file order whatever order they finish in:
 *
 *   AGREE    every judged check agreed                        passed
 *   DIFFER   a judged check differed (its first divergence)    failed
 *   ERROR    the run failed (exit 2, a crash, a signal)        failed
 *   REFUSED  the kernel endpoint cannot play it (the reason)   neither
 *   SKIPPED  the machine cannot run the kernel (the reason),   neither
 *            or the file is not a Lua scenario
 *
 * and the line "N passed, N failed; N refused, N skipped". A refusal is a
 * fact of the scenario (listed in docs/kernel.md), not an agreement, so it
 * is never counted as passed; nor as failed, so the library's refusals do
 * not hide a real difference in the exit status.
 *
 * Exit status: 0 when nothing failed and something passed, 1 otherwise,
 * 2 on a bad command line, 77 when every scenario was skipped (no root, TUN
 * device or namespaces: the "skipped" status of automake and ctest).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kern.h"

#define KT_CHECKS 3 /* states, segments, timing */

static const char *const KT_CHECK_NAMES[KT_CHECKS] = {"states", "segments", "timing"};

typedef struct ktask {
    char *file;
    pid_t pid;
    FILE *out, *err;
    int wstatus, status; /* as wait() gave it; the exit code or 128+signal */
    bool skip, ended;
    double start_s, secs;
} ktask;

typedef struct kt_opts {
    const char *khost, *tolerance;
    const char *pass[32]; /* -I DIR and the like, handed to each run */
    int npass;
    long jobs;
    bool judged[KT_CHECKS];
    bool quiet;
    ktask *tasks;
    size_t ntasks, cap;
} kt_opts;

static int kt_bad(const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim test --kernel: %s%s%s (try tcpsim test --help)\n", msg, arg ? " " : "",
            arg ? arg : "");
    return 2;
}

static void kt_add(kt_opts *o, const char *path)
{
    o->tasks = cli_grow(o->tasks, &o->cap, o->ntasks + 1, sizeof *o->tasks);
    memset(&o->tasks[o->ntasks], 0, sizeof o->tasks[0]);
    o->tasks[o->ntasks].file = strdup(path);
    if (!o->tasks[o->ntasks++].file)
        abort();
}

static void kt_add_scanned(void *ctx, const char *path)
{
    kt_add(ctx, path);
}

static int kt_path(kt_opts *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return kt_bad("no such file or folder:", path);
    if (S_ISDIR(st.st_mode))
        cli_scan_scenarios(path, kt_add_scanned, o);
    else
        kt_add(o, path);
    return 0;
}

/* --checks states,segments: which checks decide the verdict. */
static int kt_checks(kt_opts *o, const char *v)
{
    memset(o->judged, 0, sizeof o->judged);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int c = 0;
        while (c < KT_CHECKS && strcmp(w, KT_CHECK_NAMES[c]) != 0)
            c++;
        if (c == KT_CHECKS)
            return kt_bad("--checks takes states, segments and timing, got", w);
        o->judged[c] = true;
    }
    if (!o->judged[0] && !o->judged[1] && !o->judged[2])
        return kt_bad("--checks needs at least one of states, segments and timing, got", v);
    return 0;
}

static int kt_cmp(const void *a, const void *b)
{
    return strcmp(((const ktask *)a)->file, ((const ktask *)b)->file);
}

static int kt_parse(int argc, char **argv, kt_opts *o)
{
    o->jobs = cli_cores();
    for (int c = 0; c < KT_CHECKS; c++)
        o->judged[c] = true;
    bool any = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (strcmp(a, "--kernel") == 0) {
            continue;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        } else if (a[0] != '-') {
            any = true;
            if (kt_path(o, a) != 0)
                return 2;
            continue;
        } else if (!v) {
            return kt_bad("this option needs a value:", a);
        } else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
            if (cli_parse_u64(v, &u) || u < 1 || u > 64)
                return kt_bad("--jobs needs a number in [1,64], got", v);
            o->jobs = (long)u;
        } else if (strcmp(a, "--kernel-host") == 0) {
            o->khost = v;
        } else if (strcmp(a, "--tolerance") == 0) {
            o->tolerance = v;
        } else if (strcmp(a, "--checks") == 0) {
            if (kt_checks(o, v) != 0)
                return 2;
        } else if (strcmp(a, "-I") == 0 && o->npass < 30) {
            o->pass[o->npass++] = a;
            o->pass[o->npass++] = v;
        } else {
            return kt_bad("with --kernel, unknown option", a);
        }
        i++;
    }
    if (!any && kt_path(o, "scenarios") != 0)
        return 2;
    qsort(o->tasks, o->ntasks, sizeof *o->tasks, kt_cmp);
    return 0;
}

/* ---- Runs ---- */

static void kt_start(ktask *t, const kt_opts *o, const char *self)
{
    t->start_s = cli_wall_seconds();
    t->pid = cli_fork_captured(&t->out, &t->err);
    if (t->pid > 0)
        return;
    const char *args[48];
    int n = 0;
    args[n++] = self;
    args[n++] = "kernel";
    args[n++] = t->file;
    args[n++] = "--no-ladder";
    if (o->khost) {
        args[n++] = "--kernel-host";
        args[n++] = o->khost;
    }
    if (o->tolerance) {
        args[n++] = "--tolerance";
        args[n++] = o->tolerance;
    }
    for (int i = 0; i < o->npass; i++)
        args[n++] = o->pass[i];
    args[n] = NULL;
    execv(self, (char *const *)args);
    perror("tcpsim test: exec");
    _exit(2);
}

/* The rest of the first line of text that starts with prefix, copied to
 * buf ("" when none). */
static void kt_line(const char *text, const char *prefix, char *buf, size_t len)
{
    buf[0] = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t k = strlen(prefix);
        if (n >= k && strncmp(p, prefix, k) == 0) {
            snprintf(buf, len, "%.*s", (int)(n - k), p + k);
            return;
        }
        p += n + (nl ? 1 : 0);
    }
}

/* The name below scenarios/ when the file is there, else the path. */
static const char *kt_name(const char *file)
{
    const char *s = strstr(file, "scenarios/");
    return s ? s + 10 : file;
}

/* The verdict of a finished run, printed; returns its kind. */
enum { KT_PASS, KT_FAIL, KT_REFUSED, KT_SKIPPED };

static int kt_report(const ktask *t, const kt_opts *o, const char *out, const char *err)
{
    char host[64] = "?", line[1024];
    const char *h = strstr(out, " played by Linux ");
    while (h && h > out && h[-1] != '\n') /* its line: FILE: host NAME played by ... */
        h--;
    h = h ? strstr(h, ": host ") : NULL;
    if (h)
        sscanf(h + 7, "%63s", host);
    if (t->status == 3) {
        kt_line(err, "tcpsim kernel: refused: ", line, sizeof line);
        printf("REFUSED  %s: %s\n", kt_name(t->file), line);
        return KT_REFUSED;
    }
    if (t->status != 0 && t->status != 1) {
        kt_line(err, "tcpsim kernel: ", line, sizeof line);
        printf("ERROR    %s (kernel %s): exit %d: %s\n", kt_name(t->file), host, t->status,
               *line ? line : "(no message)");
        printf("   | replay: sudo tcpsim kernel %s%s%s\n", t->file,
               strcmp(host, "?") ? " --kernel-host " : "", strcmp(host, "?") ? host : "");
        return KT_FAIL;
    }
    char verdict[KT_CHECKS][512];
    bool ok = true, all = true;
    for (int c = 0; c < KT_CHECKS; c++) {
        char pre[16];
        snprintf(pre, sizeof pre, "%s:", KT_CHECK_NAMES[c]);
        kt_line(out, pre, line, sizeof line);
        const char *v = line + strspn(line, " ");
        snprintf(verdict[c], sizeof verdict[c], "%s", *v ? v : "(missing)");
        bool agree = strncmp(v, "agree", 5) == 0;
        all = all && agree;
        ok = ok && (agree || !o->judged[c]);
    }
    printf("%s %s (kernel %s): states %s, segments %s, timing %s%s (%.1f s)\n",
           ok ? "AGREE   " : "DIFFER  ", kt_name(t->file), host,
           strncmp(verdict[0], "agree", 5) ? "DIFFER" : "agree",
           strncmp(verdict[1], "agree", 5) ? "DIFFER" : "agree",
           strncmp(verdict[2], "agree", 5) ? "DIFFER" : "agree", ok && !all ? " (not judged)" : "",
           t->secs);
    for (int c = 0; c < KT_CHECKS && (!o->quiet || !ok); c++)
        if (strncmp(verdict[c], "agree", 5) != 0)
            printf("   | %s: %s\n", KT_CHECK_NAMES[c], verdict[c]);
    if (!ok)
        printf("   | replay: sudo tcpsim kernel %s --kernel-host %s\n", t->file, host);
    return ok ? KT_PASS : KT_FAIL;
}

/* Prints the verdict of task t (skipped, or its run ended) and counts it. */
static void kt_print(ktask *t, const kt_opts *o, size_t *count)
{
    if (t->skip) {
        printf("SKIPPED  %s: not a Lua scenario (a kernel run plays scenarios)\n",
               kt_name(t->file));
        count[KT_SKIPPED]++;
        return;
    }
    int ws = t->wstatus;
    t->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    char *out = cli_slurp(t->out, SIZE_MAX), *err = cli_slurp(t->err, SIZE_MAX);
    t->out = t->err = NULL;
    count[kt_report(t, o, out, err)]++;
    free(out);
    free(err);
}

/* Runs every Lua scenario, at most o->jobs at a time; other files are
 * skipped. Verdicts print in file order, each as soon as those before it
 * have printed. */
static void kt_run_all(kt_opts *o, const char *self, size_t *count)
{
    size_t next = 0, printed = 0, running = 0;
    while (printed < o->ntasks) {
        while (running < (size_t)o->jobs && next < o->ntasks) {
            ktask *t = &o->tasks[next++];
            t->skip = !cli_ends_with(t->file, ".lua");
            if (!t->skip) {
                kt_start(t, o, self);
                running++;
            }
        }
        while (printed < next && (o->tasks[printed].skip || o->tasks[printed].ended))
            kt_print(&o->tasks[printed++], o, count);
        fflush(stdout);
        if (printed == o->ntasks || running == 0)
            continue;
        int ws;
        pid_t pid = wait(&ws);
        if (pid < 0)
            break;
        for (size_t i = printed; i < next; i++)
            if (o->tasks[i].pid == pid && !o->tasks[i].ended && !o->tasks[i].skip) {
                o->tasks[i].ended = true;
                o->tasks[i].wstatus = ws;
                o->tasks[i].secs = cli_wall_seconds() - o->tasks[i].start_s;
                running--;
            }
    }
}

int cli_test_kernel(int argc, char **argv)
{
    kt_opts o;
    memset(&o, 0, sizeof o);
    int rc = kt_parse(argc, argv, &o);
    size_t count[4] = {0, 0, 0, 0};
    char why[256];
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "(unknown)");
    if (rc == 0 && kern_probe(why, sizeof why) != 0) {
        for (size_t i = 0; i < o.ntasks; i++)
            printf("SKIPPED  %s: %s\n", kt_name(o.tasks[i].file), why);
        count[KT_SKIPPED] = o.ntasks;
    } else if (rc == 0) {
        printf("kernel: Linux %s; checks judged:%s%s%s; jobs %ld\n", u.release,
               o.judged[0] ? " states" : "", o.judged[1] ? " segments" : "",
               o.judged[2] ? " timing" : "", o.jobs);
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len <= 0)
            snprintf(self, sizeof self, "%s", argv[0]);
        else
            self[len] = 0;
        kt_run_all(&o, self, count);
    }
    if (rc == 0)
        printf("%zu passed, %zu failed; %zu refused, %zu skipped\n", count[KT_PASS], count[KT_FAIL],
               count[KT_REFUSED], count[KT_SKIPPED]);
    for (size_t i = 0; i < o.ntasks; i++)
        free(o.tasks[i].file);
    free(o.tasks);
    if (rc)
        return rc;
    if (o.ntasks > 0 && count[KT_SKIPPED] == o.ntasks)
        return 77;
    return count[KT_FAIL] || !count[KT_PASS] ? 1 : 0;
}
