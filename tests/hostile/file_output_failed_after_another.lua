-- an output this run wrote before a later one failed is removed like any other, and the message
-- says this run began it: no file was there before the run, so none was "left by an earlier run"
-- command: run {file} --quiet --pcap {tmp}/a.pcap --svg {tmp}/no/such/dir/l.svg
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
