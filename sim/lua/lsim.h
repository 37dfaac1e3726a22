/*
 * lsim — the Lua scenario runtime: the only code that joins the event core,
 * the TCP stack and Lua.
 *
 * Object model (what each Lua value is):
 *  - a simulation (metatable "tcpsim.sim") owns one sim_world, one rlog, its
 *    hosts (each with one tcp_stack) and a record per socket;
 *  - hosts, links and sockets seen from Lua are handles {sim, index}: the
 *    userdata keeps its simulation alive (user value 1) and never holds a raw
 *    pointer to anything the simulation may free.
 *
 * Re-entrancy: the stack reports events synchronously; nothing here calls
 * Lua from inside a stack call. State-change callbacks are queued and run
 * with lua_pcall after the stack call returns. Lua code run from inside the
 * event loop (callbacks, fault predicates, timers) always runs under
 * lua_pcall; an error stops the world and is re-raised once sim:run returns,
 * so no longjmp ever crosses the core or the stack.
 */
#ifndef LSIM_H
#define LSIM_H

#include <lua.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>

#include "rlog.h"
#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"
#include "tcp.h"

#define LSIM_SIM  "tcpsim.sim"
#define LSIM_HOST "tcpsim.host"
#define LSIM_LINK "tcpsim.link"
#define LSIM_SOCK "tcpsim.socket"
#define LSIM_HELD "tcpsim.held"

typedef struct lsim lsim;

typedef struct lsim_trace_step {
    uint64_t time_ns;
    tcp_state state;
    tcp_cause cause;
    char note[32];
} lsim_trace_step;

/* What the runtime remembers of one socket, for its whole life and after. */
typedef struct lsim_sock {
    uint32_t host;
    tcp_sock_id id;
    uint32_t parent; /* index of the listener's record, or UINT32_MAX */
    tcp_state state;
    bool alive;    /* the stack still has the connection */
    bool released; /* close/abort called: no more user calls */
    bool autoread;
    bool accepted; /* handed out by accept() */
    int error;
    uint16_t lport, rport; /* remembered once known */
    uint32_t raddr;
    tcp_stats stats; /* last known counters (kept after reclaim) */
    lsim_trace_step *trace;
    uint32_t ntrace, captrace;
    char *rx; /* bytes read so far */
    size_t nrx, caprx;
    char *tx; /* bytes given to send() not yet taken by the stack */
    size_t ntx, offtx;
    bool close_pending, shutdown_pending; /* wait for tx to drain */
    int on_state_ref;                     /* LUA_NOREF or a registry ref */
} lsim_sock;

typedef struct lsim_host {
    lsim *sim;
    uint32_t index;
    sim_host *host;
    tcp_stack *stack; /* NULL while crashed */
    sim_timer timer;  /* one timer per stack: its next deadline */
    sim_rng rng;      /* ISNs and ports */
    tcp_profile profile;
    bool mss_knob;     /* the scenario set the profile's mss: it wins over the MTU */
    uint32_t *sockmap; /* stack socket id -> socket record index (UINT32_MAX none) */
    uint32_t nsockmap;
    uint32_t incarnation;
} lsim_host;

/* A queued Lua callback (state change) to run after the stack call. */
typedef struct lsim_pending {
    uint32_t sock;
    tcp_state from, to;
} lsim_pending;

/* A rule aimed at segments on one link direction (drop_next and friends). */
typedef enum lsim_rule_action {
    LSIM_RULE_DROP,
    LSIM_RULE_DUPLICATE,
    LSIM_RULE_DELAY,
    LSIM_RULE_HOLD,
    LSIM_RULE_HOOK /* a general Lua hook: match_ref returns the verdict */
} lsim_rule_action;

typedef struct lsim_rule {
    uint32_t link;
    int dir; /* -1: both */
    lsim_rule_action action;
    uint8_t flags_all;   /* these flags must be set */
    uint8_t flags_exact; /* with exact: flags (less PSH) must equal this */
    bool exact;
    int64_t len;    /* payload length to match, -1 any */
    uint32_t skip;  /* matches to let pass first (nth - 1) */
    uint32_t count; /* matches to act on; 0 = rule spent */
    uint64_t delay_ns;
    uint32_t copies;
    int when_ref;  /* LUA_NOREF or predicate() */
    int match_ref; /* LUA_NOREF or predicate(segment) */
    uint32_t fired;
    uint32_t *held; /* ids of packets this rule holds */
    uint32_t nheld, capheld;
} lsim_rule;

struct lsim {
    lua_State *L;
    sim_world *world;
    rlog *log;
    uint64_t seed;
    tcp_profile profile;
    bool mss_knob;     /* tcpsim.new{} set mss */
    lsim_host **hosts; /* each allocated on its own: timers are embedded */
    uint32_t nhosts, caphosts;
    lsim_sock **sockchunks; /* records in chunks: their addresses never change */
    uint32_t nsocks, capchunks;
    lsim_pending *pending;
    uint32_t npending, cappending;
    lsim_rule *rules;
    uint32_t nrules, caprules;
    int in_stack;    /* > 0 while a stack call is under way */
    int in_hook;     /* > 0 while Lua runs inside the event loop */
    bool failed;     /* a Lua error inside the loop stopped the world */
    bool in_pending; /* run_pending is under way */
    int error_ref;   /* the error value to re-raise */
    bool closed;
};

/* ---- lsim_world.c ---- */
/* Grows an array to hold `need` elements (aborts on out-of-memory). */
void *lsim_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
lsim *lsim_check(lua_State *L, int idx);
void lsim_open_sim(lua_State *L);
/* Calls into the stack of host h must be wrapped by these two. */
void lsim_stack_enter(lsim *s);
void lsim_stack_leave(lsim *s, lsim_host *h);
/* Runs Lua function at the top of the stack (nargs args) under pcall from
 * inside the loop; on error stops the world. Returns true on success
 * (results left on the stack as nres values), false on error. */
