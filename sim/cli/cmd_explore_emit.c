/*
 * cmd_explore_emit — `tcpsim explore --emit-scenario DIR`: writes a shrunk
 * failing schedule out as a plain Lua scenario that fails the same way
 * with no --schedule. The file is the scenario as it was, below a prelude
 * that makes each fault an explicit link rule (drop_next, duplicate_next,
 * hold_next) as its link is made, and asks tcpsim run to check the
 * explorer's invariants (tcpsim.new's schedule = "-" and settle).
 *
 * What it promises: the same run gives the same file, byte for byte; a
 * fault is named by what a rule can see (sender, flags, length, and which
 * such segment it is), so the file reads without the explorer. Whether it
 * does fail the same way is checked by running it (cmd_explore.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explore.h"

/* Writes text as a Lua string literal. */
static void put_str(FILE *f, const char *text)
{
    fputc('"', f);
    for (const char *c = text; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', f);
        fputc(*c == '\n' ? ' ' : *c, f);
    }
    fputc('"', f);
}

/* One line of FAULTS: the fault of schedule item i, described by the run. */
static void put_fault(FILE *f, const exp_schedule *s, uint32_t i, const exp_fault_desc *d)
{
    char flags[64];
    const char *release = d->kind == EXP_DELAY ? d->from : d->to;
    fprintf(f, "  -- decision point %u: simulation %u, link %u, %s > %s\n", (unsigned)s->f[i].point,
            (unsigned)d->net + 1, (unsigned)d->link + 1, d->from, d->to);
    fprintf(f, "  { sim = %u, link = %u, fault = \"%s\", from = ", (unsigned)d->net + 1,
            (unsigned)d->link + 1, exp_kind_name((exp_kind)d->kind));
    put_str(f, d->from);
    if (d->flags)
        fprintf(f, ", flags = \"%s\"", tcp_flags_str(d->flags, flags, sizeof flags));
    fprintf(f, ", len = %u, nth = %u", (unsigned)d->len, (unsigned)d->nth);
    if (d->kind == EXP_DELAY || d->kind == EXP_REORDER) {
        fprintf(f, ", release_on = ");
        put_str(f, release);
    }
    fprintf(f, " },\n");
}

static const char PRELUDE[] =
    "\n"
    "-- tcpsim.new, wrapped: each link gets its faults as it is made, as rules\n"
    "-- made with last = true: they come after the scenario's own rules, so they\n"
    "-- see and count only the segments those let pass. A held segment's release\n"
    "-- is a last hook too, made before the faults, so it sees every such segment.\n"
    "local HELD = {}\n"
    "do\n"
    "  local new, sims = tcpsim.new, 0\n"
    "  local RULE = { drop = \"drop_next\", dup = \"duplicate_next\" }\n"
    "  local function add_rules(sim, index, nlink, link, a, b)\n"
    "    local host = function(name) return a.name == name and a or b end\n"
    "    local ours = {}\n"
    "    for _, f in ipairs(FAULTS) do\n"
    "      if f.sim == index and f.link == nlink then ours[#ours + 1] = f end\n"
    "    end\n"
    "    for _, f in ipairs(ours) do -- delay, reorder: released by the next segment from "
    "release_on\n"
    "      if not RULE[f.fault] then\n"
    "        local due = false\n"
    "        link:hook(function()\n"
    "          if f.rule and f.rule.held > 0 and not due then\n"
    "            due = true\n"
    "            sim:after(0, function() f.rule:release() end)\n"
    "          end\n"
    "        end, { from = host(f.release_on), last = true })\n"
    "      end\n"
    "    end\n"
    "    for _, f in ipairs(ours) do\n"
    "      local match = { from = host(f.from), flags = f.flags, exact = true, len = f.len,\n"
    "                      nth = f.nth, last = true }\n"
    "      if RULE[f.fault] then\n"
    "        link[RULE[f.fault]](link, match)\n"
    "      else\n"
    "        f.rule = link:hold_next(match)\n"
    "        HELD[#HELD + 1] = f.rule\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  tcpsim.new = function(opts)\n"
    "    sims = sims + 1\n"
    "    local o, index, links = {}, sims, 0\n"
    "    for k, v in pairs(opts or {}) do o[k] = v end\n"
    "    if index == 1 then o.schedule, o.settle = CHECK.schedule, CHECK.settle end\n";

/* tcpsim swarm: the seed of the run, for every simulation. */
static const char PRELUDE_SEED[] = "    o.seed, o.swarm = SWARM.seed, nil\n";

static const char PRELUDE_LINK[] = "    local sim = new(o)\n"
                                   "    local proxy = {}\n"
                                   "    function proxy:link(a, b, options)\n"
                                   "      local link = sim:link(a, b, options)\n"
                                   "      links = links + 1\n";

/* tcpsim swarm: the link knobs, as link:set right after the link is made. */
static const char PRELUDE_KNOBS[] = "      link:set(SWARM.link)\n";

