-- a 50 MB transfer grows the run log inside one sim:run_for, where no Lua code runs: the event
-- loop looks at the memory the run holds too, and stops the run with the budget named at the line
-- that ran it
-- command: run {file} --quiet --max-memory 24MiB
-- expect: exit 2
-- expect-error: limit_memory_c_in_loop.lua:16: memory limit of 24 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 24
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms", bandwidth = "1Gbps" })
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
sim:run_for "100ms"
server:accept()
client:send(50 * 1000 * 1000)
sim:run_for "1000s"
expect(1):equals(1)
