/*
 * Scenario scripts of the Lua API in tests/lua/scripts/: each runs through
 * the runtime's C entry points and must end with status 0, no failed
 * expectation and exactly the number of checks its header states
 * ("-- checks: N"), so a script that stops checking cannot pass.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

/* The N of the "-- checks: N" line of the file, or -1. */
static long stated_checks(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    long n = -1;
    while (n < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, "-- checks: ", 11) == 0)
            n = strtol(line + 11, NULL, 10);
    fclose(f);
    return n;
}

/* Runs the script with a run log that keeps connection entries, or one
 * that keeps only packets (no_conns: tcpsim run without outputs); the
 * scenario's link queries must hold alike in both. */
static void run_file_as(const char *name, bool no_conns)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/lua/scripts/%s", TCPSIM_SOURCE_DIR, name);
    long want = stated_checks(path);
    if (want <= 0)
        fail_msg("%s: no '-- checks: N' line", path);
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.file = path;
    cfg.check = true;
    cfg.no_conns = no_conns;
    lua_State *L = lsim_runtime_new(&cfg);
    assert_non_null(L);
    const char *err = NULL;
    int rc = lsim_runtime_run(L, &err);
    long checked, failed;
    lsim_expect_counts(L, &checked, &failed);
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", err ? err : "");
    lsim_runtime_free(L);
    if (rc != 0)
        fail_msg("%s: rc %d: %s", name, rc, msg);
    if (failed != 0 || checked != want)
        fail_msg("%s%s: %ld of %ld checks failed, %ld stated", name,
                 no_conns ? " (without connection entries)" : "", failed, checked, want);
}

static void run_file(const char *name)
{
    run_file_as(name, false);
    run_file_as(name, true);
}

static void inject_options(void **state)
{
    (void)state;
    run_file("inject_options.lua");
}

static void segment_filters(void **state)
{
    (void)state;
    run_file("segment_filters.lua");
}

static void sequence_variables(void **state)
{
    (void)state;
    run_file("sequence_variables.lua");
}

static void segment_fates(void **state)
{
    (void)state;
    run_file("segment_fates.lua");
}

static void option_ranges(void **state)
{
    (void)state;
    run_file("option_ranges.lua");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inject_options),     cmocka_unit_test(segment_filters),
        cmocka_unit_test(sequence_variables), cmocka_unit_test(segment_fates),
        cmocka_unit_test(option_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
