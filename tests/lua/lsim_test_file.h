/*
 * lsim_test_file — the scenario file a test writes and the state made for
 * it, shared by the tests that run a script through the runtime's C entry
 * points. Include after <cmocka.h>.
 */
#ifndef LSIM_TEST_FILE_H
#define LSIM_TEST_FILE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsim.h"

/* Writes src to a new file named in path (a mkstemp template) and makes a
 * state for it with cfg (its `file` set to path). */
static inline lua_State *lsim_test_state_cfg(const char *src, char *path, lsim_config cfg)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    cfg.file = path;
    lua_State *L = lsim_runtime_new(&cfg);
    assert_non_null(L);
    return L;
}

/* As lsim_test_state_cfg with every option at its default but `unsafe`
 * (--unsafe: debug, collectgarbage). */
static inline lua_State *lsim_test_state(const char *src, char *path, bool unsafe)
{
    lsim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.unsafe = unsafe;
    return lsim_test_state_cfg(src, path, cfg);
}

/* Runs the state to its end: the scenario must succeed, every one of its
 * `checked` expectations holding. */
static inline void lsim_test_run_to_end(lua_State *L, long checked)
{
    const char *err = NULL;
    int rc = lsim_runtime_run(L, &err);
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err ? err : "");
    long seen = 0, failed = 0;
    lsim_expect_counts(L, &seen, &failed);
    assert_int_equal(failed, 0);
    assert_int_equal(seen, checked);
}

#endif
