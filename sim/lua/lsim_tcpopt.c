/*
 * lsim_tcpopt — TCP options as Lua values, both ways.
 *
 * Reading (lsim_tcpopt_check) accepts three shapes and always yields the
 * raw option bytes (at most 40, RFC 9293 §3.1), which are the one
 * representation; nothing is reordered or padded after that:
 *  1. packetdrill's notation, a string: "<mss 1460,sackOK,TS val 100 ecr
 *     0,nop,wscale 7>" (brackets optional; "" or "<>" for none). It is
 *     parsed by sim/pkt's parser, so it has packetdrill's rules (the list
 *     takes a multiple of 4 bytes; "..." is refused here: it only matches).
 *  2. a table of named fields, {mss = 1460, wscale = 7, sack_ok = true,
 *     ts = {val = 100, ecr = 0}, sack = {{l, r}, ...}}, laid out the way
 *     Linux writes options (tcp_options_write, pkt_opts_from_table), NOPs
 *     included, so the result is always a multiple of 4 bytes;
 *  3. an array of option tables in wire order, for an exact layout:
 *     {{kind = "mss", mss = 1460}, {kind = "nop"}, {kind = "wscale",
 *     wscale = 7}, {kind = "sack_ok"}, {kind = "ts", val = 1, ecr = 0},
 *     {kind = "sack", blocks = {{l, r}}}, {kind = "eol"}}, and for any other
 *     option kind a number with its data: {kind = 30, data = "\1\2"}. The
 *     bytes are written exactly as listed (no padding is added).
 * Writing (lsim_tcpopt_push) turns option bytes into shape 3, one table per
 * option in wire order, so what is read back can be injected again and
 * gives the same bytes. Every mistake is a Lua error naming the caller and
 * what was expected; nothing is silently dropped.
 */
#include <stdio.h>
#include <string.h>

#include "lsim.h"
#include "pkt.h"

/* Option bytes being written, with the caller's name for errors. */
typedef struct optbuf {
    lua_State *L;
    const char *where;
    uint8_t *b;
    size_t len;
} optbuf;

static void put(optbuf *o, const uint8_t *b, size_t n)
{
    if (n > LSIM_TCPOPT_MAX - o->len)
        luaL_error(o->L, "%s: TCP options take more than %d bytes (RFC 9293 §3.1 leaves 40)",
                   o->where, (int)LSIM_TCPOPT_MAX);
    memcpy(o->b + o->len, b, n);
    o->len += n;
}

static void be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* An integer field of the table at idx in [lo, hi]; `need`: absent is an error. */
static uint32_t int_field(lua_State *L, int idx, const char *key, uint32_t hi, bool need,
                          const char *where, const char *what)
{
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1) && !need) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
        lua_tointeger(L, -1) > (lua_Integer)hi) {
        const char *got =
            lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1);
        luaL_error(L, "%s: %s needs %s, an integer in [0, %I], got %s", where, what, key,
                   (lua_Integer)hi, got);
    }
    uint32_t v = (uint32_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* ---- shape 1: a string ---- */

static size_t from_string(lua_State *L, int idx, const char *where, uint8_t *out)
{
    size_t n;
    const char *text = lua_tolstring(L, idx, &n);
    const char *p = text;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n && p[0] == '<') {
        if (p[n - 1] != '>')
            luaL_error(L, "%s: TCP options \"%s\" open with '<' but do not end with '>'", where,
                       text);
        p++, n -= 2;
    }
    if (memchr(p, '\0', n))
        luaL_error(L, "%s: TCP options contain a NUL byte", where);
    char inner[512];
    if (n >= sizeof inner)
        luaL_error(L, "%s: TCP options text is too long (%d bytes)", where, (int)n);
    memcpy(inner, p, n);
    inner[n] = '\0';
    size_t k = strspn(inner, " \t");
    if (inner[k] == '\0')
        return 0;
    pkt_opts o;
    char err[PKT_MSG_MAX];
    if (pkt_opts_parse(inner, &o, err, sizeof err) != 0)
        luaL_error(L, "%s: TCP options \"%s\": %s", where, text, err);
    if (o.any)
        luaL_error(L, "%s: TCP options \"<...>\" match anything; they cannot be sent", where);
    memcpy(out, o.bytes, o.len);
    return o.len;
}

/* ---- shape 2: named fields ---- */

static const char *const FIELD_KEYS[] = {"mss", "wscale", "sack_ok", "ts", "sack", NULL};

