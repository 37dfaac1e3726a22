/*
 * test_draw — the diagrams drawn from the run log: the ASCII ladder
 * (golden text for the handshake and the simultaneous close, and the rules
 * every ladder keeps), the SVG ladder (well-formed, checked by xmllint when
 * installed) and the state diagram in DOT (rendered by Graphviz when
 * installed).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlog.h"
#include "render.h"
#include "rlog_fixture.h"

/* The handshake of rlog_fixture.h at 80 columns. */
static const char GOLDEN_LADDER_HANDSHAKE[] =
    "time(ms)             A                                            B\n"
    "                     |                                            |\n"
    "   0.000    SYN_SENT | connect()                         listen() | LISTEN\n"
    "   0.000             | SYN seq=100                                |\n"
    "  50.000             |------------------------------------------->| SYN_RECEIVED\n"
    "  50.000             |                    SYN,ACK seq=300 ack=101 |\n"
    " 100.000 ESTABLISHED |<-------------------------------------------|\n"
    " 100.000             | ACK seq=101 ack=301                        |\n"
    " 150.000             |------------------------------------------->| ESTABLISHED\n"
    "                     |                                            |\n";

/* Both ends close at once: the FINs cross. */
static const char GOLDEN_LADDER_SIMULTANEOUS_CLOSE[] =
    "time(ms)            A                                             B\n"
    "                    |                                             |\n"
    " 100.000 FIN_WAIT_1 |                                             |\n"
    " 100.000            | FIN,ACK seq=101 ack=301                     |\n"
    "                    |----------------------------->  ...          |\n"
    " 100.000            |                                             | FIN_WAIT_1\n"
    " 100.000            |                     FIN,ACK seq=301 ack=101 |\n"
    "                    |          ...  <-----------------------------|\n"
    " 150.000            | FIN,ACK seq=101 ack=301                     |\n"
    "                    |              ...  ------------------------->| CLOSING\n"
    " 150.000            |                         ACK seq=302 ack=102 |\n"
    "                    |          ...  <-----------------------------|\n"
    " 150.000            |                     FIN,ACK seq=301 ack=101 |\n"
    "            CLOSING |<-------------------------  ...              |\n"
    " 150.000            | ACK seq=102 ack=302                         |\n"
    "                    |----------------------------->  ...          |\n"
    " 200.000            |                         ACK seq=302 ack=102 |\n"
    "          TIME_WAIT |<-------------------------  ...              |\n"
    " 200.000            | ACK seq=102 ack=302                         |\n"
    "                    |              ...  ------------------------->| TIME_WAIT\n"
    "                    |                                             |\n";

typedef void (*scenario_fn)(rlog *);

static void fx_full(rlog *log)
{
    fx_handshake(log);
    fx_close(log);
}

static void fx_restarted(rlog *log)
{
    fx_handshake(log);
    fx_lost_final_ack(log);
}

static void fx_nothing(rlog *log)
{
    (void)log;
}

/* Every hand-made run, each in a log of its own. */
static const scenario_fn SCENARIOS[] = {
    fx_handshake,   fx_full,    fx_simultaneous_close, fx_lost_syn, fx_fin_ack_close, fx_impaired,
    fx_three_hosts, fx_nothing, fx_restarted,
};
#define SCENARIO_COUNT (sizeof SCENARIOS / sizeof SCENARIOS[0])

static rlog *make(scenario_fn fn)
{
    rlog *log = fx_new();
    fn(log);
    return log;
}

typedef enum out_kind { OUT_LADDER, OUT_SVG, OUT_DOT } out_kind;

