/*
 * lsim_expect — expectations: expect(x):method(...).
 *
 * A failing expectation prints what was expected and what happened, with the
 * scenario's file and line, and the run goes on so that every failure is
 * reported; the command's exit status says whether all held. A malformed
 * expectation (unknown state name, wrong argument type) is an error, not a
 * failure: it stops the scenario. expect(x, "label") names the check in its
 * FAIL line: FAIL file:line: expect(socket, "label"):trace.
 */
#include <stdio.h>
#include <string.h>

#include "lsim.h"

static const char EXPECT_MT[] = "tcpsim.expect";
#define EXPECT_STATE "tcpsim.expect.counts"
/* What a nil socket most often means: accept() found no connection. */
#define NO_SOCKET "was it from accept()? no connection has been accepted (use accept_wait)"

typedef struct counts {
    long checked, failed;
} counts;

static counts *get_counts(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, EXPECT_STATE);
    counts *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}

void lsim_expect_counts(lua_State *L, long *checked, long *failed)
{
    counts *c = get_counts(L);
    *checked = c ? c->checked : 0;
    *failed = c ? c->failed : 0;
}

void lsim_expect_checked(lua_State *L)
{
    counts *c = get_counts(L);
    if (c)
        c->checked++;
}

void lsim_expect_fail(lua_State *L, const char *where, const char *what)
{
    counts *c = get_counts(L);
    if (c)
        c->failed++;
    if (lsim_config_of(L)->quiet_expect)
        return;
    printf("FAIL %s%s\n", where, what);
    fflush(stdout);
}

/* Pushes "file:line: " of the caller, with the scenario's path whole, as
 * given (luaL_where shortens paths longer than LUA_IDSIZE to "...tail"). */
static void push_where(lua_State *L)
{
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        lua_pushfstring(L, "%s:%d: ", ar.source[0] == '@' ? ar.source + 1 : ar.short_src,
                        ar.currentline);
    else
        lua_pushliteral(L, "");
}

/* Prints the FAIL line: what ("expect(socket):trace") with the label, if
 * expect() was given one, inside its parentheses. */
static void print_fail(lua_State *L, const char *where, const char *what)
{
    const char *label = NULL;
    if (lsim_testudata(L, 1, EXPECT_MT)) {
        lua_getiuservalue(L, 1, 2);
        label = lua_tostring(L, -1); /* kept alive by the userdata */
        lua_pop(L, 1);
    }
    const char *close = strchr(what, ')');
    if (label && close)
        printf("FAIL %s%.*s, \"%s\"%s\n", where, (int)(close - what), what, label, close);
    else
        printf("FAIL %s%s\n", where, what);
}

/* Records the outcome; on failure prints "FAIL file:line: what" and the
 * detail lines already pushed as one string at the top of the stack. */
static int verdict(lua_State *L, bool ok, const char *what)
{
    counts *c = get_counts(L);
    c->checked++;
    if (!ok) {
        c->failed++;
        if (lsim_config_of(L)->quiet_expect) {
            lua_pop(L, 1);
            lua_pushboolean(L, ok);
            return 1;
        }
        push_where(L);
        print_fail(L, lua_tostring(L, -1), what);
        printf("%s", lua_tostring(L, -2));
        fflush(stdout);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushboolean(L, ok);
    return 1;
}

static void subject(lua_State *L)
{
    lsim_checkudata(L, 1, EXPECT_MT);
    lua_getiuservalue(L, 1, 1);
}

static tcp_state check_state_name(lua_State *L, int idx, const char *where)
{
    const char *name = luaL_checkstring(L, idx);
    tcp_state st;
    if (tcp_state_parse(name, &st) != 0) {
        const char *names[TCP_STATE_COUNT + 1];
        for (int i = 0; i < TCP_STATE_COUNT; i++)
            names[i] = tcp_state_name((tcp_state)i);
        names[TCP_STATE_COUNT] = NULL;
        lsim_push_nearest(L, name, names);
        luaL_error(L, "%s: unknown state '%s'%s", where, name, lua_tostring(L, -1));
    }
    return st;
}

/* The socket record under test; *index its record index (may be NULL). */
static const net_sock *subject_sock_at(lua_State *L, const char *where, lsim **s, uint32_t *index)
{
    subject(L);
    if (lua_isnil(L, -1))
        luaL_error(L, "%s: expect(...) got nil, not a socket: " NO_SOCKET, where);
    if (!lsim_testudata(L, -1, LSIM_SOCK))
        luaL_error(L, "%s: expect(...) needs a socket here, got %s", where, luaL_typename(L, -1));
    uint32_t sock = lsim_sock_check(L, -1, s);
    lua_pop(L, 1);
    if (index)
        *index = sock;
    return net_sock_at((*s)->net, sock);
}

static const net_sock *subject_sock(lua_State *L, const char *where, lsim **s)
{
    return subject_sock_at(L, where, s, NULL);
}

static void add_states(luaL_Buffer *b, const tcp_state *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            luaL_addstring(b, " ");
        luaL_addstring(b, tcp_state_name(v[i]));
    }
}

