/*
 * cli_test — `tcpsim test`: runs many scenarios, each in its own process
 * (`tcpsim run FILE --quiet`), up to --jobs at a time, over a seed range
 * when asked. Results are printed in a fixed order (files sorted, then
 * seeds), whatever order the processes finish in, and end with the line
 * "N passed, N failed". A failure names the command that replays it, with
 * every option that changes the run, in the text, TAP and JUnit reports.
 *
 * A run passes only when it exits 0, which `tcpsim run` does only when at
 * least one expectation was checked and all held. In JUnit, exit 1 is a
 * <failure> and anything else (a script error, a crash) an <error>.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "render.h"
#include "rlog_html.h"

/* The most runs one `tcpsim test` makes (after --shard): its task list is
 * made before the first run starts. */
#define TEST_TASKS_MAX 1000000u
/* The default --timeout of one run. */
#define TEST_TIMEOUT_MS (600u * 1000u)
/* The most output kept of one run, per stream. */
#define TEST_OUTPUT_MAX (1u << 20)

typedef struct task {
    const char *file;
    bool seeded;
    uint64_t seed;
    pid_t pid;
    FILE *out, *err; /* the run's standard output and error */
    int status;      /* exit code; -1 while running */
    bool done;
    bool timed_out; /* killed at --timeout */
    char *text, *errtext;
    double start_s, secs;
} task;

typedef struct test_opts {
    const char *pass[64];
    int npass;
    long jobs;
    bool seeded, tap, quiet;
    uint64_t seed_lo, seed_hi;
    uint64_t shard_i, shard_n;
    uint64_t timeout_ms; /* per run */
    const char *junit;
    const char *html_dir;
    char **files;
    size_t nfiles, capfiles;
} test_opts;

static void add_file(test_opts *o, const char *path)
{
    o->files = cli_grow(o->files, &o->capfiles, o->nfiles + 1, sizeof *o->files);
    o->files[o->nfiles++] = strdup(path);
}

static void add_scanned(void *ctx, const char *path)
{
    add_file(ctx, path);
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
            cli_scan_scenarios(trimmed, add_scanned, o);
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
    if (cli_parse_seeds(v, &o->seed_lo, &o->seed_hi) != 0)
        return -1;
    o->seeded = true;
    return 0;
}

/* I/N, both decimal, 1 <= I <= N <= TEST_TASKS_MAX. */
static int parse_shard(test_opts *o, const char *v)
{
    const char *slash = v ? strchr(v, '/') : NULL;
    if (!slash)
        return -1;
    char i[32];
    if ((size_t)(slash - v) >= sizeof i)
        return -1;
    snprintf(i, sizeof i, "%.*s", (int)(slash - v), v);
    if (cli_parse_u64(i, &o->shard_i) || cli_parse_u64(slash + 1, &o->shard_n) || o->shard_n < 1 ||
        o->shard_n > TEST_TASKS_MAX || o->shard_i < 1 || o->shard_i > o->shard_n)
        return -1;
    return 0;
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "tcpsim test: %s '%s' (try tcpsim test --help)\n", msg, arg ? arg : "");
    return 2;
}

static const char *const TEST_OPTIONS[] = {
    "--jobs",       "--seeds",    "--shard",      "--junit",    "--tap",
    "--quiet",      "--html",     "-I",           "--profile",  "--draws",
    "--unsafe",     "--check",    "--max-events", "--max-time", "--max-instructions",
    "--max-memory", "--max-wall", "--timeout",    "--help",     NULL};