/* The whole output, NUL-terminated. */
static char *render(const rlog *log, out_kind kind, int width)
{
    /* The stream's slots live on the heap: with locals, GCC 12 warns that
     * the returned text may dangle. */
    struct {
        char *buf;
        size_t n;
    } *mem = calloc(1, sizeof *mem);
    assert_non_null(mem);
    FILE *f = open_memstream(&mem->buf, &mem->n);
    assert_non_null(f);
    int rc = kind == OUT_LADDER ? rlog_write_ladder(log, f, width)
             : kind == OUT_SVG  ? rlog_write_svg(log, f)
                                : rlog_write_dot(log, f);
    assert_int_equal(rc, 0);
    assert_int_equal(fclose(f), 0);
    char *text = mem->buf;
    free(mem);
    return text;
}

/* The fixture every single-drawing test uses: the log it draws and the
 * text drawn, both freed by teardown whatever the test's outcome. */
typedef struct drawing {
    rlog *log;
    char *text;
} drawing;

static int drawing_setup(void **state)
{
    *state = calloc(1, sizeof(drawing));
    return *state ? 0 : -1;
}

static int drawing_teardown(void **state)
{
    drawing *d = *state;
    free(d->text);
    rlog_free(d->log);
    free(d);
    return 0;
}

/* Builds the run fn makes in the fixture's log and draws it. */
static char *draw(void **state, scenario_fn fn, out_kind kind, int width)
{
    drawing *d = *state;
    d->log = make(fn);
    d->text = render(d->log, kind, width);
    return d->text;
}

static size_t longest_line(const char *s)
{
    size_t best = 0, cur = 0;
    for (; *s; s++) {
        cur = *s == '\n' ? 0 : cur + 1;
        best = cur > best ? cur : best;
    }
    return best;
}

/* The line holding `needle`, copied into buf (empty if absent). */
static const char *line_with(const char *text, const char *needle, char *buf, size_t n)
{
    const char *hit = strstr(text, needle);
    if (!hit) {
        buf[0] = '\0';
        return buf;
    }
    size_t start = (size_t)(hit - text), stop = start;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    while (text[stop] && text[stop] != '\n')
        stop++;
    snprintf(buf, n, "%.*s", (int)(stop - start), text + start);
    return buf;
}

/* ---- the ASCII ladder ---------------------------------------------------------------- */

static void ladder_of_handshake(void **state)
{
    char *text = draw(state, fx_handshake, OUT_LADDER, 80);
    assert_string_equal(text, GOLDEN_LADDER_HANDSHAKE);
}

static void ladder_of_simultaneous_close_shows_the_fins_crossing(void **state)
{
    char *text = draw(state, fx_simultaneous_close, OUT_LADDER, 80);
    assert_string_equal(text, GOLDEN_LADDER_SIMULTANEOUS_CLOSE);
    /* Both FINs leave ("->  ..." and "...  <-") before either arrives. */
    const char *out_a = strstr(text, "->  ...");
    const char *out_b = strstr(text, "...  <-");
    const char *in_a = strstr(text, "...  --");
    assert_non_null(out_a);
    assert_non_null(out_b);
    assert_non_null(in_a);
    assert_true(out_a < out_b && out_b < in_a);
}

static void ladder_fits_80_columns_for_two_hosts(void **state)
{
    (void)state;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        if (SCENARIOS[i] == fx_three_hosts)
            continue;
        rlog *log = make(SCENARIOS[i]);
        char *text = render(log, OUT_LADDER, 80);
        assert_true(longest_line(text) <= 80);
        assert_non_null(strstr(text, "time(ms)"));
        free(text);
        rlog_free(log);
    }
}

static void ladder_lost_segment_ends_in_x(void **state)
{
    char *text = draw(state, fx_lost_syn, OUT_LADDER, 80);
    char line[160];
    line_with(text, "X loss", line, sizeof line);
    assert_string_equal(line,
                        "   0.000             |---------------------X loss                 |");
    /* The retransmission gets through: one whole arrow into SYN_RECEIVED. */
    line_with(text, "SYN_RECEIVED", line, sizeof line);
    assert_string_equal(line, "1050.000             |------------------------------------------->| "
                              "SYN_RECEIVED");
    assert_non_null(strstr(text, "1000.000             | timer RTX"));
}

