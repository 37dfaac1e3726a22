/*
 * cli — pieces of the tcpsim command shared by its subcommands (main.c runs
 * one scenario, cli_test.c many, cli_cmds.c the small ones, cli_help.c the
 * help texts and the manual page generated from them, cli_watch.c reruns).
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lsim.h"

#ifndef CLI_VERSION
#define CLI_VERSION "0.1.0"
#endif
#define CLI_MAX_LIB_PATHS 16

int cli_parse_u64(const char *text, uint64_t *out);
/* Options both commands accept (-I, --profile, --unsafe, limits). Returns
 * argv entries used (1 or 2), 0 when argv[i] is not one, -1 on error. */
int cli_common_opt(lsim_config *cfg, int argc, char **argv, int i);
/* Appends the folders of TCPSIM_PATH (colon-separated) and the installed
 * scenario library (next to the program: ../share/tcpsim/lib) to the
 * require() path, after any -I. Returns 0, or -1 when there are too many. */
int cli_add_lib_paths(lsim_config *cfg, const char *argv0);

/* The closest of `candidates` (NULL-terminated) to `word` when close enough
 * to be a typo, else NULL. */
const char *cli_suggest(const char *word, const char *const *candidates);
/* Reports "tcpsim CMD: unknown option 'x' (did you mean --y?)"; returns 2. */
int cli_unknown_option(const char *cmd, const char *arg, const char *const *options);
/* Processors this process may run on (at least 1). */
long cli_cores(void);
/* The command's one growth helper: returns p (elements of `elem` bytes,
 * capacity *cap) grown to hold `need`, doubling from 64; out of memory ends
 * the process with a message. */
void *cli_grow(void *p, size_t *cap, size_t need, size_t elem);
/* A temporary file's text as a new string (its first `max` bytes, then a
 * line saying how many were left out; NUL bytes read as '?', so the text of
 * a run stays text); the file is closed. */
char *cli_slurp(FILE *f, size_t max);
/* Whether s ends with suffix. */
bool cli_ends_with(const char *s, const char *suffix);
/* Calls add(ctx, path) for every .lua and .pkt file below dir, in
 * directory order (callers sort), leaving out dot names and lib/ folders
 * (the scenario library is not a test). A folder that cannot be read adds
 * nothing. */
void cli_scan_scenarios(const char *dir, void (*add)(void *ctx, const char *path), void *ctx);

/* The --help text of a command ("tcpsim" for the command itself, "run",
 * "test", "profiles", "new", "help", "man", "version"); NULL if none. */
const char *cli_help(const char *cmd);
int cli_help_cmd(int argc, char **argv); /* tcpsim help [COMMAND] */
int cli_man(int argc, char **argv);      /* tcpsim man: roff from the help texts */

int cli_test(int argc, char **argv);        /* tcpsim test ... */
int cli_test_kernel(int argc, char **argv); /* tcpsim test --kernel ... (cmd_ktest.c) */
/* For tcpsim test's runs: forks, flushing stdout and stderr first, a child
 * whose standard output and error go to two new temporary files (*out,
 * *err, read back by the parent). The pid in the parent, 0 in the child;
 * the message and exit 2 where it cannot. */
pid_t cli_fork_captured(FILE **out, FILE **err);
int cli_profiles(int argc, char **argv); /* tcpsim profiles [-v] */
int cli_new(int argc, char **argv);      /* tcpsim new NAME */
int cli_pkt(int argc, char **argv);      /* tcpsim pkt FILE.pkt ... */
int cli_kernel(int argc, char **argv);   /* tcpsim kernel FILE.lua (cmd_kernel.c) */
int cli_explore(int argc, char **argv);  /* tcpsim explore ... (cmd_explore.c) */
int cli_swarm(int argc, char **argv);    /* tcpsim swarm ... (cmd_swarm.c) */

/* Calls run(ctx) now and again each time the file at `path` is written or
 * replaced (inotify), until interrupted. Returns 2 if it cannot watch. */
int cli_watch(const char *path, int (*run)(void *), void *ctx);

/* What a failed run removes (cli_stale.c): paths[i] (NULL: none), exactly
 * those names, never the scenario's own file (scenario; NULL: none) and
 * none of the tagged names (STEM.simK.EXT, STEM.HOST.EXT) an earlier run
 * may have written beside them: scan before the run. remove unlinks them,
 * saying each it removed on stderr, with unlink and write only (safe in a
 * signal handler and inside malloc); forget frees the list (scan forgets
 * the last one itself). */
void cli_stale_scan(const char *const *paths, size_t n, const char *scenario);
void cli_stale_remove(void);
void cli_stale_forget(void);
/* tcpsim run [--schedule S] [--settle D]: steers the run's nets under the
 * command line's schedule, or the one the scenario gives tcpsim.new
 * (NULL on a bad schedule or duration, message printed). After the run,
 * when a schedule applied, settles and checks the invariants: returns 1 if
 * one failed (printed), else 0. */
/* tcpsim explore --emit-scenario: one shrunk failing schedule written as
 * a scenario (cmd_explore_emit.c). run is the schedule's run, made with
 * exp_run.describe set. Returns 0, or -1 (message printed). */
