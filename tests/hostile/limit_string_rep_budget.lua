-- string.rep within size_t but past --max-memory
-- command: run {file} --quiet --max-memory 64MiB
-- expect: exit 2
-- expect-error: limit_string_rep_budget.lua:5: memory limit of 64 MiB reached (not enough memory; raise it w
local s = string.rep('x', 200 * 1024 * 1024)
