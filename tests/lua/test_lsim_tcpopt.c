/*
 * lsim_tcpopt's contract: TCP options given as packetdrill text, named
 * fields or an option list become the bytes the RFCs define, and option
 * bytes pushed back read as the same options. Expected bytes are written
 * from the option formats: MSS kind 2 length 4 (RFC 9293 §3.2), window
 * scale kind 3 length 3 (RFC 7323 §2.2), SACK-permitted kind 4 length 2
 * (RFC 2018 §2), SACK kind 5 length 8n+2 (RFC 2018 §3), timestamps kind 8
 * length 10 (RFC 7323 §3.2), NOP 1 and EOL 0 (RFC 9293 §3.2); named fields
 * in the order Linux's tcp_options_write writes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <lualib.h>
#include <string.h>

#include "lsim.h"

typedef struct got {
    bool ok;
    uint8_t bytes[LSIM_TCPOPT_MAX];
    size_t len;
    char err[512];
} got;

static int call_check(lua_State *L)
{
    got *g = lua_touserdata(L, 2);
    g->len = lsim_tcpopt_check(L, 1, "link:inject", g->bytes);
    return 0;
}

/* Evaluates the Lua expression `expr` and reads it as options. */
static got read_opts(const char *expr)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    got g;
    memset(&g, 0, sizeof g);
    char src[1024];
    snprintf(src, sizeof src, "return %s", expr);
    assert_int_equal(luaL_dostring(L, src), LUA_OK);
    lua_pushcfunction(L, call_check);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &g);
    g.ok = lua_pcall(L, 2, 0, 0) == LUA_OK;
    if (!g.ok)
        snprintf(g.err, sizeof g.err, "%s", lua_tostring(L, -1));
    lua_close(L);
    return g;
}

static void expect_bytes(const char *expr, const uint8_t *want, size_t n)
{
    got g = read_opts(expr);
    if (!g.ok)
        fail_msg("%s: %s", expr, g.err);
    assert_int_equal(g.len, n);
    assert_memory_equal(g.bytes, want, n);
}

static void expect_error(const char *expr, const char *needle)
{
    got g = read_opts(expr);
    if (g.ok || !strstr(g.err, needle))
        fail_msg("%s: ok %d, error \"%s\", wanted \"%s\"", expr, g.ok, g.err, needle);
}

/* 1460 = 0x05b4; TS val 100 = 0x64. */
static const uint8_t SYN_OPTS[] = {2, 4,   0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                   0, 100, 0,    0,    0, 0, 1, 3,  3, 7};

static void packetdrill_text_gives_the_bytes_in_its_order(void **state)
{
    (void)state;
    expect_bytes("'<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>'", SYN_OPTS, sizeof SYN_OPTS);
    expect_bytes("'mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7'", SYN_OPTS, sizeof SYN_OPTS);
    static const uint8_t sack[] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
    expect_bytes("'<nop,nop,sack 1:2 3:4>'", sack, sizeof sack);
    static const uint8_t eol[] = {1, 1, 1, 0};
    expect_bytes("'<nop,nop,nop,eol>'", eol, sizeof eol);
}

static void no_options_is_zero_bytes(void **state)
{
    (void)state;
    expect_bytes("''", NULL, 0);
    expect_bytes("'<>'", NULL, 0);
    expect_bytes("{}", NULL, 0);
}

static void named_fields_take_linux_layout(void **state)
{
    (void)state;
    /* tcp_options_write: MSS; SACK-permitted,TS; NOP,WS. */
    expect_bytes("{mss = 1460, sack_ok = true, ts = {val = 100, ecr = 0}, wscale = 7}", SYN_OPTS,
                 sizeof SYN_OPTS);
    /* TS without SACK-permitted: NOP,NOP,TS. */
    static const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0x01, 0x00, 0, 0, 0, 0x2a};
    expect_bytes("{ts = {val = 256, ecr = 42}}", ts, sizeof ts);
    static const uint8_t sack[] = {1, 1, 5, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9};
    expect_bytes("{sack = {{4294967295, 9}}}", sack, sizeof sack);
    static const uint8_t perm[] = {1, 1, 4, 2};
    expect_bytes("{sack_ok = true}", perm, sizeof perm);
}

