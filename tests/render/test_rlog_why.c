/*
 * test_rlog_why — the rule behind each state change. The expected sections
 * and steps are read from RFC 9293 §3.10 (which event-processing section
 * and which of SEGMENT ARRIVES' ordered steps makes each transition), and
 * RFC 1122 §4.2.2.13 for a SYN reopening TIME-WAIT; not from our output.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlog_why.h"
#include "render.h"
#include "rlog_fixture.h"

static rlog_entry change(tcp_state from, tcp_state to, tcp_cause cause, uint8_t flags,
                         const char *note)
{
    /* An entry points at its segment: each change made here keeps its own
     * in a ring long enough for the entries a test holds at once. */
    static tcp_seg segs[16];
    static unsigned next;
    tcp_seg *seg = &segs[next++ % 16];
    memset(seg, 0, sizeof *seg);
    rlog_entry e;
    memset(&e, 0, sizeof e);
    e.kind = RLOG_STATE;
    e.from = from;
    e.to = to;
    e.cause = cause;
    e.seg = seg;
    if (cause == TCP_CAUSE_SEGMENT) {
        e.seg_ok = true;
        seg->flags = flags;
    }
    e.note = note;
    return e;
}

typedef struct expect_row {
    tcp_state from, to;
    tcp_cause cause;
    uint8_t flags;
    const char *note;
    const char *section; /* must appear in the rule */
    const char *step;    /* must appear too; NULL: none */
} expect_row;

#define SEG  TCP_CAUSE_SEGMENT
#define USR  TCP_CAUSE_USER
#define TMR  TCP_CAUSE_TIMER
#define X(s) TCP_##s

/* Every transition the stack makes (stack/tcp_input.c, tcp_user.c,
 * tcp_timer.c), with the part of the RFC that defines it. */
