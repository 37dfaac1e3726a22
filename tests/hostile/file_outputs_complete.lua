-- every output of a passing run is complete and no temporary file is left beside it
-- command: run {file} --quiet --pcap {tmp}/x.pcap --svg {tmp}/x.svg --trace json --trace-out {tmp}/t.json --state-diagram {tmp}/d.dot
-- check-xml: {tmp}/x.svg
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run_for "1s"
expect(c):state "ESTABLISHED"
