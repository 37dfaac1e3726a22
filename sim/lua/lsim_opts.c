/*
 * lsim_opts — reading option tables from Lua with clear errors.
 *
 * Every option table is checked for unknown keys (a typo is an error, never
 * silently ignored, with the nearest accepted name offered). Keys are
 * collected and sorted before reporting, so the message does not depend on
 * Lua's table iteration order. A duration is a string with a unit; a bare
 * number other than 0 is refused as ambiguous (is 10 ten seconds?).
 */
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"
#include "tcp_wheel.h"

/* Whether key is name; the first letters are compared first, as most
 * names differ there (an option table is checked against a dozen names). */
static inline bool same_name(const char *key, const char *name)
{
    return key[0] == name[0] && strcmp(key, name) == 0;
}

static bool is_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (same_name(key, allowed[i]))
            return true;
    return false;
}

/* ---- Did you mean ---- */

/* Letters compared without case, '-' and '_' alike: "syn-sent" is near
 * "SYN_SENT". */
static int fold(char c)
{
    return c == '-' ? '_' : tolower((unsigned char)c);
}

/* Edits (insert, delete, change, swap two neighbours) turning a into b,
 * computed over three rolling rows; words over 47 bytes are far from all. */
static size_t edits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 47 || lb > 47)
        return SIZE_MAX;
    size_t rows[3][48];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (fold(a[i - 1]) != fold(b[j - 1]));
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *lsim_nearest(const char *word, const char *const *names)
{
    size_t len = strlen(word);
    size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; names[i]; i++) {
        size_t d = edits(word, names[i]);
        if (d <= limit && d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

void lsim_push_nearest(lua_State *L, const char *word, const char *const *names)
{
    const char *near = lsim_nearest(word, names);
    if (near)
        lua_pushfstring(L, "; did you mean '%s'?", near);
    else
        lua_pushliteral(L, "");
}

static void raise_unknown(lua_State *L, const char *where, const char *key,
                          const char *const *allowed)
{
    lsim_push_nearest(L, key, allowed);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; allowed[i]; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, allowed[i]);
    }
    luaL_pushresult(&b);
    luaL_error(L, "unknown option '%s' in %s%s (expected one of: %s)", key, where,
               lua_tostring(L, -2), lua_tostring(L, -1));
}

/* Calls on_key with each string key of the table at idx (its own keys;
 * idx absolute). */
static void each_name(lua_State *L, int idx, void (*on_key)(const char *key, void *ud), void *ud)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            on_key(lua_tostring(L, -1), ud);
    }
}

typedef struct present {
    const char *const *names;
    uint64_t has;
} present;

static void mark_present(const char *key, void *ud)
{
    present *p = ud;
    for (size_t i = 0; p->names[i]; i++) {
        assert(i < LSIM_OPTS_PRESENT_MAX);
        if (same_name(key, p->names[i])) {
            p->has |= (uint64_t)1 << i;
            return;
        }
    }
}

uint64_t lsim_opts_present(lua_State *L, int idx, const char *const *names)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        return 0;
    if (lua_getmetatable(L, idx)) { /* an __index may answer any name: ask each */
        lua_pop(L, 1);
        uint64_t has = 0;
        for (size_t i = 0; names[i]; i++) {
            assert(i < LSIM_OPTS_PRESENT_MAX);
            if (lua_getfield(L, idx, names[i]) != LUA_TNIL)
                has |= (uint64_t)1 << i;
            lua_pop(L, 1);
        }
        return has;
    }
    present p = {names, 0};
    each_name(L, idx, mark_present, &p);
    return p.has;
}

/* Checks the keys of the table at idx (absolute), as lsim_opts_check does;
 * if p is not NULL, marks in it those of p->names. */
static void check_keys(lua_State *L, int idx, const char *where, const char *const *allowed,
                       present *p)
{
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    const char *first_bad = NULL; /* the first unknown name in byte order, whatever
                                   * order lua_next (the string hash) visits them in */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            luaL_error(L, "option tables take names as keys (in %s)", where);
        }
        const char *key = lua_tostring(L, -1);
        if (!is_allowed(key, allowed) && (!first_bad || strcmp(key, first_bad) < 0))
            first_bad = key; /* still anchored in the table */
        if (p)
            mark_present(key, p);
    }
    if (first_bad)
        raise_unknown(L, where, first_bad, allowed);
}