/* Reads the list argument into states (max 64). */
static size_t read_states(lua_State *L, int idx, tcp_state *out, const char *where)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, idx);
    if (n > 64)
        luaL_error(L, "%s: at most 64 states", where);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        out[i] = check_state_name(L, -1, where);
        lua_pop(L, 1);
    }
    return n;
}

static int states_verdict(lua_State *L, bool ok, const char *what, const tcp_state *exp,
                          size_t nexp, const net_sock *k)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "  expected: ");
    add_states(&b, exp, nexp);
    luaL_addstring(&b, "\n  actual:   ");
    for (uint32_t i = 0; i < k->ntrace; i++) {
        if (i)
            luaL_addstring(&b, " ");
        luaL_addstring(&b, tcp_state_name(net_sock_step(k, i)->state));
    }
    luaL_addstring(&b, "\n");
    luaL_pushresult(&b);
    return verdict(L, ok, what);
}

/* expect(sock):trace{...}: the whole state trace, exactly. */
static int e_trace(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:trace", &s);
    tcp_state exp[64];
    size_t n = read_states(L, 2, exp, "expect:trace");
    bool ok = n == k->ntrace;
    for (size_t i = 0; ok && i < n; i++)
        ok = net_sock_step(k, i)->state == exp[i];
    return states_verdict(L, ok, "expect(socket):trace", exp, n, k);
}

/* expect(sock):contains{...}: the states appear in this order (gaps allowed). */
static int e_contains(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:contains", &s);
    tcp_state exp[64];
    size_t n = read_states(L, 2, exp, "expect:contains");
    size_t j = 0;
    for (uint32_t i = 0; i < k->ntrace && j < n; i++)
        if (net_sock_step(k, i)->state == exp[j])
            j++;
    return states_verdict(L, j == n, "expect(socket):contains", exp, n, k);
}

static int e_state(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:state", &s);
    tcp_state want = check_state_name(L, 2, "expect:state");
    lua_pushfstring(L, "  expected state: %s\n  actual state:   %s\n", tcp_state_name(want),
                    tcp_state_name(k->state));
    return verdict(L, k->state == want, "expect(socket):state");
}

static int e_never(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:never", &s);
    tcp_state st = check_state_name(L, 2, "expect:never");
    bool ok = true;
    for (uint32_t i = 0; i < k->ntrace; i++)
        ok = ok && net_sock_step(k, i)->state != st;
    tcp_state one[1] = {st};
    return states_verdict(L, ok, "expect(socket):never (state must not appear)", one, 1, k);
}

/* expect(sock):error("ECONNREFUSED") or :error(nil) for none. */
static int e_error(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:error", &s);
    const char *want = luaL_optstring(L, 2, "OK");
    const char *got = tcp_err_name(k->error);
    lua_pushfstring(L, "  expected error: %s\n  actual error:   %s\n", want, got);
    return verdict(L, strcmp(want, got) == 0, "expect(socket):error");
}

/* The index of the last visit of state st (or the nth visit), -1 if none. */
static int find_visit(const net_sock *k, tcp_state st, lua_Integer nth)
{
    int found = -1;
    lua_Integer seen = 0;
    for (uint32_t i = 0; i < k->ntrace; i++) {
        if (net_sock_step(k, i)->state != st)
            continue;
        found = (int)i;
        if (++seen == nth)
            return found;
    }
    return nth > 0 ? -1 : found;
}

static void fmt_time(uint64_t t, char *buf, size_t n)
{
    sim_time_format(t, buf, n);
}

