-- the trace depends on the order next() walks a table of string keys (run by two_runs.sh)
local sim = tcpsim.new {}
local names = {}
for i = 1, 64 do names["host" .. i] = i end
for name in next, names do sim:log(name) end
for name, i in pairs(names) do sim:log(name .. "=" .. i) end
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
a:connect(b, 80)
sim:run_for "1s"
expect(1):equals(1)