/* Reads the array of {left, right} pairs at idx (absolute) into t. */
static void read_blocks(lua_State *L, int idx, const char *where, uint32_t blocks[][2], uint8_t *n)
{
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: sack must be a list of {left, right} blocks, got %s", where,
                   luaL_typename(L, idx));
    lua_Integer count = luaL_len(L, idx);
    if (count < 1 || count > (lua_Integer)PKT_SACK_MAX)
        luaL_error(L, "%s: sack takes 1 to %d blocks {left, right} (RFC 2018 §3), got %d", where,
                   (int)PKT_SACK_MAX, (int)count);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, idx, i);
        for (int e = 0; e < 2; e++) {
            lua_Integer v = -1;
            if (lua_istable(L, -1)) {
                lua_rawgeti(L, -1, e + 1);
                v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
                lua_pop(L, 1);
            }
            if (v < 0 || v > (lua_Integer)UINT32_MAX)
                luaL_error(L, "%s: sack block %d must be {left, right}, two sequence numbers",
                           where, (int)i);
            blocks[i - 1][e] = (uint32_t)v;
        }
        lua_pop(L, 1);
    }
    *n = (uint8_t)count;
}

static size_t from_fields(lua_State *L, int idx, const char *where, uint8_t *out)
{
    char w[96];
    snprintf(w, sizeof w, "%s (options)", where);
    lsim_opts_check(L, idx, w, FIELD_KEYS);
    pkt_opt_table t;
    memset(&t, 0, sizeof t);
    lua_getfield(L, idx, "mss");
    t.has_mss = !lua_isnil(L, -1);
    lua_pop(L, 1);
    t.mss = (uint16_t)int_field(L, idx, "mss", UINT16_MAX, false, where, "the MSS option");
    lua_getfield(L, idx, "wscale");
    t.has_wscale = !lua_isnil(L, -1);
    lua_pop(L, 1);
    t.wscale = (uint8_t)int_field(L, idx, "wscale", UINT8_MAX, false, where, "window scale");
    t.sack_perm = lsim_opt_bool(L, idx, "sack_ok", false, where);
    lua_getfield(L, idx, "ts");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            luaL_error(L, "%s: ts must be {val = n, ecr = n}, got %s", where, luaL_typename(L, -1));
        int ts = lua_gettop(L);
        static const char *const ts_keys[] = {"val", "ecr", NULL};
        lsim_opts_check(L, ts, w, ts_keys);
        t.has_ts = true;
        t.ts_val = int_field(L, ts, "val", UINT32_MAX, true, where, "ts");
        t.ts_ecr = int_field(L, ts, "ecr", UINT32_MAX, true, where, "ts");
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "sack");
    if (!lua_isnil(L, -1))
        read_blocks(L, lua_gettop(L), where, t.sack, &t.nsack);
    lua_pop(L, 1);
    pkt_opts o;
    if (pkt_opts_from_table(&t, &o) != 0)
        luaL_error(L, "%s: TCP options take more than %d bytes (RFC 9293 §3.1 leaves 40)", where,
                   (int)LSIM_TCPOPT_MAX);
    memcpy(out, o.bytes, o.len);
    return o.len;
}

/* ---- shape 3: an array of option tables ---- */

static const char *const KIND_NAMES[] = {"eol",     "nop", "mss",  "wscale",
                                         "sack_ok", "ts",  "sack", NULL};
static const uint8_t KIND_CODES[] = {TCP_KIND_EOL,    TCP_KIND_NOP,       TCP_KIND_MSS,
                                     TCP_KIND_WSCALE, TCP_KIND_SACK_PERM, TCP_KIND_TS,
                                     TCP_KIND_SACK};

/* The fields each named kind takes besides `kind`. */
static const char *const *kind_keys(uint8_t code)
{
    static const char *const none[] = {"kind", NULL}, *const mss[] = {"kind", "mss", NULL},
                             *const ws[] = {"kind", "wscale", NULL},
                             *const ts[] = {"kind", "val", "ecr", NULL},
                             *const sack[] = {"kind", "blocks", NULL},
                             *const other[] = {"kind", "data", NULL};
    switch (code) {
    case TCP_KIND_MSS:
        return mss;
    case TCP_KIND_WSCALE:
        return ws;
    case TCP_KIND_TS:
        return ts;
    case TCP_KIND_SACK:
        return sack;
    case TCP_KIND_EOL:
    case TCP_KIND_NOP:
    case TCP_KIND_SACK_PERM:
        return none;
    default:
        return other;
    }
}

