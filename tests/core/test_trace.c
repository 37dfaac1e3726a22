/*
 * test_trace — the contract of sim_trace.h: names of kinds and reasons, the
 * exact one-line text of each record kind, and snprintf-like truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sim_trace.h"

static sim_trace_rec packet_rec(sim_trace_kind kind)
{
    return (sim_trace_rec){
        .time = 50 * SIM_MS,
        .kind = kind,
        .host_id = 1,
        .link_id = 0,
        .dir = 0,
        .packet_id = 3,
        .origin_id = 3,
        .len = 40,
    };
}

static const char *fmt(const sim_trace_rec *rec)
{
    static char buf[256];
    size_t n = sim_trace_format(rec, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_null(strchr(buf, '\n'));
    return buf;
}

static void test_names(void **state)
{
    (void)state;
    const char *kinds[] = {"SEND",  "DROP", "DELIVER", "DUPLICATE", "CORRUPT",
                           "DELAY", "HOLD", "RELEASE", "LINK",      "HOST"};
    for (int k = SIM_TR_SEND; k <= SIM_TR_HOST; k++)
        assert_string_equal(sim_trace_kind_name((sim_trace_kind)k), kinds[k]);
    const char *reasons[] = {"none",      "loss",  "queue",    "mtu",
                             "link_down", "fault", "no_route", "no_receiver"};
    for (int r = SIM_DROP_NONE; r <= SIM_DROP_NO_RECEIVER; r++)
        assert_string_equal(sim_drop_reason_name((sim_drop_reason)r), reasons[r]);
}

static void test_packet_records(void **state)
{
    (void)state;
    sim_trace_rec r = packet_rec(SIM_TR_DELIVER);
    assert_string_equal(fmt(&r), "0.050000000 DELIVER host=1 link=0 dir=0 pkt=3 len=40");
    r.kind = SIM_TR_SEND;
    r.dir = 1;
    r.time = 1;
    assert_string_equal(fmt(&r), "0.000000001 SEND host=1 link=0 dir=1 pkt=3 len=40");
    r = packet_rec(SIM_TR_DROP);
    r.reason = SIM_DROP_QUEUE;
    assert_string_equal(fmt(&r), "0.050000000 DROP host=1 link=0 dir=0 pkt=3 len=40 reason=queue");
    r.link_id = UINT32_MAX;
    r.reason = SIM_DROP_NO_ROUTE;
    assert_string_equal(fmt(&r), "0.050000000 DROP host=1 pkt=3 len=40 reason=no_route");
    r = packet_rec(SIM_TR_DUPLICATE);
    r.packet_id = 9;
    assert_string_equal(fmt(&r), "0.050000000 DUPLICATE host=1 link=0 dir=0 pkt=9 origin=3 len=40");
    r = packet_rec(SIM_TR_CORRUPT);
    r.code = 171;
    assert_string_equal(fmt(&r), "0.050000000 CORRUPT host=1 link=0 dir=0 pkt=3 len=40 bit=171");
    r = packet_rec(SIM_TR_DELAY);
    r.value_ns = 1500 * SIM_US;
    r.code = 1;
    assert_string_equal(
        fmt(&r), "0.050000000 DELAY host=1 link=0 dir=0 pkt=3 len=40 delay=1.5ms cause=reorder");
    r = packet_rec(SIM_TR_HOLD);
    assert_string_equal(fmt(&r), "0.050000000 HOLD host=1 link=0 dir=0 pkt=3 len=40");
    r.kind = SIM_TR_RELEASE;
    assert_string_equal(fmt(&r), "0.050000000 RELEASE host=1 link=0 dir=0 pkt=3 len=40");
}

static void test_link_and_host_records(void **state)
{
    (void)state;
    sim_trace_rec r = {.time = 3 * SIM_S,
                       .kind = SIM_TR_LINK,
                       .host_id = 0,
                       .link_id = 2,
                       .dir = 1,
                       .value_ns = 0};
    assert_string_equal(fmt(&r), "3.000000000 LINK host=0 link=2 dir=1 down");
    r.value_ns = 1;
    assert_string_equal(fmt(&r), "3.000000000 LINK host=0 link=2 dir=1 up");
    r = (sim_trace_rec){.time = 0,
                        .kind = SIM_TR_HOST,
                        .host_id = 4,
                        .link_id = UINT32_MAX,
                        .code = 12,
                        .text = "tab\there",
                        .bytes = (const uint8_t *)"xy",
                        .len = 2};
    assert_string_equal(fmt(&r), "0.000000000 HOST host=4 code=12 len=2 text=\"tab\\x09here\"");
    r.host_id = UINT32_MAX;
    r.text = NULL;
    r.len = 0;
    assert_string_equal(fmt(&r), "0.000000000 HOST host=- code=12");
}

static void test_truncation_reports_full_length(void **state)
{
    (void)state;
    sim_trace_rec r = packet_rec(SIM_TR_DELIVER);
    const char *full = "0.050000000 DELIVER host=1 link=0 dir=0 pkt=3 len=40";
    char small[12];
    assert_int_equal(sim_trace_format(&r, small, sizeof small), strlen(full));
    assert_string_equal(small, "0.050000000");
    assert_int_equal(sim_trace_format(&r, NULL, 0), strlen(full));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_packet_records),
        cmocka_unit_test(test_link_and_host_records),
        cmocka_unit_test(test_truncation_reports_full_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
