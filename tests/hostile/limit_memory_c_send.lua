-- data queued by send() is held in C (the socket's send buffer) until the run moves it: queuing
-- 200 MiB in 1 MiB sends before running is stopped by the memory budget at the send whose buffer
-- growth would pass it (the growth is refused before it is made)
-- command: run {file} --quiet --max-memory 32MiB
-- expect: exit 2
-- expect-error: limit_memory_c_send.lua:17: memory limit of 32 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 32
-- valgrind: skip memcheck replaces malloc, so the counting allocator never runs and the heap is only sampled (every 10 ms), which this loop never reaches
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
local client = a:connect(b, 80)
sim:run_for "10ms"
local chunk = string.rep("z", 1 << 20)
for i = 1, 200 do
  client:send(chunk)
end
expect(1):equals(1)