static void ladder_shows_both_transitions_of_one_segment_in_order(void **state)
{
    char *text = draw(state, fx_fin_ack_close, OUT_LADDER, 80);
    char line[160];
    assert_string_equal(line_with(text, "FIN_WAIT_2", line, sizeof line),
                        " 200.000 FIN_WAIT_2 |<--------------------------------------------|");
    assert_string_equal(line_with(text, "TIME_WAIT", line, sizeof line),
                        " 200.000  TIME_WAIT |                                             |");
    assert_true(strstr(text, "FIN_WAIT_2") < strstr(text, "TIME_WAIT"));
    /* B's close() and LAST_ACK share a line, after the FIN that made CLOSE_WAIT. */
    assert_true(strstr(text, "CLOSE_WAIT") < strstr(text, "close() | LAST_ACK"));
}

static void ladder_marks_impairments(void **state)
{
    char *text = draw(state, fx_impaired, OUT_LADDER, 80);
    assert_non_null(strstr(text, "ACK seq=101 ack=301 len=100 (dup)"));
    assert_non_null(strstr(text, "ACK seq=201 ack=301 len=100 (delayed)"));
    assert_non_null(strstr(text, "FIN,ACK seq=401 ack=301 (held)"));
    assert_non_null(strstr(text, "ACK seq=301 ack=402 (corrupt)"));
    assert_non_null(strstr(text, "dropped: bad TCP checksum"));
    /* The delayed segment is overtaken: it leaves first and arrives last. */
    const char *leave = strstr(text, "(delayed)");
    const char *overtaker = strstr(text, "ACK seq=301 ack=301 len=100");
    const char *arrive = strstr(leave + 1, "(delayed)");
    assert_true(leave < overtaker && overtaker < arrive);
}

/* Three hosts share the 80 columns: the lanes come closer, labels wrap. */
static void ladder_fits_more_hosts_in_its_width(void **state)
{
    char *text = draw(state, fx_three_hosts, OUT_LADDER, 80);
    assert_true(longest_line(text) <= 80);
    char line[300];
    line_with(text, "SYN_RECEIVED", line, sizeof line);
    /* The arrow from A to C covers B's lane instead of stopping there. */
    assert_non_null(strstr(line, "|------"));
    assert_non_null(strstr(line, "----->| SYN_RECEIVED"));
    assert_int_equal(strchr(line, '|') - line, 21);
    assert_int_equal(strchr(strchr(line, '|') + 1, '|') - line, strrchr(line, '|') - line);
    drawing *d = *state;
    char *wide = render(d->log, OUT_LADDER, 130);
    assert_true(longest_line(wide) <= 130);
    assert_true(longest_line(wide) > 80);
    free(wide);
}

/* No line is longer than the width asked for, whatever the run: labels and
 * notes wrap, at spaces when they can. */
static void ladder_never_overflows_its_width(void **state)
{
    (void)state;
    for (size_t k = 0; k < SCENARIO_COUNT; k++) {
        rlog *log = make(SCENARIOS[k]);
        rlog_note(log, 1, "a scenario note too long for one line of a narrow ladder: placed");
        for (int w = 40; w <= 100; w += 20) {
            char *text = render(log, OUT_LADDER, w);
            assert_true(longest_line(text) <= (size_t)w);
            free(text);
        }
        char *text = render(log, OUT_LADDER, 40);
        assert_non_null(strstr(text, "-- a scenario"));
        assert_non_null(strstr(text, " placed"));
        free(text);
        rlog_free(log);
    }
}

/* RFC 9293 §3.10.7.4 (TIME-WAIT): the repeated FIN is acknowledged and
 * restarts 2*MSL. The ladder says so on A's lane when the FIN arrives,
 * before the ACK it sends again; the SVG and the state diagram too. */
