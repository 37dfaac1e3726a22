-- a backtracking pattern inside one C call hits the wall-clock stop
-- command: run {file} --quiet --max-wall 2s
-- expect: exit 2
-- expect-error: limit_find_pathological.lua: wall-clock limit of 2000 ms reached inside a library call (ra
local s = string.rep('a', 40000)
local p = string.rep('a*', 30) .. 'b'
print(s:find(p))