static const char PRELUDE_END[] =
    "      add_rules(sim, index, links, link, a, b)\n"
    "      return link\n"
    "    end\n"
    "    -- sim:method(...) and sim.fn(...) both reach the simulation\n"
    "    return setmetatable(proxy, {\n"
    "      __index = function(_, k)\n"
    "        local v = sim[k]\n"
    "        if type(v) ~= \"function\" then return v end\n"
    "        return function(self, ...)\n"
    "          if rawequal(self, proxy) then return v(sim, ...) end\n"
    "          return v(self, ...)\n"
    "        end\n"
    "      end,\n"
    "      __tostring = function() return tostring(sim) end,\n"
    "    })\n"
    "  end\n"
    "end\n"
    "\n"
    "-------------------------------------------------- the scenario, as it was\n"
    "local ok, err = pcall(function(...)\n";

/* After the scenario: what is still held goes on, as the explorer lets it
 * before the run settles; then the scenario's error, if any. */
static const char EPILOGUE[] =
    "\n"
    "end, ...)\n"
    "-------------------------------------------------- the scenario's end\n"
    "-- Segments still held go on now, as under the explorer.\n"
    "for _, rule in ipairs(HELD) do rule:release() end\n"
    "if not ok then error(err, 0) end\n";

static void put_header(FILE *f, const cli_emit *e, const char *name)
{
    char sched[256];
    exp_schedule_format(&e->run->sched, sched, sizeof sched);
    fprintf(f, "-- %s: tcpsim %s found that %s fails the invariant '%s'\n", name,
            e->knobs ? "swarm" : "explore", e->file, e->inv);
    fprintf(f, "--   %s\n", e->msg);
    if (e->knobs)
        fprintf(f,
                "-- with seed %llu, the link knobs %s and the schedule %s (shrunk from %s);\n"
                "-- its replay line:\n",
                (unsigned long long)e->seed, strcmp(e->knobs_text, "-") ? e->knobs_text : "(none)",
                sched, e->first);
    else
        fprintf(f, "-- under the schedule %s (shrunk from %s); its replay line:\n", sched,
                e->first);
    fprintf(f, "--   %s\n", e->replay);
    fprintf(f,
            "-- This file is that scenario with the faults written out as link rules%s, so it\n"
            "-- fails the same way with no --schedule:\n",
            e->knobs ? " (and the seed and knobs as options)" : "");
    fprintf(f, "--   %s\n", e->run_line);
    fprintf(f, "-- Each rule is made with its link and comes after the scenario's own rules\n"
               "-- (last = true). It acts on one segment: the nth with exactly these flags and\n"
               "-- this payload length that its sender puts on the link and no earlier rule\n"
               "-- takes.\n");
}

static int put_file(FILE *f, const cli_emit *e, const char *name, const char *body)
{
    put_header(f, e, name);
    fprintf(f, "local FAULTS = {\n");
    for (uint32_t i = 0; i < e->run->sched.n; i++)
        put_fault(f, &e->run->sched, i, &e->run->desc[i]);
    fprintf(f, "}\n\n-- tcpsim run checks the explorer's invariants after the run, as with\n"
               "-- --schedule (the faults are the rules above: the schedule is empty).\n");
    fprintf(f, "local CHECK = { schedule = \"-\"");
    if (e->settle) {
        fprintf(f, ", settle = ");
        put_str(f, e->settle);
    }
    fprintf(f, " }\n");
    if (e->knobs)
        fprintf(f,
                "\n-- tcpsim swarm's seed, and the knobs every link gets as it is made.\n"
                "local SWARM = { seed = %llu, link = { %s } }\n",
                (unsigned long long)e->seed, e->knobs);
    fputs(PRELUDE, f);
    if (e->knobs)
        fputs(PRELUDE_SEED, f);
    fputs(PRELUDE_LINK, f);
    if (e->knobs)
        fputs(PRELUDE_KNOBS, f);
    fputs(PRELUDE_END, f);
    if (body[0] == '#') /* a first line "#!..." is valid only at the top */
        fputs("--", f);
    fputs(body, f);
    fputs(EPILOGUE, f);
    return ferror(f) ? -1 : 0;
}

/* The whole file at path, NUL-terminated (NULL, message printed). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tcpsim: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "tcpsim: out of memory\n");
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

int cli_explore_emit(const cli_emit *e)
{
    char *body = slurp(e->file);
    if (!body)
        return -1;
    const char *name = strrchr(e->path, '/');
    name = name ? name + 1 : e->path;
    FILE *f = fopen(e->path, "w");
    int rc = f ? put_file(f, e, name, body) : -1;
    if ((f && fclose(f) != 0) || rc != 0) {
        fprintf(stderr, "tcpsim: cannot write %s: %s\n", e->path, strerror(errno));
        rc = -1;
    }
    free(body);
    return rc;
}