static int time_verdict(lua_State *L, bool ok, const char *what, const char *label, uint64_t want,
                        bool have, uint64_t got)
{
    char a[40], b[40];
    fmt_time(want, a, sizeof a);
    if (have)
        fmt_time(got, b, sizeof b);
    else
        snprintf(b, sizeof b, "never");
    lua_pushfstring(L, "  expected %s at: %ss\n  actual:         %s%s\n", label, a, b,
                    have ? "s" : "");
    return verdict(L, ok, what);
}

/* expect(sock):entered(state, time [, nth]) */
static int e_entered(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:entered", &s);
    tcp_state st = check_state_name(L, 2, "expect:entered");
    uint64_t want = lsim_check_duration(L, 3, "expect:entered");
    int i = find_visit(k, st, luaL_optinteger(L, 4, 0));
    bool have = i >= 0;
    uint64_t got = have ? net_sock_step(k, i)->time_ns : 0;
    return time_verdict(L, have && got == want, "expect(socket):entered", "entry", want, have, got);
}

/* expect(sock):left(state, time [, nth]): when the (last) visit ended. */
static int e_left(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:left", &s);
    tcp_state st = check_state_name(L, 2, "expect:left");
    uint64_t want = lsim_check_duration(L, 3, "expect:left");
    int i = find_visit(k, st, luaL_optinteger(L, 4, 0));
    bool have = i >= 0 && (uint32_t)i + 1 < k->ntrace;
    uint64_t got = have ? net_sock_step(k, i + 1)->time_ns : 0;
    return time_verdict(L, have && got == want, "expect(socket):left", "exit", want, have, got);
}

/* expect(sock):spent(state, duration [, nth]): time between entry and exit. */
static int e_spent(lua_State *L)
{
    lsim *s;
    const net_sock *k = subject_sock(L, "expect:spent", &s);
    tcp_state st = check_state_name(L, 2, "expect:spent");
    uint64_t want = lsim_check_duration(L, 3, "expect:spent");
    int i = find_visit(k, st, luaL_optinteger(L, 4, 0));
    bool have = i >= 0 && (uint32_t)i + 1 < k->ntrace;
    uint64_t got = have ? net_sock_step(k, i + 1)->time_ns - net_sock_step(k, i)->time_ns : 0;
    char a[40], b[40];
    sim_duration_format(want, a, sizeof a);
    if (have)
        sim_duration_format(got, b, sizeof b);
    else
        snprintf(b, sizeof b, "(state not left)");
    lua_pushfstring(L, "  expected time in %s: %s\n  actual:              %s\n", tcp_state_name(st),
                    a, b);
    return verdict(L, have && got == want, "expect(socket):spent");
}

/* expect(sock):received(bytes): everything read so far (and now readable). */
static int e_received(lua_State *L)
{
    lsim *s;
    uint32_t sock;
    const net_sock *k = subject_sock_at(L, "expect:received", &s, &sock);
    size_t n;
    const char *want = luaL_checklstring(L, 2, &n);
    if (!net_keeps_rx(s->net))
        return luaL_error(L, "expect(socket):received: this sim keeps no received bytes "
                             "(tcpsim.new{keep_received = false})");
    net_drain(s->net, sock);
    bool ok = n == k->nrx && (n == 0 || memcmp(want, k->rx, n) == 0);
    size_t diff = 0;
    while (diff < n && diff < k->nrx && want[diff] == k->rx[diff])
        diff++;
    lua_pushfstring(L, "  expected %d bytes, received %d; first difference at byte %d\n", (int)n,
                    (int)k->nrx, (int)diff);
    return verdict(L, ok, "expect(socket):received");
}

/* expect(link):saw{"A>B SYN", ...}: these segments were sent, in this order
 * (others may come between). A trailing " X" means it was dropped. */