static const expect_row EXPECT[] = {
    {X(CLOSED), X(LISTEN), USR, 0, "listen()",
     "\xc2\xa7"
     "3.10.1",
     "passive"},
    {X(CLOSED), X(SYN_SENT), USR, 0, "connect()",
     "\xc2\xa7"
     "3.10.1",
     "active"},
    {X(LISTEN), X(CLOSED), USR, 0, "close()",
     "\xc2\xa7"
     "3.10.4",
     "LISTEN"},
    {X(SYN_SENT), X(CLOSED), USR, 0, "close()",
     "\xc2\xa7"
     "3.10.4",
     "SYN-SENT"},
    {X(SYN_RECEIVED), X(FIN_WAIT_1), USR, 0, "close()",
     "\xc2\xa7"
     "3.10.4",
     "SYN-RECEIVED"},
    {X(ESTABLISHED), X(FIN_WAIT_1), USR, 0, "close()",
     "\xc2\xa7"
     "3.10.4",
     "ESTABLISHED"},
    {X(ESTABLISHED), X(FIN_WAIT_1), USR, 0, "shutdown()",
     "\xc2\xa7"
     "3.10.4",
     "ESTABLISHED"},
    {X(CLOSE_WAIT), X(LAST_ACK), USR, 0, "close()",
     "\xc2\xa7"
     "3.10.4",
     "CLOSE-WAIT"},
    {X(ESTABLISHED), X(CLOSED), USR, 0, "abort()",
     "\xc2\xa7"
     "3.10.5",
     "ABORT"},
    {X(ESTABLISHED), X(CLOSED), USR, 0, "close() with linger 0",
     "\xc2\xa7"
     "3.10.5",
     "ABORT"},
    {X(LISTEN), X(CLOSED), USR, 0, "host crash",
     "\xc2\xa7"
     "3.5.2",
     NULL},
    {X(ESTABLISHED), X(CLOSED), USR, 0, "close() with unread data",
     "\xc2\xa7"
     "3.6.1",
     NULL},
    {X(LISTEN), X(SYN_RECEIVED), SEG, TCP_SYN, "rcv SYN",
     "\xc2\xa7"
     "3.10.7.2",
     "third"},
    {X(SYN_SENT), X(ESTABLISHED), SEG, TCP_SYN | TCP_ACK, "rcv SYN,ACK",
     "\xc2\xa7"
     "3.10.7.3",
     "fourth"},
    {X(SYN_SENT), X(SYN_RECEIVED), SEG, TCP_SYN, "rcv SYN",
     "\xc2\xa7"
     "3.10.7.3",
     "fourth"},
    {X(SYN_SENT), X(CLOSED), SEG, TCP_RST | TCP_ACK, "rcv RST",
     "\xc2\xa7"
     "3.10.7.3",
     "second"},
    {X(SYN_RECEIVED), X(LISTEN), SEG, TCP_RST, "rcv RST",
     "\xc2\xa7"
     "3.10.7.4",
     "second"},
    {X(SYN_RECEIVED), X(LISTEN), SEG, TCP_SYN, "rcv SYN",
     "\xc2\xa7"
     "3.10.7.4",
     "fourth"},
    {X(SYN_RECEIVED), X(CLOSED), SEG, TCP_RST, "rcv RST",
     "\xc2\xa7"
     "3.10.7.4",
     "second"},
    {X(SYN_RECEIVED), X(ESTABLISHED), SEG, TCP_ACK, "rcv ACK of SYN",
     "\xc2\xa7"
     "3.10.7.4",
     "fifth"},
    {X(ESTABLISHED), X(CLOSED), SEG, TCP_RST, "rcv RST",
     "\xc2\xa7"
     "3.10.7.4",
     "second"},
    {X(LAST_ACK), X(CLOSED), SEG, TCP_RST, "rcv RST",
     "\xc2\xa7"
     "3.10.7.4",
     "second"},
    {X(FIN_WAIT_1), X(FIN_WAIT_2), SEG, TCP_ACK, "rcv ACK of FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "fifth"},
    {X(CLOSING), X(TIME_WAIT), SEG, TCP_ACK, "rcv ACK of FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "fifth"},
    {X(LAST_ACK), X(CLOSED), SEG, TCP_ACK, "rcv ACK of FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "fifth"},
    {X(ESTABLISHED), X(CLOSE_WAIT), SEG, TCP_FIN | TCP_ACK, "rcv FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "eighth"},
    {X(SYN_RECEIVED), X(CLOSE_WAIT), SEG, TCP_FIN | TCP_ACK, "rcv FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "eighth"},
    {X(FIN_WAIT_1), X(CLOSING), SEG, TCP_FIN | TCP_ACK, "rcv FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "eighth"},
    {X(FIN_WAIT_1), X(TIME_WAIT), SEG, TCP_FIN | TCP_ACK, "rcv FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "eighth"},
    {X(FIN_WAIT_2), X(TIME_WAIT), SEG, TCP_FIN | TCP_ACK, "rcv FIN",
     "\xc2\xa7"
     "3.10.7.4",
     "eighth"},
    {X(TIME_WAIT), X(CLOSED), SEG, TCP_RST, "rcv RST",
     "\xc2\xa7"
     "3.10.7.4",
     "second"},
    {X(TIME_WAIT), X(CLOSED), SEG, TCP_SYN, "rcv SYN (new connection)",
     "RFC 1122 \xc2\xa7"
     "4.2.2.13",
     NULL},
    {X(FIN_WAIT_2), X(CLOSED), SEG, TCP_ACK, "data after close()",
     "\xc2\xa7"
     "3.6.1",
     NULL},
    {X(TIME_WAIT), X(CLOSED), TMR, 0, "2MSL timeout",
     "\xc2\xa7"
     "3.10.8",
     "TIME-WAIT"},
    {X(SYN_SENT), X(CLOSED), TMR, 0, "SYN retries exhausted",
     "\xc2\xa7"
     "3.8.3",
     "R2"},
    {X(ESTABLISHED), X(CLOSED), TMR, 0, "retransmissions exhausted",
     "\xc2\xa7"
     "3.8.3",
     "R2"},
    {X(ESTABLISHED), X(CLOSED), TMR, 0, "keepalive timeout",
     "\xc2\xa7"
     "3.8.4",
     NULL},
    {X(ESTABLISHED), X(CLOSED), TMR, 0, "persist probes unanswered",
     "\xc2\xa7"
     "3.8.6.1",
     NULL},
};

static void every_transition_of_the_stack_has_its_rfc_rule(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof EXPECT / sizeof EXPECT[0]; i++) {
        const expect_row *x = &EXPECT[i];
        rlog_entry e = change(x->from, x->to, x->cause, x->flags, x->note);
        rlog_why w = rlog_why_of(&e);
        if (!strstr(w.rule, x->section) || (x->step && !strstr(w.rule, x->step))) {
            fail_msg("%s -> %s (%s): rule \"%s\", expected %s %s", tcp_state_name(x->from),
                     tcp_state_name(x->to), x->note, w.rule, x->section, x->step ? x->step : "");
        }
        assert_true(strlen(w.because) > 20);
        /* --lang zh: every rule has its sentence in Chinese (UTF-8, not the English) */
        assert_non_null(w.because_zh);
        assert_string_not_equal(w.because_zh, w.because);
        assert_true(
            (unsigned char)w.because_zh[strcspn(w.because_zh, "\xe4\xe5\xe6\xe7\xe8\xe9")] >= 0xe4);
        /* and the rule in Chinese: the same section, its words in Chinese */
        assert_non_null(strstr(w.rule_zh, x->section));
        assert_string_not_equal(w.rule_zh, w.rule);
        assert_true((unsigned char)w.rule_zh[strcspn(w.rule_zh, "\xe4\xe5\xe6\xe7\xe8\xe9")] >=
                    0xe4);
    }
}

static void an_unknown_transition_says_so(void **state)
{
    (void)state;
    rlog_entry e = change(TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_CAUSE_USER, 0, "?");
    rlog_why w = rlog_why_of(&e);
    assert_string_equal(w.rule, "none");
    e.kind = RLOG_TIMER;
    assert_string_equal(rlog_why_of(&e).rule, "none");
}

static void profile_differences_are_named(void **state)
{
    (void)state;
    char buf[256];
    rlog_entry tw = change(TCP_FIN_WAIT_2, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, TCP_FIN, "rcv FIN");
    /* Linux TCP_TIMEWAIT_LEN is 60 s whatever the MSL (include/net/tcp.h). */
    assert_true(rlog_why_profile(&tw, tcp_profile_find("linux"), RLOG_LANG_EN, buf, sizeof buf) >
                0);
    assert_non_null(strstr(buf, "linux: TIME_WAIT lasts 60 s, fixed"));
    assert_non_null(strstr(buf, "240 s"));
    /* The RFC's own profile differs from nothing. */
    assert_int_equal(
        rlog_why_profile(&tw, tcp_profile_find("rfc9293"), RLOG_LANG_EN, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* RFC 9293 has no FIN-WAIT-2 timeout; FreeBSD's tcp_usrclosed gives an orphan
     * TP_MAXIDLE (tcp_keepcnt * tcp_keepintvl = 8 * 75 s = 600 s) of idle time,
     * rechecked by tcp_timer_2msl every keepalive interval (75 s). */
    rlog_entry f2 = change(TCP_FIN_WAIT_2, TCP_CLOSED, TCP_CAUSE_TIMER, 0, "FIN_WAIT_2 timeout");
    assert_true(rlog_why_profile(&f2, tcp_profile_find("bsd"), RLOG_LANG_EN, buf, sizeof buf) > 0);
    assert_non_null(strstr(
        buf, "bsd: an orphaned FIN_WAIT_2 ends after 600 s of idle time, checked every 75 s"));
}

/* The ASCII words of a Chinese line, each one of the names it may keep:
 * states, flags, the RFC and profile names, units. Fails naming the first
 * other word (English left in the line). */
static void assert_no_english(const char *zh)
{
    static const char *const KEEP[] = {"TIME_WAIT", "FIN_WAIT_2", "RFC", "MSL", "SYN",
                                       "FIN",       "ACK",        "RST", "MSS", "SACK",
                                       "rfc9293",   "linux",      "bsd", "s",   "ms"};
    for (const char *c = zh; *c;) {
        size_t n = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
        if (n == 0) {
            c++;
            continue;
        }
        bool kept = strspn(c, "0123456789") == n;
        for (size_t k = 0; k < sizeof KEEP / sizeof KEEP[0] && !kept; k++)
            kept = strlen(KEEP[k]) == n && strncmp(c, KEEP[k], n) == 0;
        if (!kept)
            fail_msg("English word \"%.*s\" in \"%s\"", (int)n, c, zh);
        c += n;
    }
}

/* --lang zh: each profile difference the English line names is written in
 * Chinese too, with the same numbers, and with no English word left. */
static void profile_differences_in_chinese(void **state)
{
    (void)state;
    tcp_profile mine = *tcp_profile_find("rfc9293"); /* a scenario's changed knobs */
    mine.syn_retries += 2;
    mine.data_retries += 3;
    mine.rst_on_keepalive_timeout = !mine.rst_on_keepalive_timeout;
    mine.tw_syn = (tcp_tw_syn_policy)!mine.tw_syn;
    mine.send_wscale = true;
    const tcp_profile *profiles[] = {tcp_profile_find("linux"), tcp_profile_find("bsd"), &mine};
    rlog_entry cases[] = {
        change(TCP_FIN_WAIT_2, TCP_TIME_WAIT, SEG, TCP_FIN, "rcv FIN"),
        change(TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, SEG, TCP_ACK, "rcv ACK of FIN"),
        change(TCP_FIN_WAIT_2, TCP_CLOSED, TMR, 0, "FIN_WAIT_2 timeout"),
        change(TCP_SYN_SENT, TCP_CLOSED, TMR, 0, "SYN retries exhausted"),
        change(TCP_ESTABLISHED, TCP_CLOSED, TMR, 0, "retransmissions exhausted"),
        change(TCP_ESTABLISHED, TCP_CLOSED, TMR, 0, "keepalive timeout"),
        change(TCP_TIME_WAIT, TCP_CLOSED, SEG, TCP_SYN, "rcv SYN (new connection)"),
        change(TCP_CLOSED, TCP_SYN_SENT, USR, 0, "connect()"),
    };
    unsigned said = 0;
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char en[512], zh[512];
            size_t n_en = rlog_why_profile(&cases[c], profiles[p], RLOG_LANG_EN, en, sizeof en);
            size_t n_zh = rlog_why_profile(&cases[c], profiles[p], RLOG_LANG_ZH, zh, sizeof zh);
            assert_int_equal(n_en == 0, n_zh == 0);
            if (n_en == 0)
                continue;
            said++;
            assert_string_not_equal(en, zh);
            assert_no_english(zh);
            /* the numbers of the English line, in the same order */
            char dig_en[64] = "", dig_zh[64] = "";
            for (size_t k = 0, j = 0; en[k] && j + 1 < sizeof dig_en; k++)
                if (en[k] >= '0' && en[k] <= '9')
                    dig_en[j++] = en[k];
            for (size_t k = 0, j = 0; zh[k] && j + 1 < sizeof dig_zh; k++)
                if (zh[k] >= '0' && zh[k] <= '9')
                    dig_zh[j++] = zh[k];
            assert_string_equal(dig_en, dig_zh);
        }
    }
    /* linux: TIME_WAIT twice, FIN_WAIT_2, its SYN options...; the scenario's
     * knobs: SYN and data retries, keep-alive, tw_syn, window scale */
    assert_true(said >= 10);
    char zh[512];
    rlog_why_profile(&cases[0], tcp_profile_find("linux"), RLOG_LANG_ZH, zh, sizeof zh);
    assert_non_null(strstr(zh, "linux:TIME_WAIT \xe6\x8c\x81\xe7\xbb\xad 60 s")); /* 持续 */
    rlog_why_profile(&cases[4], &mine, RLOG_LANG_ZH, zh, sizeof zh);
    assert_non_null(strstr(zh, "\xe6\x9c\xac\xe5\x9c\xba\xe6\x99\xaf:")); /* 本场景: */
}

static char *render_why(const rlog *log)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_why_list(log, f), 0);
    fclose(f);
    return buf;
}

static void why_list_numbers_each_change_within_80_columns(void **state)
{
    (void)state;
    rlog *log = fx_new();
    fx_simultaneous_close(log);
    char *text = render_why(log);
    size_t changes = 0;
    for (size_t i = 0; i < rlog_count(log); i++)
        changes += rlog_at(log, i)->kind == RLOG_STATE;
    assert_true(changes >= 4);
    char want[32];
    snprintf(want, sizeof want, "\n%3zu. ", changes);
    assert_non_null(strstr(text, want));
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t cols = 0;
        for (char *c = p; c < nl; c++)
            cols += ((unsigned char)*c & 0xc0) != 0x80;
        assert_true(cols <= 80);
        p = nl + 1;
    }
    assert_non_null(strstr(text, "FIN_WAIT_1 -> CLOSING"));
    free(text);
    rlog_free(log);
}

static void state_diagram_labels_taken_edges_with_their_rule(void **state)
{
    (void)state;
    rlog *log = fx_new();
    fx_close(log);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_dot(log, f), 0);
    fclose(f);
    /* RFC 9293 section 3.10.7.4: a FIN in ESTABLISHED is handled by the eighth
     * step, the ACK of our FIN in FIN-WAIT-1 by the fifth. */
    assert_non_null(strstr(buf, "rcv FIN / snd ACK [\xc2\xa7"
                                "3.10.7.4, eighth step]"));
    assert_non_null(strstr(buf, "rcv ACK of FIN / x [\xc2\xa7"
                                "3.10.7.4, fifth step]"));
    free(buf);
    rlog_free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_transition_of_the_stack_has_its_rfc_rule),
        cmocka_unit_test(an_unknown_transition_says_so),
        cmocka_unit_test(profile_differences_are_named),
        cmocka_unit_test(profile_differences_in_chinese),
        cmocka_unit_test(why_list_numbers_each_change_within_80_columns),
        cmocka_unit_test(state_diagram_labels_taken_edges_with_their_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