static void ladder_svg_and_dot_show_the_time_wait_restart(void **state)
{
    char *text = draw(state, fx_restarted, OUT_LADDER, 80);
    const char *fin = strstr(text, "FIN,ACK seq=301 ack=102 |");
    assert_non_null(fin);
    fin = strstr(fin + 1, "FIN,ACK seq=301 ack=102 |"); /* the retransmission */
    const char *note = strstr(text, "| TIME_WAIT restarted: 2*MSL from now");
    assert_true(fin && fin < note);
    assert_non_null(note);
    const char *ack = strstr(note, "| ACK seq=102 ack=302");
    assert_non_null(ack);
    assert_true(longest_line(text) <= 80);
    drawing *d = *state;
    char *svg = render(d->log, OUT_SVG, 0);
    assert_non_null(strstr(svg, ">TIME_WAIT restarted: 2*MSL from now</text>"));
    free(svg);
    char *dot = render(d->log, OUT_DOT, 0);
    assert_non_null(strstr(dot,
                           "e1_TIME_WAIT -> e1_TIME_WAIT [label=\"11: rcv FIN again / snd ACK, "
                           "restart 2MSL [\xc2\xa7"
                           "3.10.7.4, eighth step]\""));
    free(dot);
}

/* --svg-style slides: a title, 20 px text, a 16:9 picture whatever the run. */
static void svg_for_slides_is_16_by_9_with_a_title(void **state)
{
    (void)state;
    for (size_t k = 0; k < SCENARIO_COUNT; k++) {
        rlog *log = make(SCENARIOS[k]);
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        assert_non_null(f);
        rlog_ladder_opts opts = {.slides = true, .title = "lost final ACK <rfc9293>"};
        assert_int_equal(rlog_write_svg_opts(log, f, &opts), 0);
        assert_int_equal(fclose(f), 0);
        int vx, vy, vw, vh;
        const char *root = strstr(buf, "<svg ");
        assert_non_null(root);
        assert_int_equal(sscanf(root,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1920\" "
                                "height=\"1080\" viewBox=\"%d %d %d %d\" font-family=\"monospace\" "
                                "font-size=\"20\">",
                                &vx, &vy, &vw, &vh),
                         4);
        /* 16:9 to within the rounding of one pixel */
        assert_true(vw * 9 - vh * 16 <= 16 && vh * 16 - vw * 9 <= 16);
        assert_non_null(strstr(buf, ">lost final ACK &lt;rfc9293&gt;</text>"));
        free(buf);
        rlog_free(log);
    }
}

/* --endpoint: the state diagram of the named sockets only, numbered as in
 * the whole run. */
static void dot_of_one_endpoint(void **state)
{
    (void)state;
    rlog *log = make(fx_restarted);
    char names[128];
    assert_int_equal(rlog_dot_endpoints(log, "A", names, sizeof names), 1);
    assert_string_equal(names, "B#1, A#1, B#2");
    assert_int_equal(rlog_dot_endpoints(log, "B", names, sizeof names), 2);
    assert_int_equal(rlog_dot_endpoints(log, "B#2", names, sizeof names), 1);
    assert_int_equal(rlog_dot_endpoints(log, "B#3", names, sizeof names), 0);
    assert_int_equal(rlog_dot_endpoints(log, "C", names, sizeof names), 0);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_dot_opts(log, f, "A"), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, "label=\"RFC 9293 connection states of A: "));
    assert_non_null(strstr(buf, "subgraph cluster_0 {\n    label=\"A socket 1 (port 40000, "));
    assert_null(strstr(buf, "cluster_1"));
    assert_null(strstr(buf, "label=\"B socket"));
    /* A's own steps keep their run-wide numbers: its restart is the 11th */
    assert_non_null(strstr(buf, "e0_TIME_WAIT -> e0_TIME_WAIT [label=\"11: rcv FIN again"));
    free(buf);
    rlog_free(log);
}