bool lsim_call_in_loop(lsim *s, int nargs, int nres);
lsim_host *lsim_host_of(lua_State *L, int idx, lsim **out_sim);
void lsim_push_host(lua_State *L, int sim_idx, uint32_t host);
void lsim_check_no_reentry(lua_State *L, lsim *s, const char *what);
/* The MSS a new connection of h uses: its interface MTU (the smallest MTU
 * of the links leaving h) - 40; 0 when the scenario set the mss knob or h
 * has no link yet (the profile's value stands). */
uint16_t lsim_host_iface_mss(const lsim_host *h);
/* The error that stopped s's world and has not been raised yet, or NULL. */
const char *lsim_unraised_error(lsim *s);

/* ---- lsim_sock.c ---- */
int lsim_host_listen(lua_State *L);  /* host:listen */
int lsim_host_connect(lua_State *L); /* host:connect */
void lsim_open_sock(lua_State *L);
uint32_t lsim_sock_record(lsim *s, uint32_t host, tcp_sock_id id, uint32_t parent, tcp_state st);
void lsim_push_sock(lua_State *L, int sim_idx, uint32_t sock);
lsim_sock *lsim_sock_check(lua_State *L, int idx, lsim **out_sim);
void lsim_sock_on_event(lsim *s, lsim_host *h, const tcp_event *ev);
void lsim_sock_drain(lsim *s, lsim_sock *k);
/* Autoread, and feeding queued send data / deferred close to the stack. */
void lsim_sock_service(lsim *s, lsim_sock *k);
#define LSIM_SOCK_CHUNK 256u
static inline lsim_sock *lsim_sock_at(const lsim *s, uint32_t i)
{
    return &s->sockchunks[i / LSIM_SOCK_CHUNK][i % LSIM_SOCK_CHUNK];
}
void lsim_sock_free_all(lsim *s);

/* ---- lsim_link.c ---- */
int lsim_sim_link(lua_State *L); /* sim:link */
void lsim_open_link(lua_State *L);
void lsim_push_link(lua_State *L, int sim_idx, uint32_t link);
sim_link *lsim_link_check(lua_State *L, int idx, lsim **out_sim);
void lsim_link_install(lsim *s, sim_link *l);
/* Pushes a table describing the packet with id `packet_id` (from the log). */
void lsim_push_segment(lua_State *L, const lsim *s, size_t send_entry);
/* Pushes a list of "A>B SYN,ACK" strings, one per segment sent on the link
 * (" X" appended when it was dropped), in order. */
void lsim_link_push_exchange(lua_State *L, const lsim *s, uint32_t link);
void lsim_rules_free(lsim *s);

/* ---- lsim_expect.c ---- */
void lsim_open_expect(lua_State *L);
/* Expectations checked and failed in this Lua state. */
void lsim_expect_counts(lua_State *L, long *checked, long *failed);

/* ---- lsim_opts.c: option tables ---- */
/* Raises "unknown option 'x' in WHERE (expected one of: ...)" for any key of
 * the table at idx not in `allowed` (NULL-terminated). */
void lsim_opts_check(lua_State *L, int idx, const char *where, const char *const *allowed);
/* Reads a duration field (string "50ms" or integer ns); returns def if absent. */
uint64_t lsim_opt_duration(lua_State *L, int idx, const char *key, uint64_t def, const char *where);
uint64_t lsim_check_duration(lua_State *L, int arg, const char *where);
uint32_t lsim_opt_prob(lua_State *L, int idx, const char *key, uint32_t def, const char *where);
int64_t lsim_opt_int(lua_State *L, int idx, const char *key, int64_t def, int64_t lo, int64_t hi,
                     const char *where);
bool lsim_opt_bool(lua_State *L, int idx, const char *key, bool def, const char *where);
const char *lsim_opt_string(lua_State *L, int idx, const char *key, const char *def,
                            const char *where);
/* Applies profile knob overrides found in the table at idx. */
void lsim_profile_apply(lua_State *L, int idx, tcp_profile *p, const char *where);
/* Names of the profile knobs accepted in option tables, NULL-terminated. */
const char *const *lsim_profile_knobs(void);
int lsim_parse_ipv4(const char *text, uint32_t *out);
void lsim_format_ipv4(uint32_t addr, char *buf, size_t len);

/* ---- lsim_runtime.c: the Lua state, sandbox, limits, running a file ---- */
typedef struct lsim_config {
    const char *file;
    bool seed_set;
    uint64_t seed;
    const char *profile; /* NULL: the scenario's */
    bool unsafe;
    bool check; /* tcp_check on every stack (also on by default in debug builds) */
    const char *lib_paths[16];
    int nlib_paths;
    uint64_t max_instructions;
    uint64_t max_events;
    uint64_t max_time_ns;
    size_t max_memory;
} lsim_config;

/* Global knobs the runtime reads when a scenario creates a simulation. */
const lsim_config *lsim_config_of(lua_State *L);
lua_State *lsim_runtime_new(const lsim_config *cfg);
/* Runs the scenario file; returns 0 on success, 2 on error (message in
 * *err, a static buffer owned by the runtime). */
int lsim_runtime_run(lua_State *L, const char **err);
/* Every simulation the scenario created, in creation order. */
uint32_t lsim_runtime_sims(lua_State *L, lsim **out, uint32_t max);
void lsim_runtime_register_sim(lua_State *L, lsim *s);
/* Reseeds the scenario's math.random stream ("lua") with `seed`. */
void lsim_runtime_reseed(lua_State *L, uint64_t seed);
void lsim_runtime_free(lua_State *L);

#endif
