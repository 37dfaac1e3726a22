/*
 * test_time — the contract of sim_time.h: durations parse exactly, reject
 * what is ambiguous or unrepresentable, and format back without rounding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sim_time.h"

static sim_time_t parse_ok(const char *text)
{
    sim_time_t ns = 12345;
    char err[128] = "";
    int rc = sim_duration_parse(text, &ns, err, sizeof err);
    if (rc != 0)
        fail_msg("\"%s\" rejected: %s", text, err);
    return ns;
}

/* Parses text expecting failure; returns the message. */
static const char *parse_err(const char *text)
{
    static char err[128];
    sim_time_t ns = 777;
    err[0] = '\0';
    int rc = sim_duration_parse(text, &ns, err, sizeof err);
    if (rc != -1)
        fail_msg("\"%s\" accepted as %llu", text, (unsigned long long)ns);
    assert_int_equal(ns, 777); /* untouched on error */
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    return err;
}

static void test_parse_each_unit(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("7ns"), 7);
    assert_int_equal(parse_ok("7us"), 7000);
    assert_int_equal(parse_ok("50ms"), 50 * SIM_MS);
    assert_int_equal(parse_ok("3s"), 3 * SIM_S);
    assert_int_equal(parse_ok("2min"), 120 * SIM_S);
    assert_int_equal(parse_ok("1h"), 3600 * SIM_S);
    assert_int_equal(parse_ok("0s"), 0);
    assert_int_equal(parse_ok("0ns"), 0);
}

static void test_parse_fractions_exactly(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1.5s"), 1500000000u);
    assert_int_equal(parse_ok("0.25ms"), 250000u);
    assert_int_equal(parse_ok("0.000000001s"), 1u);
    assert_int_equal(parse_ok("1.5min"), 90 * SIM_S);
    assert_int_equal(parse_ok("0.001us"), 1u);
    assert_int_equal(parse_ok("2.50ms"), 2500000u);
    /* Trailing zeros beyond 1 ns are not "finer than 1 ns". */
    assert_int_equal(parse_ok("1.0000000000000000000000s"), SIM_S);
    assert_int_equal(parse_ok("007ms"), 7 * SIM_MS);
    /* 1/60 of a nanosecond per digit does not add up to a whole one here,
     * but 0.00000000005min is 3 ns exactly. */
    assert_int_equal(parse_ok("0.00000000005min"), 3u);
}

static void test_parse_limits(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("18446744073709551615ns"), UINT64_MAX);
    assert_int_equal(parse_ok("18446744073.709551615s"), UINT64_MAX);
    assert_non_null(strstr(parse_err("18446744073709551616ns"), "too large"));
    assert_non_null(strstr(parse_err("18446744073.709551616s"), "too large"));
    assert_non_null(strstr(parse_err("5124096h"), "too large"));
    assert_non_null(strstr(parse_err("99999999999999999999999s"), "too large"));
}

static void test_parse_rejects_bare_numbers(void **state)
{
    (void)state;
    assert_string_equal(parse_err("50"), "duration \"50\" needs a unit (ns, us, ms, s, min, h)");
    parse_err("1.5");
    parse_err("0");
}

static void test_parse_rejects_negative_and_garbage(void **state)
{
    (void)state;
    assert_string_equal(parse_err("-5ms"), "duration must not be negative, got \"-5ms\"");
    assert_non_null(strstr(parse_err("5xs"), "unknown unit \"xs\""));
    assert_non_null(strstr(parse_err(""), "empty"));
    parse_err("ms");
    parse_err("abc");
    parse_err(".5s");
    parse_err("5.s");
    parse_err("5 ms");
    parse_err("5ms ");
    parse_err(" 5ms");
    parse_err("+5ms");
    parse_err("5MS");
    parse_err("5sec");
    parse_err("1e3ms");
    parse_err("5ms5");
    parse_err("1,5s");
}

static void test_parse_rejects_sub_nanosecond(void **state)
{
    (void)state;
    assert_string_equal(parse_err("0.5ns"), "duration \"0.5ns\" is finer than 1ns");
    parse_err("1.0001us");
    parse_err("0.0000000001s");
    parse_err("1.0000000000000000001s");
    parse_err("0.00000000001min");
}

static void test_parse_error_buffer_is_optional(void **state)
{
    (void)state;
    sim_time_t ns = 1;
    assert_int_equal(sim_duration_parse("junk", &ns, NULL, 0), -1);
    char tiny[8];
    assert_int_equal(sim_duration_parse("junk", &ns, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(ns, 1);
}

static const char *fmt_duration(sim_time_t ns)
{
    static char buf[64];
    size_t n = sim_duration_format(ns, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    return buf;
}

static void test_format_duration(void **state)
{
    (void)state;
    assert_string_equal(fmt_duration(1500000000u), "1.5s");
    assert_string_equal(fmt_duration(120 * SIM_S), "2min");
    assert_string_equal(fmt_duration(1), "1ns");
    assert_string_equal(fmt_duration(0), "0s");
    assert_string_equal(fmt_duration(SIM_H), "1h");
    assert_string_equal(fmt_duration(90 * SIM_MIN), "90min");
    assert_string_equal(fmt_duration(90 * SIM_S), "90s");
    assert_string_equal(fmt_duration(250 * SIM_US), "250us");
    assert_string_equal(fmt_duration(1500), "1.5us");
    assert_string_equal(fmt_duration(SIM_S + 1), "1.000000001s");
    assert_string_equal(fmt_duration(50 * SIM_MS), "50ms");
    assert_string_equal(fmt_duration(999), "999ns");
    assert_string_equal(fmt_duration(UINT64_MAX), "18446744073.709551615s");
}

static void test_format_round_trips(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* Mix magnitudes and round values so every unit is exercised. */
        sim_time_t v = x >> (x % 64);
        if (i % 3 == 0)
            v -= v % SIM_MS;
        if (i % 7 == 0)
            v -= v % SIM_MIN;
        char buf[64];
        sim_duration_format(v, buf, sizeof buf);
        assert_int_equal(parse_ok(buf), v);
    }
}

static void test_format_truncates_like_snprintf(void **state)
{
    (void)state;
    char buf[4];
    assert_int_equal(sim_duration_format(SIM_S + 1, buf, sizeof buf), strlen("1.000000001s"));
    assert_string_equal(buf, "1.0");
    assert_int_equal(sim_duration_format(5, NULL, 0), 3);
}

static void test_format_instant(void **state)
{
    (void)state;
    char buf[32];
    sim_time_format(50 * SIM_MS, buf, sizeof buf);
    assert_string_equal(buf, "0.050");
    sim_time_format(SIM_S + 1, buf, sizeof buf);
    assert_string_equal(buf, "1.000000001");
    sim_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "0.000");
    sim_time_format(3 * SIM_MIN + 250 * SIM_US, buf, sizeof buf);
    assert_string_equal(buf, "180.000250000");
    assert_int_equal(sim_time_format(12 * SIM_S, buf, sizeof buf), strlen("12.000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_each_unit),
        cmocka_unit_test(test_parse_fractions_exactly),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_rejects_bare_numbers),
        cmocka_unit_test(test_parse_rejects_negative_and_garbage),
        cmocka_unit_test(test_parse_rejects_sub_nanosecond),
        cmocka_unit_test(test_parse_error_buffer_is_optional),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_format_round_trips),
        cmocka_unit_test(test_format_truncates_like_snprintf),
        cmocka_unit_test(test_format_instant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
