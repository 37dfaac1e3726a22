-- a huge log line is kept once, the run goes on
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim:log(string.rep('L', 10 * 1024 * 1024))
sim:run()
expect(1):equals(1)