static int parse_test(int argc, char **argv, test_opts *o)
{
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    o->jobs = cli_cores();
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
            fputs(cli_help("test"), stdout);
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
                return bad("--shard needs I/N with 1 <= I <= N <= 1000000, got", v);
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            sim_time_t ns;
            char err[160];
            if (!v || sim_duration_parse(v, &ns, err, sizeof err) != 0 || ns < SIM_MS ||
                ns > 30ull * 24 * SIM_H)
                return bad("--timeout needs a duration from 1ms to 30 days (e.g. 60s), got", v);
            o->timeout_ms = ns / SIM_MS;
            i++;
        } else if (strcmp(a, "--junit") == 0) {
            if (!v)
                return bad("--junit needs a file name", "");
            o->junit = v;
            i++;
        } else if (strcmp(a, "--html") == 0) {
            if (!v)
                return bad("--html needs a folder", "");
            o->html_dir = v;
            i++;
        } else if (strcmp(a, "--tap") == 0) {
            o->tap = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (a[0] == '-') {
            return cli_unknown_option("test", a, TEST_OPTIONS);
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

/* The page of a run: DIR/teardown_lost_final_ack.html (the path below
 * scenarios/, slashes made underscores), -seedN added when seeded; the
 * file name alone when dir is NULL. */
static void html_page(const task *t, const char *dir, char *buf, size_t len)
{
    const char *f = strncmp(t->file, "scenarios/", 10) == 0 ? t->file + 10 : t->file;
    char name[4096], seed[32] = "";
    snprintf(name, sizeof name, "%s", f);
    for (char *c = name; *c; c++)
        if (*c == '/')
            *c = '_';
    if (cli_ends_with(name, ".lua"))
        name[strlen(name) - 4] = '\0';
    if (t->seeded)
        snprintf(seed, sizeof seed, "-seed%llu", (unsigned long long)t->seed);
    snprintf(buf, len, "%s%s%s%s.html", dir ? dir : "", dir ? "/" : "", name, seed);
}

static FILE *temp_file(void)
{
    FILE *f = tmpfile();
    if (!f) {
        perror("tcpsim test: tmpfile");
        exit(2);
    }
    return f;
}

pid_t cli_fork_captured(FILE **out, FILE **err)
{
    *out = temp_file();
    *err = temp_file();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("tcpsim test: fork");
        exit(2);
    }
    if (pid == 0) {
        dup2(fileno(*out), 1);
        dup2(fileno(*err), 2);
    }
    return pid;
}

static void start(task *t, const test_opts *o, const char *self)
{
    t->start_s = cli_wall_seconds();
    t->pid = cli_fork_captured(&t->out, &t->err);
    if (t->pid == 0) {
        const char *args[80];
        int n = 0;
        char seed[32], html[4200];
        args[n++] = self;
        args[n++] = cli_ends_with(t->file, ".pkt") ? "pkt" : "run"; /* packetdrill script */
        args[n++] = t->file;
        args[n++] = "--quiet";
        if (t->seeded) {
            snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
            args[n++] = "--seed";
            args[n++] = seed;
        }
        for (int i = 0; i < o->npass; i++)
            args[n++] = o->pass[i];
        if (o->html_dir && !cli_ends_with(t->file, ".pkt")) { /* pages are for scenarios */
            html_page(t, o->html_dir, html, sizeof html);
            args[n++] = "--html";
            args[n++] = html;
        }
        args[n] = NULL;
        execv(self, (char *const *)args);
        perror("tcpsim test: exec");
        _exit(2);
    }
}

static void collect(task *t, int wstatus)
{
    t->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (t->timed_out)
        t->status = 2;
    t->secs = cli_wall_seconds() - t->start_s;
    t->done = true;
    t->text = cli_slurp(t->out, TEST_OUTPUT_MAX);
    t->errtext = cli_slurp(t->err, TEST_OUTPUT_MAX);
    t->out = t->err = NULL;
}

/* `tcpsim run` exits 0 only when it checked something and all held. */
static bool passed(const task *t)
{
    return t->status == 0;
}

/* Exit 1 is a failed check; anything else is an error (script, crash). */
static bool is_error(const task *t)
{
    return t->status != 0 && t->status != 1;
}

/* Appends `arg` to buf, quoted for a POSIX shell when it needs to be. */
static void shell_arg(char *buf, size_t cap, const char *arg)
{
    size_t n = strlen(buf);
    bool plain = *arg != 0;
    for (const char *c = arg; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *c))
            plain = false;
    if (plain) {
        snprintf(buf + n, cap - n, " %s", arg);
        return;
    }
    n += (size_t)snprintf(buf + n, cap - n, " '");
    for (const char *c = arg; *c && n + 5 < cap; c++) {
        if (*c == '\'')
            n += (size_t)snprintf(buf + n, cap - n, "'\\''");
        else
            buf[n++] = *c, buf[n] = 0;
    }
    snprintf(buf + n, cap - n, "'");
}

/* The command that replays the run: every option that changed it. */
static void replay_line(const task *t, const test_opts *o, char *buf, size_t cap)
{
    snprintf(buf, cap, "tcpsim %s", cli_ends_with(t->file, ".pkt") ? "pkt" : "run");
    shell_arg(buf, cap, t->file);
    if (t->seeded) {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
        shell_arg(buf, cap, "--seed");
        shell_arg(buf, cap, seed);
    }
    for (int i = 0; i < o->npass; i++)
        shell_arg(buf, cap, o->pass[i]);
}

static const char *why(const task *t)
{
    if (t->timed_out)
        return "timed out (--timeout)";
    if (t->status == 1)
        return strstr(t->text, "no expectations were checked") ? "no expectations were checked"
                                                               : "an expectation failed";
    return t->status == 2 ? "error" : "crashed";
}

static void print_lines(const char *prefix, const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("%s   | %.*s\n", prefix, len, p);
        p += len + (nl ? 1 : 0);
    }
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
    char replay[8192];
    replay_line(t, o, replay, sizeof replay);
    const char *prefix = o->tap ? "#" : "";
    printf("%s   %s (exit %d)\n%s   replay: %s\n", prefix, why(t), t->status, prefix, replay);
    print_lines(prefix, t->text);
    print_lines(prefix, t->errtext);
}

