/*
 * lsim_sched — the `schedule` and `settle` options of tcpsim.new: a
 * scenario carries its own fault schedule (the explorer's text form,
 * "7:drop,12:dup"; "-" for none, which still checks the invariants) and
 * the time its run may settle before they are checked. The runtime only
 * hands them on (lsim_config.on_schedule): the command that steers runs
 * applies them, as it does `tcpsim run --schedule`.
 */
#include <string.h>

#include "lsim.h"

void lsim_schedule_opts(lua_State *L, int idx)
{
    const char *text = lsim_opt_string(L, idx, "schedule", NULL, "tcpsim.new");
    bool has_settle = lua_getfield(L, idx, "settle") != LUA_TNIL;
    lua_pop(L, 1);
    if (!text) {
        if (has_settle)
            luaL_error(L, "tcpsim.new: settle is the settling time of a schedule: give schedule "
                          "too (\"-\" for no faults)");
        return;
    }
    uint64_t settle =
        has_settle ? lsim_opt_duration(L, idx, "settle", 0, "tcpsim.new") : UINT64_MAX;
    const lsim_config *cfg = lsim_config_of(L);
    if (!cfg->on_schedule)
        luaL_error(L, "tcpsim.new: schedule: this command runs no schedules (tcpsim run and "
                      "tcpsim explore do)");
    char err[256] = "";
    if (cfg->on_schedule(cfg->on_net_ctx, text, settle, err, sizeof err) != 0)
        luaL_error(L, "tcpsim.new: schedule '%s': %s", text, err);
}