static void ladder_writes_notes_and_link_changes_across(void **state)
{
    (void)state;
    rlog *log = make(fx_handshake);
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.time = 200 * FX_MS;
    r.kind = SIM_TR_LINK;
    r.host_id = FX_A;
    rlog_sim_trace(log, &r);
    rlog_note(log, 200 * FX_MS, "partition starts");
    char *text = render(log, OUT_LADDER, 80);
    assert_non_null(strstr(text, " 200.000             | -- link A>B down"));
    assert_non_null(strstr(text, " 200.000             | -- partition starts"));
    free(text);
    rlog_free(log);
}

static void ladder_can_show_relative_sequence_numbers(void **state)
{
    (void)state;
    rlog *log = make(fx_full);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    rlog_ladder_opts opts = {.width = 80, .relative_seq = true};
    assert_int_equal(rlog_write_ladder_opts(log, f, &opts), 0);
    assert_int_equal(fclose(f), 0);
    assert_true(strncmp(buf, "seq and ack are relative to each side's ISN", 43) == 0);
    assert_non_null(strstr(buf, "| SYN seq=0 "));
    assert_non_null(strstr(buf, " SYN,ACK seq=0 ack=1 |"));
    assert_non_null(strstr(buf, "| ACK seq=1 ack=1 "));
    assert_non_null(strstr(buf, "| FIN,ACK seq=1 ack=1 "));
    assert_non_null(strstr(buf, " ACK seq=1 ack=2 |"));
    assert_non_null(strstr(buf, "| ACK seq=2 ack=2 "));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_svg_opts(log, f, &opts), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, ">SYN,ACK seq=0 ack=1</text>"));
    free(buf);
    rlog_free(log);
}

static void ladder_is_the_same_every_time(void **state)
{
    (void)state;
    rlog *a = make(fx_full), *b = make(fx_full);
    char *x = render(a, OUT_LADDER, 100), *y = render(b, OUT_LADDER, 100);
    assert_string_equal(x, y);
    assert_true(longest_line(x) <= 100);
    free(x);
    free(y);
    rlog_free(a);
    rlog_free(b);
}

/* ---- SVG ------------------------------------------------------------------------------ */

/* A small XML check: every tag closed in order, one root <svg>, attribute
 * values quoted, and every '&' starting one of the five predefined
 * entities. Fails the test on the first fault. */
static void check_xml(const char *s)
{
    const char *stack[64];
    size_t lens[64], depth = 0, roots = 0;
    assert_true(strncmp(s, "<?xml ", 6) == 0);
    s = strstr(s, "?>") + 2;
    while (*s) {
        if (*s == '&') {
            assert_true(!strncmp(s, "&amp;", 5) || !strncmp(s, "&lt;", 4) ||
                        !strncmp(s, "&gt;", 4) || !strncmp(s, "&quot;", 6) ||
                        !strncmp(s, "&apos;", 6));
        }
        if (*s != '<') {
            assert_true(*s != '>');
            s++;
            continue;
        }
        bool closing = s[1] == '/';
        const char *name = s + (closing ? 2 : 1);
        size_t len = strcspn(name, " \t\n/>");
        assert_true(len > 0);
        const char *end = name + len;
        for (bool quoted = false; *end && (quoted || *end != '>'); end++)
            quoted ^= *end == '"';
        assert_true(*end == '>');
        bool self = end[-1] == '/';
        if (closing) {
            assert_true(depth > 0);
            depth--;
            assert_true(lens[depth] == len && strncmp(stack[depth], name, len) == 0);
        } else if (!self) {
            assert_true(depth < 64);
            roots += depth == 0;
            lens[depth] = len;
            stack[depth++] = name;
        } else {
            roots += depth == 0;
        }
        s = end + 1;
    }
    assert_int_equal(depth, 0);
    assert_int_equal(roots, 1);
}

static void svg_is_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        rlog *log = make(SCENARIOS[i]);
        rlog_note(log, 70000 * FX_MS, "a <note> & \"quotes\"");
        char *svg = render(log, OUT_SVG, 0);
        assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
        check_xml(svg);
        free(svg);
        rlog_free(log);
    }
}

