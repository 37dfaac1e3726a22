-- thousands of connections fill the simulator's C memory (socket records, buffers), not Lua's: the
-- memory budget covers them, and the run stops with the budget named
-- command: run {file} --quiet --max-memory 24MiB
-- expect: exit 2
-- expect-error: limit_memory_c_sockets.lua:13: memory limit of 24 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 24
local sim = tcpsim.new {}
local b = sim:host "B"
b:listen(80)
for h = 1, 8 do
  local a = sim:host("A" .. h)
  sim:link(a, b, { delay = "1ms" })
  for i = 1, 5000 do a:connect(b, 80) end
end
expect(1):equals(1)