void lsim_opts_check(lua_State *L, int idx, const char *where, const char *const *allowed)
{
    check_keys(L, lua_absindex(L, idx), where, allowed, NULL);
}

uint64_t lsim_opts_check_present(lua_State *L, int idx, const char *where,
                                 const char *const *allowed, const char *const *names)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx) || lua_getmetatable(L, idx) == 0) {
        /* no metatable: the keys seen are those lua_getfield finds */
        present p = {names, 0};
        check_keys(L, idx, where, allowed, &p);
        return p.has;
    }
    lua_pop(L, 1);
    check_keys(L, idx, where, allowed, NULL);
    return lsim_opts_present(L, idx, names);
}

/* A bare number is a duration only when it is 0 (the same in every unit);
 * any other is refused, naming the ways to say what was meant. */
static uint64_t bare_number(lua_State *L, int arg, const char *where)
{
    bool integer = lua_isinteger(L, arg);
    lua_Number v = lua_tonumber(L, arg);
    if (integer && v == 0)
        return 0;
    if (!isfinite(v)) /* no unit makes inf or nan a time */
        luaL_error(L,
                   "%s: expected a duration (\"50ms\", \"2min\"), got a number that is not finite",
                   where);
    lua_pushvalue(L, arg);
    const char *n = lua_tostring(L, -1); /* converts the copy only */
    if (v < 0)
        luaL_error(L, "%s: duration must not be negative, got %s", where, n);
    if (!integer)
        luaL_error(L, "%s: %s is ambiguous: write \"%sms\" or \"%ss\"", where, n, n, n);
    luaL_error(L, "%s: %s is ambiguous: write \"%sms\", \"%ss\" or tcpsim.ns(%s)", where, n, n, n,
               n);
    return 0;
}

uint64_t lsim_check_duration(lua_State *L, int arg, const char *where)
{
    if (lua_type(L, arg) == LUA_TNUMBER)
        return bare_number(L, arg, where);
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_error(L, "%s: expected a duration (\"50ms\", \"2min\"), got %s", where,
                   luaL_typename(L, arg));
    char err[160];
    sim_time_t ns;
    if (sim_duration_parse(lua_tostring(L, arg), &ns, err, sizeof err) != 0)
        luaL_error(L, "%s: %s", where, err);
    return ns;
}

uint64_t lsim_opt_duration(lua_State *L, int idx, const char *key, uint64_t def, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return def;
    lua_getfield(L, idx, key);
    uint64_t v = def;
    if (!lua_isnil(L, -1)) {
        /* A duration string that parses is the common case: the option's
         * name for the error is printed only when there is one to raise. */
        char err[160];
        sim_time_t ns;
        if (lua_type(L, -1) == LUA_TSTRING &&
            sim_duration_parse(lua_tostring(L, -1), &ns, err, sizeof err) == 0) {
            v = ns;
        } else {
            char what[96];
            snprintf(what, sizeof what, "%s option '%s'", where, key);
            v = lsim_check_duration(L, -1, what);
        }
    }
    lua_pop(L, 1);
    return v;
}

/* Probabilities: a number in [0,1]. Converted to parts per billion by
 * rounding the double once (IEEE arithmetic, identical on every compiler). */
uint32_t lsim_opt_prob(lua_State *L, int idx, const char *key, uint32_t def, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return def;
    lua_getfield(L, idx, key);
    uint32_t v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            char err[160];
            if (sim_prob_parse(lua_tostring(L, -1), key, &v, err, sizeof err) != 0)
                luaL_error(L, "%s: %s", where, err);
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number n = lua_tonumber(L, -1);
            if (!(n >= 0.0 && n <= 1.0))
                luaL_error(L, "%s: %s must be in [0,1], got %s", where, key, lua_tostring(L, -1));
            v = (uint32_t)(n * 1e9 + 0.5);
        } else {
            luaL_error(L, "%s: %s must be a number in [0,1], got %s", where, key,
                       luaL_typename(L, -1));
        }
    }
    lua_pop(L, 1);
    return v;
}

/* The integer on top of the stack, option `key`; an error for any other
 * value. */
static lua_Integer top_integer(lua_State *L, const char *key, const char *where)
{
    int isint = 0;
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint)
        luaL_error(L, "%s: %s must be an integer, got %s", where, key,
                   lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
    return n;
}