/* ---- JUnit ---- */

/* XML 1.0 text: markup escaped, invalid UTF-8 and control characters
 * replaced (render_xml_text), so the report is well-formed whatever a
 * scenario printed or was named. */
static void xml_escaped(FILE *f, const char *s)
{
    render_xml_text(f, s, true);
}

/* "teardown" for scenarios/teardown/x.lua; "tests.bad" for tests/bad/x.lua. */
static void junit_classname(FILE *f, const char *file)
{
    const char *p = file;
    while (strncmp(p, "./", 2) == 0)
        p += 2;
    if (strncmp(p, "scenarios/", 10) == 0)
        p += 10;
    const char *slash = strrchr(p, '/');
    if (!slash || slash == p) {
        fputs("tcpsim", f);
        return;
    }
    if (*p == '/')
        p++;
    char cls[4096];
    snprintf(cls, sizeof cls, "%.*s", (int)(slash - p), p);
    for (char *c = cls; *c; c++)
        if (*c == '/')
            *c = '.';
    xml_escaped(f, cls);
}

/* The first line of `text` that starts with `prefix`, or NULL. */
static const char *first_line(const char *text, const char *prefix, size_t *len)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            *len = n;
            return p;
        }
        p += n + (nl ? 1 : 0);
    }
    return NULL;
}

/* message="": the first FAIL line, the error line, or why it failed. */
static void junit_message(FILE *f, const task *t)
{
    size_t len = 0;
    const char *line = first_line(t->text, "FAIL ", &len);
    if (!line)
        line = first_line(t->errtext, "tcpsim: ", &len);
    if (!line)
        line = first_line(t->text, "FAIL: ", &len);
    char buf[1024];
    if (line)
        snprintf(buf, sizeof buf, "%.*s", (int)(len < 1000 ? len : 1000), line);
    else
        snprintf(buf, sizeof buf, "%s (exit %d)", why(t), t->status);
    xml_escaped(f, buf);
}

static void junit_case(FILE *f, const task *t, const test_opts *o)
{
    const char *base = strrchr(t->file, '/');
    base = base ? base + 1 : t->file;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
        len -= 4;
    fprintf(f, "    <testcase classname=\"");
    junit_classname(f, t->file);
    char name[4200];
    snprintf(name, sizeof name, "%.*s", (int)len, base);
    fprintf(f, "\" name=\"");
    xml_escaped(f, name);
    if (t->seeded)
        fprintf(f, " --seed %llu", (unsigned long long)t->seed);
    fprintf(f, "\" file=\"");
    xml_escaped(f, t->file);
    fprintf(f, "\" time=\"%.3f\">\n", t->secs);
    if (!passed(t)) {
        const char *tag = is_error(t) ? "error" : "failure";
        fprintf(f, "      <%s message=\"", tag);
        junit_message(f, t);
        fprintf(f, "\" type=\"%s\">", is_error(t) ? "error" : "expectation");
        char replay[8192];
        replay_line(t, o, replay, sizeof replay);
        fprintf(f, "%s (exit %d)\nreplay: ", why(t), t->status);
        xml_escaped(f, replay);
        fprintf(f, "\n");
        xml_escaped(f, t->text);
        xml_escaped(f, t->errtext);
        fprintf(f, "</%s>\n", tag);
    }
    fprintf(f, "      <system-out>");
    xml_escaped(f, t->text);
    fprintf(f, "</system-out>\n      <system-err>");
    xml_escaped(f, t->errtext);
    fprintf(f, "</system-err>\n    </testcase>\n");
}

static int write_junit(const char *path, const task *tasks, size_t n, const test_opts *o,
                       double secs)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tcpsim test: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t failures = 0, errors = 0;
    for (size_t i = 0; i < n; i++) {
        failures += !passed(&tasks[i]) && !is_error(&tasks[i]);
        errors += is_error(&tasks[i]);
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites name=\"tcpsim\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "time=\"%.3f\">\n",
            n, failures, errors, secs);
    fprintf(f,
            "  <testsuite name=\"tcpsim\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"0\" time=\"%.3f\">\n",
            n, failures, errors, secs);
    for (size_t i = 0; i < n; i++)
        junit_case(f, &tasks[i], o);
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* The runs of this shard: run k of all (files in order, then seeds) is
 * the shard's when k % N == I - 1. NULL (reported) when there are more
 * than TEST_TASKS_MAX; only the shard's runs are visited. */
