-- a failed run removes only the outputs it was asked for, by their exact names: files that merely
-- look like an earlier run's per-host or per-simulation outputs (x.A.pcap, x.sim2.pcap) are kept,
-- since nothing proves this command wrote them; above all the scenario beside a capture named
-- without an extension (--pcap s beside s.lua) and a user's x.orig.pcap beside --pcapng x.pcap
-- command: run {file} --quiet --pcap {tmp}/s --pcapng {tmp}/x.pcap --svg {tmp}/l.svg
-- stale: {tmp}/s {tmp}/x.pcap {tmp}/l.svg
-- kept: {tmp}/s.lua {tmp}/s.A {tmp}/s.sim2 {tmp}/x.orig.pcap {tmp}/x.A.pcap {tmp}/x.host-2_b.pcap {tmp}/x.sim2.pcap {tmp}/x.sim2.B.pcap {tmp}/l.sim3.svg {tmp}/x.A.pcapng.txt {tmp}/y.A.pcap {tmp}/x.A.B.pcap {tmp}/x..pcap
-- expect: exit 2
-- expect-error: removed
local sim = tcpsim.new {}
error("the run fails before making a host")
