-- __gc by hand, then outputs are asked for
-- command: run {file} --quiet --unsafe --pcap {tmp}/out.pcap --svg {tmp}/out.svg --trace-out {tmp}/t.json --trace json
-- expect: exit 2
-- expect-error: was freed by the scenario: no outputs
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
debug.getmetatable(sim).__gc(sim)
expect(1):equals(1)
