-- --sim past the simulations the scenario made is a failed run (exit 2) and, as every failed run,
-- leaves no output of an earlier run under the names it was asked to write
-- command: run {file} --quiet --sim 2 --pcap {tmp}/x.pcap --svg {tmp}/l.svg
-- stale: {tmp}/x.pcap {tmp}/l.svg
-- expect: exit 2
-- expect-error: --sim 2: the scenario made 1 simulation
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
sim:run "1s"