static void an_option_list_is_written_exactly(void **state)
{
    (void)state;
    expect_bytes("{{kind = 'mss', mss = 1460}, {kind = 'sack_ok'}, {kind = 'ts', val = 100, "
                 "ecr = 0}, {kind = 'nop'}, {kind = 'wscale', wscale = 7}}",
                 SYN_OPTS, sizeof SYN_OPTS);
    /* No padding is added: three bytes stay three bytes. */
    static const uint8_t ws[] = {3, 3, 14};
    expect_bytes("{{kind = 'wscale', wscale = 14}}", ws, sizeof ws);
    /* Any other kind, by number, with its data (length = 2 + data). */
    static const uint8_t other[] = {30, 4, 0xab, 0xcd, 0};
    expect_bytes("{{kind = 30, data = '\\xab\\xcd'}, {kind = 0}}", other, sizeof other);
    static const uint8_t sack[] = {5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
    expect_bytes("{{kind = 'sack', blocks = {{1, 2}, {3, 4}}}}", sack, sizeof sack);
}

static void forty_bytes_fit_and_one_more_is_an_error(void **state)
{
    (void)state;
    /* TS (12 with its NOPs) + 3 SACK blocks (28): exactly 40 (RFC 2018 §3). */
    got g = read_opts("{ts = {val = 1, ecr = 2}, sack = {{1, 2}, {3, 4}, {5, 6}}}");
    assert_true(g.ok);
    assert_int_equal(g.len, 40);
    expect_error("{ts = {val = 1, ecr = 2}, sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}}",
                 "link:inject: TCP options take more than 40 bytes");
    expect_error("'<nop,nop,TS val 1 ecr 2,nop,nop,sack 1:2 3:4 5:6 7:8>'", "link:inject");
    expect_error("{{kind = 30, data = string.rep('x', 38)}, {kind = 'nop'}}",
                 "link:inject: TCP options take more than 40 bytes");
}

static void mistakes_name_the_caller_and_the_field(void **state)
{
    (void)state;
    expect_error("{mss = 70000}",
                 "link:inject: the MSS option needs mss, an integer in [0, 65535]");
    expect_error("{wscale = -1}", "link:inject: window scale needs wscale");
    expect_error("{ts = {val = 1}}", "link:inject: ts needs ecr");
    expect_error("{msss = 1460}", "did you mean 'mss'");
    expect_error("{sack_ok = 1}", "sack_ok must be true or false");
    expect_error("{sack = {}}", "sack takes 1 to 4 blocks");
    expect_error("{sack = {{1}}}", "sack block 1 must be {left, right}");
    expect_error("{{kind = 'msss', mss = 1}}",
                 "option 1 has unknown kind 'msss'; did you mean 'mss'?");
    expect_error("{{kind = 'mss'}}", "option 1 (mss) needs mss");
    expect_error("{{kind = 'nop'}, mss = 1460}", "not both");
    expect_error("{{kind = 'nop', wscale = 7}}", "unknown option 'wscale'");
    expect_error("{{kind = 300}}", "kind, a name or a number in [0, 255]");
    expect_error("42", "opts must be a string");
    expect_error("'<mss>'", "link:inject: TCP options \"<mss>\"");
    expect_error("'<...>'", "cannot be sent");
    expect_error("'<mss 1460'", "do not end with '>'");
    expect_error("'<wscale 7>'", "multiple of 4");
}

/* ---- pushing back ---- */

static int call_push(lua_State *L)
{
    const uint8_t *b = lua_touserdata(L, 1);
    size_t n = (size_t)lua_tointeger(L, 2);
    lsim_tcpopt_push(L, b, n);
    lua_setglobal(L, "opts");
    lsim_tcpopt_push_text(L, b, n);
    lua_setglobal(L, "text");
    return 0;
}

/* Pushes the bytes as globals opts and text, then runs `check` (a chunk
 * returning true when it holds, or a string saying what differs). */
static void expect_pushed(const uint8_t *b, size_t n, const char *check)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_pushcfunction(L, call_push);
    lua_pushlightuserdata(L, (void *)b);
    lua_pushinteger(L, (lua_Integer)n);
    assert_int_equal(lua_pcall(L, 2, 0, 0), LUA_OK);
    if (luaL_dostring(L, check) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    if (!lua_toboolean(L, -1))
        fail_msg("%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "check returned false");
    lua_close(L);
}

static void pushed_options_are_a_list_in_wire_order(void **state)
{
    (void)state;
    expect_pushed(SYN_OPTS, sizeof SYN_OPTS,
                  "assert(#opts == 5)\n"
                  "assert(opts[1].kind == 'mss' and opts[1].mss == 1460)\n"
                  "assert(opts[2].kind == 'sack_ok')\n"
                  "assert(opts[3].kind == 'ts' and opts[3].val == 100 and opts[3].ecr == 0)\n"
                  "assert(opts[4].kind == 'nop')\n"
                  "assert(opts[5].kind == 'wscale' and opts[5].wscale == 7)\n"
                  "return text == '<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>' or text");
    static const uint8_t sack[] = {1, 1, 5, 18, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0,
                                   2, 0, 0, 0,  3,    0,    0,    0,    4, 0, 0};
    expect_pushed(sack, sizeof sack,
                  "assert(#opts == 5 and opts[3].kind == 'sack' and #opts[3].blocks == 2)\n"
                  "assert(opts[3].blocks[1][1] == 4294967280 and opts[3].blocks[1][2] == 2)\n"
                  "assert(opts[3].blocks[2][1] == 3 and opts[3].blocks[2][2] == 4)\n"
                  "assert(opts[4].kind == 'eol' and opts[5].kind == 'eol')\n"
                  "return text == '<nop,nop,sack 4294967280:2 3:4,eol,eol>' or text");
    expect_pushed(NULL, 0, "return #opts == 0 and text == ''");
}

static void unknown_and_malformed_bytes_are_shown_not_dropped(void **state)
{
    (void)state;
    static const uint8_t other[] = {30, 4, 0xab, 0xcd};
    expect_pushed(other, sizeof other,
                  "return #opts == 1 and opts[1].kind == 30 and opts[1].data == '\\xab\\xcd'");
    /* An MSS option claiming length 9 in 4 bytes. */
    static const uint8_t bad[] = {1, 2, 9, 5};
    expect_pushed(bad, sizeof bad,
                  "return #opts == 2 and opts[1].kind == 'nop' and opts[2].kind == 'malformed' "
                  "and opts[2].data == '\\2\\9\\5'");
}

static int round_trip(lua_State *L)
{
    uint8_t b[LSIM_TCPOPT_MAX], again[LSIM_TCPOPT_MAX];
    size_t n = lsim_tcpopt_check(L, 1, "test", b);
    lsim_tcpopt_push(L, b, n);
    size_t m = lsim_tcpopt_check(L, -1, "test", again);
    lsim_tcpopt_push_text(L, b, n);
    size_t k = lsim_tcpopt_check(L, -1, "test", again);
    lua_pushboolean(L, n == m && m == k && memcmp(b, again, n) == 0);
    return 1;
}

static void what_is_pushed_reads_back_as_the_same_bytes(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "'<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>'",
        "'<nop,nop,sack 1:2 3:4 5:6 7:8>'",
        "'<nop,nop,TS val 4294967295 ecr 1,eol,eol,eol,eol>'",
        "{mss = 536, wscale = 14, sack_ok = true}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lua_State *L = luaL_newstate();
        luaL_openlibs(L);
        char src[256];
        snprintf(src, sizeof src, "return %s", cases[i]);
        assert_int_equal(luaL_dostring(L, src), LUA_OK);
        lua_pushcfunction(L, round_trip);
        lua_insert(L, -2);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            fail_msg("%s: %s", cases[i], lua_tostring(L, -1));
        if (!lua_toboolean(L, -1))
            fail_msg("%s does not read back as the same bytes", cases[i]);
        lua_close(L);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packetdrill_text_gives_the_bytes_in_its_order),
        cmocka_unit_test(no_options_is_zero_bytes),
        cmocka_unit_test(named_fields_take_linux_layout),
        cmocka_unit_test(an_option_list_is_written_exactly),
        cmocka_unit_test(forty_bytes_fit_and_one_more_is_an_error),
        cmocka_unit_test(mistakes_name_the_caller_and_the_field),
        cmocka_unit_test(pushed_options_are_a_list_in_wire_order),
        cmocka_unit_test(unknown_and_malformed_bytes_are_shown_not_dropped),
        cmocka_unit_test(what_is_pushed_reads_back_as_the_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