/* The option code of element i's kind (a name or a number in [0, 255]). */
static uint8_t kind_code(lua_State *L, int idx, const char *where, int i, bool *named)
{
    lua_getfield(L, idx, "kind");
    *named = lua_type(L, -1) == LUA_TSTRING;
    if (*named) {
        const char *k = lua_tostring(L, -1);
        for (size_t j = 0; KIND_NAMES[j]; j++)
            if (strcmp(k, KIND_NAMES[j]) == 0) {
                lua_pop(L, 1);
                return KIND_CODES[j];
            }
        lsim_push_nearest(L, k, KIND_NAMES);
        luaL_error(L,
                   "%s: option %d has unknown kind '%s'%s (expected eol, nop, mss, wscale, "
                   "sack_ok, ts, sack, or a number)",
                   where, i, k, lua_tostring(L, -1));
    }
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 255)
        luaL_error(L, "%s: option %d needs kind, a name or a number in [0, 255], got %s", where, i,
                   luaL_typename(L, -1));
    uint8_t code = (uint8_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return code;
}

/* Option `code` with its raw data from element idx (kind given as a number). */
static void put_raw(optbuf *o, int idx, uint8_t code, int i)
{
    lua_State *L = o->L;
    if (code == TCP_KIND_EOL || code == TCP_KIND_NOP) {
        put(o, &code, 1);
        return;
    }
    size_t n = 0;
    lua_getfield(L, idx, "data");
    const char *data = lua_isnil(L, -1) ? "" : lua_tolstring(L, -1, &n);
    if (!data)
        luaL_error(L, "%s: option %d: data must be a string of bytes, got %s", o->where, i,
                   luaL_typename(L, -1));
    if (n > LSIM_TCPOPT_MAX - 2)
        luaL_error(L, "%s: option %d: data of %d bytes does not fit in 40 bytes of options",
                   o->where, i, (int)n);
    uint8_t b[LSIM_TCPOPT_MAX] = {code, (uint8_t)(2 + n)};
    memcpy(b + 2, data, n);
    lua_pop(L, 1);
    put(o, b, 2 + n);
}

static void put_named(optbuf *o, int idx, uint8_t code, int i)
{
    lua_State *L = o->L;
    char what[32];
    for (size_t j = 0; KIND_NAMES[j]; j++)
        if (KIND_CODES[j] == code)
            snprintf(what, sizeof what, "option %d (%s)", i, KIND_NAMES[j]);
    uint8_t b[2 + 8 * PKT_SACK_MAX] = {code, 0};
    switch (code) {
    case TCP_KIND_MSS: {
        uint32_t v = int_field(L, idx, "mss", UINT16_MAX, true, o->where, what);
        b[1] = 4, b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
        break;
    }
    case TCP_KIND_WSCALE:
        b[1] = 3, b[2] = (uint8_t)int_field(L, idx, "wscale", UINT8_MAX, true, o->where, what);
        break;
    case TCP_KIND_SACK_PERM:
        b[1] = 2;
        break;
    case TCP_KIND_TS:
        b[1] = 10;
        be32(b + 2, int_field(L, idx, "val", UINT32_MAX, true, o->where, what));
        be32(b + 6, int_field(L, idx, "ecr", UINT32_MAX, true, o->where, what));
        break;
    case TCP_KIND_SACK: {
        uint32_t blocks[PKT_SACK_MAX][2];
        uint8_t n;
        lua_getfield(L, idx, "blocks");
        read_blocks(L, lua_gettop(L), o->where, blocks, &n);
        lua_pop(L, 1);
        for (uint8_t k = 0; k < n; k++)
            be32(b + 2 + 8 * k, blocks[k][0]), be32(b + 6 + 8 * k, blocks[k][1]);
        b[1] = (uint8_t)(2 + 8 * n);
        break;
    }
    default: /* eol, nop */
        put(o, b, 1);
        return;
    }
    put(o, b, b[1]);
}