static void svg_draws_lanes_arrows_boxes_and_drops(void **state)
{
    (void)state;
    rlog *log = make(fx_lost_syn);
    char *svg = render(log, OUT_SVG, 0);
    assert_non_null(strstr(svg, "class=\"host\">A</text>"));
    assert_non_null(strstr(svg, "class=\"host\">B</text>"));
    assert_non_null(strstr(svg, "marker-end=\"url(#arrow-syn)\""));
    assert_non_null(strstr(svg, ">SYN_RECEIVED</text>"));
    assert_non_null(strstr(svg, "class=\"lost\""));
    assert_non_null(strstr(svg, "class=\"why halo\">loss</text>"));
    assert_non_null(strstr(svg, ">1050.000</text>"));
    free(svg);
    rlog_free(log);
}

/* Runs a shell command, failing the test on a non-zero status; returns
 * its output. */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 65536);
    assert_non_null(out);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    int status = pclose(p);
    if (status != 0)
        fail_msg("'%s' failed: %s", cmd, out);
    return out;
}

static char *write_temp(const rlog *log, out_kind kind)
{
    char *path = strdup("/tmp/test_rlog_draw_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *text = render(log, kind, 80);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    free(text);
    return path;
}

static void xmllint_accepts_the_svg(void **state)
{
    (void)state;
    if (access("/usr/bin/xmllint", X_OK) != 0) {
        print_message("skipped: /usr/bin/xmllint is not installed (Debian package "
                      "libxml2-utils); svg_is_well_formed still checks the tags\n");
        skip();
    }
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        rlog *log = make(SCENARIOS[i]);
        char *path = write_temp(log, OUT_SVG), cmd[128];
        snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout %s 2>&1", path);
        char *out = run(cmd);
        assert_string_equal(out, "");
        free(out);
        unlink(path);
        free(path);
        rlog_free(log);
    }
}

/* ---- DOT -------------------------------------------------------------------------------- */

static void dot_numbers_the_transitions_taken(void **state)
{
    (void)state;
    rlog *log = make(fx_full);
    char *dot = render(log, OUT_DOT, 0);
    /* One cluster per endpoint, in order of first change. */
    assert_non_null(strstr(dot, "subgraph cluster_0 {\n    label=\"B socket 1\";"));
    assert_non_null(strstr(dot, "subgraph cluster_1 {\n    label=\"A socket 1 (port 40000, peer "
                                "port 80)\";"));
    assert_non_null(strstr(dot, "subgraph cluster_2 {\n    label=\"B socket 2 (port 80, peer "
                                "port 40000)\";"));
    assert_null(strstr(dot, "cluster_3"));
    /* All eleven states in each cluster. */
    assert_non_null(strstr(dot, "e2_TIME_WAIT [label=\"TIME_WAIT\"];"));
    assert_non_null(
        strstr(dot, "e1_TIME_WAIT [label=\"TIME_WAIT\", style=\"rounded,filled,bold\""));
    /* Taken edges, numbered across the run, labelled as the RFC figure. */
    assert_non_null(strstr(dot, "e1_SYN_SENT -> e1_ESTABLISHED [label=\"4: rcv SYN,ACK / snd "
                                "ACK [\xc2\xa7"
                                "3.10.7.3, SYN-SENT, fourth check]\", tooltip=\"first at "
                                "100.000 ms\", color=\"#d62728\""));
    assert_non_null(strstr(dot, "e2_LISTEN -> e2_SYN_RECEIVED [label=\"3: rcv SYN / snd "
                                "SYN,ACK [\xc2\xa7"
                                "3.10.7.2, LISTEN, third check]\""));
    assert_non_null(strstr(dot, "e1_TIME_WAIT -> e1_CLOSED [label=\"12: Timeout=2MSL / delete "
                                "TCB [\xc2\xa7"
                                "3.10.8, TIME-WAIT timeout]\""));
    /* An edge not taken stays grey, unnumbered. */
    assert_non_null(strstr(dot, "e1_FIN_WAIT_1 -> e1_CLOSING [label=\"rcv FIN / snd ACK\"];"));
    free(dot);
    rlog_free(log);
}

