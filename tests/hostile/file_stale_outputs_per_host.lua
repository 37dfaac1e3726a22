-- a failed run leaves none of the captures an earlier run wrote under the names --pcap x.pcap
-- gives (one per host, one per simulation: x.A.pcap, x.sim2.pcap, x.sim2.B.pcap), though this
-- run never made the hosts that name them; files outside that naming are kept
-- command: run {file} --quiet --pcap {tmp}/x.pcap --pcapng {tmp}/x.pcapng --svg {tmp}/l.svg
-- stale: {tmp}/x.pcap {tmp}/x.A.pcap {tmp}/x.host-2_b.pcap {tmp}/x.sim2.pcap {tmp}/x.sim2.B.pcap {tmp}/x.C.pcapng {tmp}/l.sim3.svg
-- kept: {tmp}/x.A.pcapng.txt {tmp}/y.A.pcap {tmp}/x.A.B.pcap {tmp}/x.a.b.pcap {tmp}/x.A.svg {tmp}/x..pcap {tmp}/l.A.svg
-- expect: exit 2
-- expect-error: removed
local sim = tcpsim.new {}
error("the run fails before making a host")
