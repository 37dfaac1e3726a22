-- the count hook stops the run at the wall-clock limit; the finalizers lua_close runs afterwards
-- may spend longer than the hard stop's second inside one C call (here a backtracking
-- string.find): the hard stop still ends the process, but the run's one error line stays the
-- only one
-- command: run {file} --quiet --max-wall 1s
-- expect: exit 2
-- expect-error: wall-clock limit of 1000 ms reached (raise it with --max-wall)
-- expect-not: inside a library call
-- valgrind: skip its point is the hard stop's second after the limit, a race with memcheck's slowdown
local kept = setmetatable({}, { -- held: finalized by lua_close only
    __gc = function()
        local s = string.rep("a", 40000)
        return s:find(string.rep("a*", 30) .. "b")
    end,
})
while kept do end