static int exchange(lua_State *L, bool exact, const char *what)
{
    subject(L);
    lsim *s;
    sim_link *l = lsim_link_check(L, -1, &s);
    luaL_checktype(L, 2, LUA_TTABLE);
    lsim_link_push_exchange(L, s, sim_link_id(l));
    int got = lua_gettop(L);
    lua_Integer ng = luaL_len(L, got), ne = luaL_len(L, 2), j = 1;
    bool ok = true;
    if (exact) {
        ok = ng == ne;
        for (lua_Integer i = 1; ok && i <= ne; i++) {
            lua_rawgeti(L, 2, i);
            lua_rawgeti(L, got, i);
            ok = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
        }
    } else {
        for (lua_Integer i = 1; i <= ng && j <= ne; i++) {
            lua_rawgeti(L, 2, j);
            lua_rawgeti(L, got, i);
            if (lua_rawequal(L, -1, -2))
                j++;
            lua_pop(L, 2);
        }
        ok = j > ne;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "  expected: ");
    for (lua_Integer i = 1; i <= ne; i++) {
        lua_rawgeti(L, 2, i);
        luaL_addstring(&b, i > 1 ? " | " : "");
        luaL_addstring(&b, luaL_optstring(L, -1, "?"));
        lua_pop(L, 1);
    }
    luaL_addstring(&b, "\n  actual:   ");
    for (lua_Integer i = 1; i <= ng; i++) {
        lua_rawgeti(L, got, i);
        luaL_addstring(&b, i > 1 ? " | " : "");
        luaL_addstring(&b, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    luaL_addstring(&b, "\n");
    luaL_pushresult(&b);
    return verdict(L, ok, what);
}

static int e_saw(lua_State *L)
{
    return exchange(L, false, "expect(link):saw");
}

static int e_exchange(lua_State *L)
{
    return exchange(L, true, "expect(link):exchange");
}

/* expect(v):equals(w) — plain values (numbers, strings, booleans). */
static int e_equals(lua_State *L)
{
    lua_settop(L, 2);
    subject(L); /* 1 self, 2 expected, 3 actual */
    bool ok = lua_compare(L, 3, 2, LUA_OPEQ);
    const char *want = luaL_tolstring(L, 2, NULL);
    const char *got = luaL_tolstring(L, 3, NULL);
    lua_pushfstring(L, "  expected: %s\n  actual:   %s\n", want, got);
    return verdict(L, ok, "expect(value):equals");
}

static int e_holds(lua_State *L)
{
    lua_settop(L, 2); /* the message, if any, stays at 2 when the subject is pushed */
    subject(L);
    bool ok = lua_toboolean(L, -1);
    lua_pushfstring(L, "  %s\n", luaL_optstring(L, 2, "condition was false"));
    return verdict(L, ok, "expect(value):holds");
}

static int compare_num(lua_State *L, bool at_least)
{
    lua_settop(L, 2);
    lua_Number lim = luaL_checknumber(L, 2);
    subject(L);
    int isnum = 0;
    lua_Number v = lua_tonumberx(L, 3, &isnum);
    if (!isnum)
        return luaL_error(L, "expect(value):%s needs a number, got %s",
                          at_least ? "at_least" : "at_most", luaL_typename(L, 3));
    bool ok = at_least ? v >= lim : v <= lim;
    lua_pushfstring(L, "  expected a value %s %s\n  actual: %s\n",
                    at_least ? ">=" : "<=", lua_tostring(L, 2), lua_tostring(L, -1));
    return verdict(L, ok, at_least ? "expect(value):at_least" : "expect(value):at_most");
}

static int e_at_least(lua_State *L)
{
    return compare_num(L, true);
}

static int e_at_most(lua_State *L)
{
    return compare_num(L, false);
}

/* expect(subject [, label]) */
static int l_expect(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 2);
    /* only a string is a label: expect(f()) may pass f's second result */
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        lua_replace(L, 2);
    }
    lua_newuserdatauv(L, 0, 2);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 2);
    lsim_setmetatable(L, EXPECT_MT);
    return 1;
}

void lsim_open_expect(lua_State *L)
{
    counts *c = lua_newuserdatauv(L, sizeof *c, 0);
    c->checked = c->failed = 0;
    lua_setfield(L, LUA_REGISTRYINDEX, EXPECT_STATE);
    static const luaL_Reg methods[] = {
        {"trace", e_trace}, {"contains", e_contains}, {"state", e_state},
        {"never", e_never}, {"error", e_error},       {"entered", e_entered},
        {"left", e_left},   {"spent", e_spent},       {"received", e_received},
        {"saw", e_saw},     {"exchange", e_exchange}, {"equals", e_equals},
        {"holds", e_holds}, {"at_least", e_at_least}, {"at_most", e_at_most},
        {NULL, NULL}};
    lsim_newmetatable(L, EXPECT_MT);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_expect);
    lua_setglobal(L, "expect");
}