struct exp_run;
typedef struct cli_emit {
    const char *path, *file;    /* the file to write; the scenario */
    const char *inv, *msg;      /* the invariant and its message */
    const char *first, *replay; /* the schedule shrunk from; the shrunk one's replay line */
    const char *run_line;       /* how to run the written file */
    const char *settle;         /* --settle, or NULL */
    const struct exp_run *run;
    /* tcpsim swarm: the seed every simulation gets and the link knobs
     * (a Lua table's fields, "loss = \"0.05\", mtu = 1400") each link gets
     * as it is made; knobs NULL for tcpsim explore. */
    uint64_t seed;
    const char *knobs, *knobs_text; /* the fields; the text form for the header */
} cli_emit;
int cli_explore_emit(const cli_emit *e);
/* One run of the scenario cfg names, steered by cfg's callbacks, as every
 * explore and swarm run is made (quiet, payload-free, chunks cached), in
 * `kept` when not NULL (lsim_keep_begin/end: cfg's callbacks are then the
 * ones the state was made with, r its on_net_ctx), else in a fresh state: the
 * script's error, if any, goes to err (and is part of the outcome), a limit
 * is the invariant `limit`, and exp_run_finish is called. expect (may be
 * NULL) gets the expectations checked and failed. 0, or -1 when no run
 * could be made (message printed). */
struct exp_run;
int cli_explore_run(lsim_config cfg, lsim_keep *kept, struct exp_run *r, char *err, size_t errlen,
                    long expect[2]);
/* How long a swarm run settles by default (tcpsim swarm, tcpsim run
 * --swarm): an hour, not explore's 10 min, since at a third of the
 * segments lost a connection still making progress retransmits for 15 min
 * and more (each ACK that gets through starts its retries again). A run
 * that goes idle ends sooner. */
#define CLI_SWARM_SETTLE_NS (3600ull * 1000000000ull)

/* The arguments tcpsim explore and tcpsim swarm share: the scenario (or
 * --merge and its reports), --no-shrink, --jobs, --shard, --settle,
 * --report-out, --emit-scenario, --help and cli_common_opt's. */
typedef struct cli_tool_args {
    lsim_config cfg;
    const char *merge[64];
    int nmerge;
    bool merging;
    bool no_shrink;         /* report each failure as found */
    uint32_t jobs;          /* --jobs, 1 to 64 (1 if not given) */
    uint32_t shard;         /* --shard I/N: shard I - 1 of nshards (0 of 1 if not given) */
    uint32_t nshards;       /* 1 to 4096 */
    uint64_t settle_ns;     /* --settle; the caller's default if not given */
    const char *settle;     /* --settle as given, or NULL */
    const char *report_out; /* --report-out, or NULL */
    const char *emit_dir;   /* --emit-scenario, or NULL */
} cli_tool_args;
/* The tool's own options: value(ctx, a, v) takes an option with a value
 * (0 taken, -1 not one of its options, else the exit status, message
 * printed); flag(ctx, a) (may be NULL) whether a is one of its flags. */
typedef struct cli_tool_opts {
    int (*value)(void *ctx, const char *a, const char *v);
    bool (*flag)(void *ctx, const char *a);
    void *ctx;
} cli_tool_opts;
/* Reads argv[2..] of `tcpsim CMD` into t and the tool's options. Returns 0,
 * or the exit status (2) with the mistake printed. */
int cli_tool_parse(int argc, char **argv, const char *cmd, cli_tool_args *t,
                   const cli_tool_opts *tool);
/* Every run of explore and swarm makes and frees a world: the freed memory
 * is kept in the process (glibc's trim and mmap thresholds raised) rather
 * than handed back and faulted in again. */
void cli_tool_keep_heap(void);
/* "tcpsim: MSG 'ARG'" and the hint to CMD's --help; returns 2. */
int cli_tool_usage(const char *cmd, const char *msg, const char *arg);
/* Seconds on the monotonic clock: for rates and progress on stderr only. */
double cli_wall_seconds(void);
/* A..B, both decimal, A <= B <= INT64_MAX (tcpsim test and swarm --seeds).
 * 0, or -1. */
int cli_parse_seeds(const char *v, uint64_t *lo, uint64_t *hi);
/* tcpsim.new's schedule option, ignored (the tool chooses the faults). */
int cli_ignore_schedule(void *ctx, const char *text, uint64_t settle_ns, char *err, size_t errlen);
/* The folders the scenario's require() searches (its own, lib/, ../lib/)
 * that exist, as -I options in opts for a file written elsewhere, and into
 * cfg's lib paths (dirs holds their text). */
void cli_lib_dirs(const char *file, lsim_config *cfg, char dirs[3][1100], char *opts, size_t len);
struct cli_sched;
/* swarm: tcpsim run --swarm KNOBS (exp_swarm.h's text form), or NULL. */
struct cli_sched *cli_schedule_begin(lsim_config *cfg, const char *text, const char *settle,
                                     const char *swarm);
int cli_schedule_end(struct cli_sched *c);

#endif
