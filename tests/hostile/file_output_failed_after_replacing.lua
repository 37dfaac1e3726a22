-- an earlier run's file replaced by this run's output, and a later output failing: the file removed is
-- this run's (outputs are renamed into place), so the message does not blame an earlier run
-- command: run {file} --quiet --pcap {tmp}/a.pcap --svg {tmp}/no/such/dir/l.svg
-- stale: {tmp}/a.pcap
-- expect: exit 2
-- expect-error: a.pcap, begun by this run before it failed
-- expect-not: left by an earlier run
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run_for "1s"
expect(c):state "ESTABLISHED"
