-- a long gsub loop in Lua hits --max-wall
-- command: run {file} --quiet --max-wall 1s
-- expect: exit 2
-- expect-error: limit_gsub_wall.lua: wall-clock limit of 1000 ms reached inside a library call (raise it w
local s = string.rep('ab', 1e6)
while true do s = s:gsub('a', 'a') end
