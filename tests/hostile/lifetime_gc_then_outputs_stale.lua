-- __gc by hand, then outputs are asked for: a failed run (exit 2) that, as every failed run,
-- leaves no output of an earlier run under the names it was asked to write
-- command: run {file} --quiet --unsafe --pcap {tmp}/out.pcap --svg {tmp}/out.svg
-- stale: {tmp}/out.pcap {tmp}/out.svg
-- expect: exit 2
-- expect-error: was freed by the scenario: no outputs
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
debug.getmetatable(sim).__gc(sim)