static void dot_draws_transitions_outside_the_figure_dashed(void **state)
{
    (void)state;
    rlog *log = fx_new();
    fx_state(log, 0, FX_A, 1, TCP_ESTABLISHED, TCP_CLOSED, TCP_CAUSE_SEGMENT, NULL, "rcv RST");
    fx_state(log, 0, FX_B, 2, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, "close()");
    fx_state(log, 1, FX_B, 2, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CAUSE_SEGMENT, NULL, "ack");
    fx_state(log, 2, FX_B, 2, TCP_FIN_WAIT_2, TCP_CLOSED, TCP_CAUSE_TIMER, NULL, "\"idle\"");
    char *dot = render(log, OUT_DOT, 0);
    assert_non_null(strstr(dot, "e0_ESTABLISHED -> e0_CLOSED [label=\"1: rcv RST [\xc2\xa7"
                                "3.10.7.4, second step]\", tooltip="));
    assert_non_null(strstr(dot, "e1_FIN_WAIT_2 -> e1_CLOSED [label=\"4: \\\"idle\\\" [none in RFC "
                                "9293]\""));
    assert_non_null(strstr(dot, "penwidth=2.5, style=\"bold,dashed\"];"));
    free(dot);
    rlog_free(log);
}

static void dot_renders_with_graphviz(void **state)
{
    (void)state;
    if (access("/usr/bin/dot", X_OK) != 0) {
        print_message("skipped: /usr/bin/dot is not installed (Debian package graphviz)\n");
        skip();
    }
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        rlog *log = make(SCENARIOS[i]);
        char *path = write_temp(log, OUT_DOT), cmd[128];
        snprintf(cmd, sizeof cmd, "/usr/bin/dot -Tsvg %s 2>&1 >/dev/null", path);
        char *out = run(cmd);
        assert_string_equal(out, "");
        free(out);
        unlink(path);
        free(path);
        rlog_free(log);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ladder_of_handshake, drawing_setup, drawing_teardown),
        cmocka_unit_test_setup_teardown(ladder_of_simultaneous_close_shows_the_fins_crossing,
                                        drawing_setup, drawing_teardown),
        cmocka_unit_test(ladder_fits_80_columns_for_two_hosts),
        cmocka_unit_test_setup_teardown(ladder_lost_segment_ends_in_x, drawing_setup,
                                        drawing_teardown),
        cmocka_unit_test_setup_teardown(ladder_shows_both_transitions_of_one_segment_in_order,
                                        drawing_setup, drawing_teardown),
        cmocka_unit_test_setup_teardown(ladder_marks_impairments, drawing_setup, drawing_teardown),
        cmocka_unit_test_setup_teardown(ladder_fits_more_hosts_in_its_width, drawing_setup,
                                        drawing_teardown),
        cmocka_unit_test(ladder_never_overflows_its_width),
        cmocka_unit_test(ladder_writes_notes_and_link_changes_across),
        cmocka_unit_test(svg_for_slides_is_16_by_9_with_a_title),
        cmocka_unit_test(dot_of_one_endpoint),
        cmocka_unit_test_setup_teardown(ladder_svg_and_dot_show_the_time_wait_restart,
                                        drawing_setup, drawing_teardown),
        cmocka_unit_test(ladder_can_show_relative_sequence_numbers),
        cmocka_unit_test(ladder_is_the_same_every_time),
        cmocka_unit_test(svg_is_well_formed),
        cmocka_unit_test(svg_draws_lanes_arrows_boxes_and_drops),
        cmocka_unit_test(xmllint_accepts_the_svg),
        cmocka_unit_test(dot_numbers_the_transitions_taken),
        cmocka_unit_test(dot_draws_transitions_outside_the_figure_dashed),
        cmocka_unit_test(dot_renders_with_graphviz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