static task *make_tasks(const test_opts *o, size_t *ntasks)
{
    uint64_t nseeds = o->seeded ? o->seed_hi - o->seed_lo + 1 : 1; /* >= 1: hi <= INT64_MAX */
    uint64_t step = o->shard_n ? o->shard_n : 1, first = o->shard_n ? o->shard_i - 1 : 0;
    uint64_t total = o->nfiles > UINT64_MAX / nseeds ? UINT64_MAX : o->nfiles * nseeds;
    uint64_t share = total > first ? (total - first - 1) / step + 1 : 0;
    if (share > TEST_TASKS_MAX) {
        fprintf(stderr,
                "tcpsim test: %zu scenario%s x %llu seeds make more than %u runs (narrow "
                "--seeds or split the work with --shard)\n",
                o->nfiles, o->nfiles == 1 ? "" : "s", (unsigned long long)nseeds, TEST_TASKS_MAX);
        return NULL;
    }
    task *tasks = calloc(share ? share : 1, sizeof *tasks);
    if (!tasks)
        abort();
    size_t n = 0;
    for (uint64_t k = first; n < share; k += step, n++) {
        tasks[n].file = o->files[k / nseeds];
        tasks[n].seeded = o->seeded;
        tasks[n].seed = o->seed_lo + k % nseeds;
        tasks[n].status = -1;
    }
    *ntasks = n;
    return tasks;
}

static int pid_status; /* the wait status wait_or_time_out reaped */

/* Waits for a run to end; a run past --timeout is killed (and reported as
 * timed out). Returns the pid reaped (its status in pid_status), or -1
 * when none is running. */
static pid_t wait_or_time_out(task *tasks, size_t started, const test_opts *o)
{
    for (;;) {
        pid_t pid = waitpid(-1, &pid_status, WNOHANG);
        if (pid != 0)
            return pid;
        double now = cli_wall_seconds();
        for (size_t i = 0; i < started; i++) {
            task *t = &tasks[i];
            if (!t->done && !t->timed_out && (now - t->start_s) * 1000.0 > (double)o->timeout_ms) {
                t->timed_out = true;
                kill(t->pid, SIGKILL);
            }
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static size_t run_all(task *tasks, size_t n, const test_opts *o, const char *self)
{
    size_t next = 0, printed = 0, running = 0, failed = 0;
    if (o->tap)
        printf("TAP version 13\n1..%zu\n# jobs: %ld\n", n, o->jobs);
    while (printed < n) {
        while (running < (size_t)o->jobs && next < n) {
            start(&tasks[next++], o, self);
            running++;
        }
        int ws;
        pid_t pid = wait_or_time_out(tasks, next, o);
        if (pid < 0)
            break;
        ws = pid_status;
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

static void free_files(test_opts *o)
{
    for (size_t i = 0; i < o->nfiles; i++)
        free(o->files[i]);
    free(o->files);
}

static int write_html_index(const char *dir, const task *tasks, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    rlog_html_link *links = calloc(n ? n : 1, sizeof *links);
    char(*hrefs)[4200] = calloc(n ? n : 1, sizeof *hrefs);
    if (!links || !hrefs)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (cli_ends_with(tasks[i].file, ".pkt"))
            continue; /* packetdrill scripts get no page */
        html_page(&tasks[i], NULL, hrefs[k], sizeof hrefs[k]);
        links[k] = (rlog_html_link){tasks[i].file, hrefs[k], passed(&tasks[i])};
        k++;
    }
    int rc = f ? rlog_write_html_index(f, links, k) : -1;
    if (!f || fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "tcpsim test: cannot write %s\n", path);
        rc = -1;
    }
    free(links);
    free(hrefs);
    return rc;
}

int cli_test(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) /* its own options and verdicts: cmd_ktest.c */
        if (strcmp(argv[i], "--kernel") == 0)
            return cli_test_kernel(argc, argv);
    test_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_test(argc, argv, &o);
    if (rc) {
        free_files(&o);
        return rc;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        snprintf(self, sizeof self, "%s", argv[0]);
    else
        self[len] = 0;
    if (o.html_dir && mkdir(o.html_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "tcpsim test: cannot make %s: %s\n", o.html_dir, strerror(errno));
        return 2;
    }
    size_t n;
    task *tasks = make_tasks(&o, &n);
    if (!tasks) {
        free_files(&o);
        return 2;
    }
    if (!o.timeout_ms)
        o.timeout_ms = TEST_TIMEOUT_MS;
    double t0 = cli_wall_seconds();
    size_t failed = run_all(tasks, n, &o, self);
    if (o.junit && write_junit(o.junit, tasks, n, &o, cli_wall_seconds() - t0) != 0)
        rc = 2;
    if (o.html_dir && write_html_index(o.html_dir, tasks, n) != 0)
        rc = 2;
    printf("%s%zu passed, %zu failed\n", o.tap ? "# " : "", n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        free(tasks[i].text);
        free(tasks[i].errtext);
    }
    free(tasks);
    free_files(&o);
    if (rc)
        return rc;
    return failed || n == 0 ? 1 : 0;
}