static size_t from_list(lua_State *L, int idx, const char *where, uint8_t *out)
{
    optbuf o = {L, where, out, 0};
    lua_Integer n = luaL_len(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* only 1..n: a named field beside them is a mix-up */
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            luaL_error(L,
                       "%s: TCP options are either named fields {mss = 1460, ...} or a list "
                       "of option tables {{kind = \"mss\", mss = 1460}, ...}, not both",
                       where);
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        int el = lua_gettop(L);
        if (!lua_istable(L, el))
            luaL_error(L, "%s: option %d must be a table {kind = ...}, got %s", where, (int)i,
                       luaL_typename(L, el));
        bool named;
        uint8_t code = kind_code(L, el, where, (int)i, &named);
        char w[96];
        snprintf(w, sizeof w, "%s (option %d)", where, (int)i);
        lsim_opts_check(L, el, w, named ? kind_keys(code) : kind_keys(255));
        if (named)
            put_named(&o, el, code, (int)i);
        else
            put_raw(&o, el, code, (int)i);
        lua_pop(L, 1);
    }
    return o.len;
}

size_t lsim_tcpopt_check(lua_State *L, int idx, const char *where, uint8_t *out)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return from_string(L, idx, where, out);
    case LUA_TTABLE:
        lua_rawgeti(L, idx, 1);
        bool list = !lua_isnil(L, -1);
        lua_pop(L, 1);
        return list ? from_list(L, idx, where, out) : from_fields(L, idx, where, out);
    default:
        return (size_t)luaL_error(L,
                                  "%s: opts must be a string \"<mss 1460,nop,wscale 7>\" or a "
                                  "table {mss = 1460, ...}, got %s",
                                  where, luaL_typename(L, idx));
    }
}

/* ---- pushing option bytes back ---- */

static void push_one(lua_State *L, const uint8_t *b, size_t n)
{
    lua_createtable(L, 0, 3);
    const char *name = NULL;
    for (size_t j = 0; KIND_NAMES[j]; j++)
        if (KIND_CODES[j] == b[0])
            name = KIND_NAMES[j];
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushinteger(L, b[0]);
    lua_setfield(L, -2, "kind");
    if (b[0] == TCP_KIND_MSS) {
        lua_pushinteger(L, b[2] << 8 | b[3]);
        lua_setfield(L, -2, "mss");
    } else if (b[0] == TCP_KIND_WSCALE) {
        lua_pushinteger(L, b[2]);
        lua_setfield(L, -2, "wscale");
    } else if (b[0] == TCP_KIND_TS) {
        lua_pushinteger(L, get32(b + 2));
        lua_setfield(L, -2, "val");
        lua_pushinteger(L, get32(b + 6));
        lua_setfield(L, -2, "ecr");
    } else if (b[0] == TCP_KIND_SACK) {
        lua_createtable(L, (int)(n - 2) / 8, 0);
        for (size_t k = 2; k + 8 <= n; k += 8) {
            lua_createtable(L, 2, 0);
            lua_pushinteger(L, get32(b + k));
            lua_rawseti(L, -2, 1);
            lua_pushinteger(L, get32(b + k + 4));
            lua_rawseti(L, -2, 2);
            lua_rawseti(L, -2, (lua_Integer)(k - 2) / 8 + 1);
        }
        lua_setfield(L, -2, "blocks");
    } else if (!name) {
        lua_pushlstring(L, (const char *)b + 2, n - 2);
        lua_setfield(L, -2, "data");
    }
}

void lsim_tcpopt_push(lua_State *L, const uint8_t *bytes, size_t len)
{
    lua_createtable(L, 4, 0);
    lua_Integer i = 0;
    for (size_t at = 0; at < len;) {
        size_t n = pkt_opt_len(bytes + at, len - at);
        if (n == 0) { /* the rest cannot be split into options */
            lua_createtable(L, 0, 2);
            lua_pushliteral(L, "malformed");
            lua_setfield(L, -2, "kind");
            lua_pushlstring(L, (const char *)bytes + at, len - at);
            lua_setfield(L, -2, "data");
            lua_rawseti(L, -2, ++i);
            return;
        }
        push_one(L, bytes + at, n);
        lua_rawseti(L, -2, ++i);
        at += n;
    }
}

void lsim_tcpopt_push_text(lua_State *L, const uint8_t *bytes, size_t len)
{
    if (len == 0) {
        lua_pushliteral(L, "");
        return;
    }
    pkt_opts o;
    memset(&o, 0, sizeof o);
    o.len = (uint8_t)(len < PKT_OPT_BYTES ? len : PKT_OPT_BYTES);
    memcpy(o.bytes, bytes, o.len);
    char text[400];
    lua_pushfstring(L, "<%s>", pkt_opts_format(&o, text, sizeof text));
}