int64_t lsim_opt_int(lua_State *L, int idx, const char *key, int64_t def, int64_t lo, int64_t hi,
                     const char *where)
{
    if (lua_isnoneornil(L, idx))
        return def;
    lua_getfield(L, idx, key);
    int64_t v = def;
    if (!lua_isnil(L, -1)) {
        lua_Integer n = top_integer(L, key, where);
        if (n < lo || n > hi)
            luaL_error(L, "%s: %s must be in [%I,%I], got %I", where, key, (LUAI_UACINT)lo,
                       (LUAI_UACINT)hi, (LUAI_UACINT)n);
        v = n;
    }
    lua_pop(L, 1);
    return v;
}

bool lsim_opt_bool(lua_State *L, int idx, const char *key, bool def, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return def;
    lua_getfield(L, idx, key);
    bool v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            luaL_error(L, "%s: %s must be true or false, got %s", where, key, luaL_typename(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* The returned string stays valid while the option table is alive. */
const char *lsim_opt_string(lua_State *L, int idx, const char *key, const char *def,
                            const char *where)
{
    if (lua_isnoneornil(L, idx))
        return def;
    lua_getfield(L, idx, key);
    const char *v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: %s must be a string, got %s", where, key, luaL_typename(L, -1));
        v = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* ---- Profile knobs: which fields of tcp_profile_fields a scenario sets. ---- */

/* How Lua reads a knob. The field's name and place are the stack's
 * (tcp_profile_fields); this table adds only the kind, and the order
 * `tcpsim profiles` lists them in. A field not here cannot be set from a
 * scenario (test_lsim_api names those, so a new field is placed on purpose).
 * K_BUF: a buffer in octets, 1..TCP_BUF_MAX; K_BUF_MAX: a buffer's upper
 * bound, 0..TCP_BUF_MAX (0: the field's own meaning, tcp.h); K_TW_RST:
 * true for TCP_TW_RST_IGNORE (RFC 1337), false for TCP_TW_RST_CLOSE. */
typedef enum knob_kind {
    K_DURATION,
    K_U32,
    K_U16,
    K_BOOL,
    K_ENUM,
    K_BUF,
    K_BUF_MAX,
    K_TW_RST
} knob_kind;
typedef struct knob {
    const char *name; /* the field's knob name in tcp_profile_fields */
    knob_kind kind;
    const char *const *values; /* K_ENUM: the names, in enum order, NULL-terminated */
} knob;

#define KNOB(n, k)                                                                                 \
    {                                                                                              \
        n, k, NULL                                                                                 \
    }
#define KNOB_ENUM(n, v)                                                                            \
    {                                                                                              \
        n, K_ENUM, v                                                                               \
    }
static const char *const BACKLOG_MODELS[] = {"rfc", "linux", "bsd", NULL};
static const char *const SYN_RECV_RULES[] = {"rfc", "linux", "bsd", NULL};
static const char *const ABORT_RST[] = {"never", "unsent", "always", NULL};
static const char *const OPT_LAYOUTS[] = {"rfc", "linux", "bsd", NULL};
static const char *const LISTEN_SHUT[] = {"close", "linux", "bsd", NULL};
static const char *const LISTEN_CONNECT[] = {"open", "eisconn", "eopnotsupp", NULL};
static const char *const DSACK_RULES[] = {"none", "linux", "bsd", NULL};
static const char *const RST_OPTS[] = {"none", "ts", "ts_sack", NULL};
static const knob KNOBS[] = {
    KNOB("msl", K_DURATION),
    KNOB("time_wait", K_DURATION),
    KNOB("fin_timeout", K_DURATION),
    KNOB("rto_initial", K_DURATION),
    KNOB("rto_min", K_DURATION),
    KNOB("rto_max", K_DURATION),
    KNOB("syn_retries", K_U32),
    KNOB("synack_retries", K_U32),
    KNOB("retries", K_U32),
    KNOB("delack", K_DURATION),
    KNOB("keepalive_idle", K_DURATION),
    KNOB("keepalive_interval", K_DURATION),
    KNOB("keepalive_probes", K_U32),
    KNOB("sndbuf", K_BUF),
    KNOB("rcvbuf", K_BUF),
    KNOB("mss", K_U16),
    KNOB("rst_on_close_with_unread", K_BOOL),
    KNOB("rst_on_keepalive_timeout", K_BOOL),
    KNOB("tw_restart_on_ack", K_BOOL),
    KNOB("shut_rd_discard", K_BOOL),
    KNOB("rfc1337", K_TW_RST),
    KNOB("rst_has_ack", K_BOOL),
    KNOB("orphan_retries", K_U32),
    KNOB("syn_linear_timeouts", K_U32),
    KNOB("syn_timeout", K_DURATION),
    KNOB("quickack", K_U32),
    KNOB("challenge_ack_limit", K_U32),
    KNOB("challenge_ack_window", K_DURATION),
    KNOB("rto_slop", K_DURATION),
    KNOB("persist_min", K_DURATION),
    KNOB("persist_max", K_DURATION),
    KNOB("zero_window_probe_no_data", K_BOOL),
    KNOB("nagle_minshall", K_BOOL),
    KNOB("fin_timeout_idle", K_BOOL),
    KNOB_ENUM("backlog_model", BACKLOG_MODELS),
    KNOB_ENUM("syn_recv_rules", SYN_RECV_RULES),
    KNOB_ENUM("abort_rst_closing", ABORT_RST),
    KNOB_ENUM("listen_shutdown", LISTEN_SHUT),
    KNOB_ENUM("listen_connect", LISTEN_CONNECT),
    KNOB("port_lo", K_U16),
    KNOB("port_hi", K_U16),
    KNOB("mss_floor", K_U16),
    KNOB("syn_loss_cwnd_after", K_U32),
    KNOB("old_segment_ack", K_BOOL),
    KNOB("zero_window_fin", K_BOOL),
    KNOB("edge_fin", K_BOOL),
    KNOB("beyond_window_drop", K_BOOL),
    KNOB("rst_at_fin", K_BOOL),
    KNOB("rst_sack_edge", K_BOOL),
    KNOB_ENUM("dsack", DSACK_RULES),
    KNOB_ENUM("rst_opts", RST_OPTS),
    KNOB("rst_window", K_BOOL),
    KNOB("sack_fin", K_BOOL),
    KNOB("sack_fin_reset", K_BOOL),
    KNOB("shut_rd_no_update", K_BOOL),
    KNOB("ack_wnd_check", K_BOOL),
    KNOB("rst_close_wait_epipe", K_BOOL),
    KNOB("rst_closing_reset", K_BOOL),
    KNOB("err_once", K_BOOL),
    KNOB("recv_err_first", K_BOOL),
    KNOB("send_epipe_first", K_BOOL),
    KNOB("send_unconnected_epipe", K_BOOL),
    KNOB("closed_deletes_tcb", K_BOOL),
    KNOB("time_wait_bsd_rules", K_BOOL),
    KNOB("close_embryonic_silent", K_BOOL),
    KNOB_ENUM("option_layout", OPT_LAYOUTS),
    KNOB("rcvbuf_max", K_BUF_MAX),
    KNOB("rcv_win_ratio", K_U32),
    KNOB("init_window_mss_multiple", K_BOOL),
    KNOB("syn_bad_ack_rexmit", K_DURATION),
    KNOB("delack_max", K_DURATION),
    KNOB("pingpong", K_BOOL),
    KNOB("delack_tick", K_DURATION),
    KNOB("timer_hz", K_U32),
    KNOB("comp_sack_delay", K_DURATION),
    KNOB("comp_sack_slack", K_DURATION),
    KNOB("comp_sack_nr", K_U32),
    KNOB("embryo_reset_closed", K_BOOL),
    KNOB("wnd_mss_round", K_BOOL),
    KNOB("tlp", K_BOOL),
    KNOB("ss_full_ack", K_BOOL),
    KNOB("rto_min_var", K_BOOL),
    KNOB("read_ack", K_BOOL),
    KNOB("sndbuf_expand", K_U32),
    KNOB("sndbuf_max", K_BUF_MAX),
    KNOB("grow_window", K_BOOL),
    KNOB("scaling_ratio", K_U32),
    KNOB("rcv_autotune", K_BOOL),
};
#define NKNOBS (sizeof KNOBS / sizeof KNOBS[0])

/* The octets a kind reads and writes: its field's size must be this. */
static size_t kind_size(knob_kind kind)
{
    switch (kind) {
    case K_DURATION:
        return sizeof(uint64_t);
    case K_U16:
        return sizeof(uint16_t);
    case K_BOOL:
        return sizeof(bool);
    case K_ENUM:
    case K_TW_RST:
        return sizeof(int); /* an enum field */
    default:
        return sizeof(uint32_t);
    }
}

/* The offset in tcp_profile of knob k's field (tcp_profile_fields); a
 * knob that names no field, or a field of another size, is a bug here. */
static size_t knob_offset(const knob *k)
{
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    size_t i = 0;
    while (i < n && strcmp(f[i].knob, k->name) != 0)
        i++;
    assert(i < n && f[i].size == kind_size(k->kind));
    return f[i].off;
}

const char *const *lsim_profile_knobs(void)
{
    static const char *names[NKNOBS + 1];
    for (size_t i = 0; i < NKNOBS; i++)
        names[i] = KNOBS[i].name;
    names[NKNOBS] = NULL;
    return names;
}

/* A buffer knob: octets up to TCP_BUF_MAX, at least 1 when `nonzero`. The
 * stack would cap a larger receive space silently and tcp_setopt refuses
 * such a buffer: the knob is refused, saying why. */
static uint32_t opt_buf(lua_State *L, int idx, const char *key, uint32_t def, bool nonzero,
                        const char *where)
{
    lua_getfield(L, idx, key);
    uint32_t v = def;
    if (!lua_isnil(L, -1)) {
        lua_Integer n = top_integer(L, key, where);
        if (n < (nonzero ? 1 : 0) || n > (lua_Integer)TCP_BUF_MAX)
            luaL_error(L,
                       "%s: %s must be %d..%I octets (2^30: no window offers more, RFC 7323 "
                       "§2.3); got %I",
                       where, key, nonzero ? 1 : 0, (LUAI_UACINT)TCP_BUF_MAX, (LUAI_UACINT)n);
        v = (uint32_t)n;
    }
    lua_pop(L, 1);
    return v;
}

static void apply_knob(lua_State *L, int idx, const knob *k, tcp_profile *p, const char *where)
{
    char *field = (char *)p + knob_offset(k);
    switch (k->kind) {
    case K_DURATION:
        *(uint64_t *)field = lsim_opt_duration(L, idx, k->name, *(uint64_t *)field, where);
        break;
    case K_U32:
        *(uint32_t *)field =
            (uint32_t)lsim_opt_int(L, idx, k->name, *(uint32_t *)field, 0, UINT32_MAX, where);
        break;
    case K_U16:
        *(uint16_t *)field =
            (uint16_t)lsim_opt_int(L, idx, k->name, *(uint16_t *)field, 1, UINT16_MAX, where);
        break;
    case K_BUF:
    case K_BUF_MAX:
        *(uint32_t *)field = opt_buf(L, idx, k->name, *(uint32_t *)field, k->kind == K_BUF, where);
        break;
    case K_TW_RST: {
        bool ignore = *(int *)field == TCP_TW_RST_IGNORE;
        *(int *)field =
            lsim_opt_bool(L, idx, k->name, ignore, where) ? TCP_TW_RST_IGNORE : TCP_TW_RST_CLOSE;
        break;
    }
    case K_BOOL:
        *(bool *)field = lsim_opt_bool(L, idx, k->name, *(bool *)field, where);
        break;
    case K_ENUM: {
        const char *v = lsim_opt_string(L, idx, k->name, NULL, where);
        if (!v)
            break;
        int i = 0;
        while (k->values[i] && strcmp(k->values[i], v) != 0)
            i++;
        if (!k->values[i]) {
            lsim_push_nearest(L, v, k->values);
            luaL_error(L, "%s: %s must be one of %s, %s, %s; got \"%s\"%s", where, k->name,
                       k->values[0], k->values[1], k->values[2], v, lua_tostring(L, -1));
        }
        *(int *)field = i;
        break;
    }
    }
}

/* One knob's value in p, as `tcpsim profiles` prints it. */
void lsim_profile_knob_format(const tcp_profile *p, size_t i, char *buf, size_t len)
{
    const knob *k = &KNOBS[i];
    const char *field = (const char *)p + knob_offset(k);
    switch (k->kind) {
    case K_DURATION:
        sim_duration_format(*(const uint64_t *)field, buf, len);
        break;
    case K_U32:
    case K_BUF:
    case K_BUF_MAX:
        snprintf(buf, len, "%u", (unsigned)*(const uint32_t *)field);
        break;
    case K_U16:
        snprintf(buf, len, "%u", (unsigned)*(const uint16_t *)field);
        break;
    case K_BOOL:
        snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
        break;
    case K_ENUM:
        snprintf(buf, len, "%s", k->values[*(const int *)field]);
        break;
    case K_TW_RST:
        snprintf(buf, len, "%s", *(const int *)field == TCP_TW_RST_IGNORE ? "true" : "false");
        break;
    }
}

/* each_name's visit for knobs_named: marks the knob named `key`. */
static void mark_knob(const char *key, void *ud)
{
    bool *named = ud;
    for (size_t i = 0; i < NKNOBS; i++)
        if (strcmp(KNOBS[i].name, key) == 0)
            named[i] = true;
}

/* Marks in named[] the knobs the table at idx holds. Without a metatable
 * they are its string keys (a walk over the few keys given, not a lookup
 * of every knob); with one, __index may answer any name, so all are. */
static void knobs_named(lua_State *L, int idx, bool named[NKNOBS])
{
    bool meta = lua_getmetatable(L, idx);
    for (size_t i = 0; i < NKNOBS; i++)
        named[i] = meta;
    if (meta) {
        lua_pop(L, 1);
        return;
    }
    each_name(L, lua_absindex(L, idx), mark_knob, named);
}

/* The stack's own bounds (tcp_profile_check), refused with the value. */
static void profile_refuse_invalid(lua_State *L, const tcp_profile *p, const char *where)
{
    const char *why = NULL;
    const char *name = tcp_profile_check(p, &why);
    if (!name)
        return;
    size_t n;
    const tcp_profile_field *f = tcp_profile_fields(&n);
    size_t i = 0;
    while (i < n && strcmp(f[i].knob, name) != 0)
        i++;
    assert(i < n && f[i].size == sizeof(uint64_t)); /* the RTO bounds are durations */
    uint64_t v;
    memcpy(&v, (const char *)p + f[i].off, sizeof v);
    char got[48];
    sim_duration_format(v, got, sizeof got);
    luaL_error(L, "%s: %s %s; got %s", where, name, why, got);
}

void lsim_profile_apply(lua_State *L, int idx, tcp_profile *p, const char *where)
{
    if (lua_isnoneornil(L, idx))
        return;
    idx = lua_absindex(L, idx);
    bool named[NKNOBS];
    knobs_named(L, idx, named);
    for (size_t i = 0; i < NKNOBS; i++) /* in KNOBS order: the same first error */
        if (named[i])
            apply_knob(L, idx, &KNOBS[i], p, where);
    /* Linux refuses an ip_local_port_range whose low end is above its high
     * end when it is set; so does this, rather than let every connect fail. */
    if (p->port_lo > p->port_hi)
        luaL_error(L, "%s: port_lo (%d) is above port_hi (%d): the ephemeral range holds no port",
                   where, (int)p->port_lo, (int)p->port_hi);
    /* The wheel counts whole jiffies of whole nanoseconds (tcp_wheel.h). */
    if (!tcp_wheel_hz_valid(p->timer_hz))
        luaL_error(L,
                   "%s: timer_hz must be 0 (exact timers) or a divisor of 1000000000 up to %d "
                   "(100, 250, 1000; a jiffy is whole nanoseconds); got %I",
                   where, (int)TCP_WHEEL_HZ_MAX, (lua_Integer)p->timer_hz);
    /* Linux's tcp_comp_sack_nr is a u8 sysctl (0..255, proc_dou8vec_minmax)
     * and the count it bounds is kept in 8 bits: a larger limit would never
     * be reached. */
    if (p->comp_sack_nr > 255)
        luaL_error(L,
                   "%s: comp_sack_nr must be 0..255 (Linux's tcp_comp_sack_nr is 8 bits); got %I",
                   where, (lua_Integer)p->comp_sack_nr);
    profile_refuse_invalid(L, p, where);
}

int lsim_parse_ipv4(const char *text, uint32_t *out)
{
    unsigned a, b, c, d;
    char extra;
    if (sscanf(text, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255)
        return -1;
    *out = (a << 24) | (b << 16) | (c << 8) | d;
    return 0;
}

void lsim_format_ipv4(uint32_t addr, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16) & 255,
             (unsigned)(addr >> 8) & 255, (unsigned)addr & 255);
}
