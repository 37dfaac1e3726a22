-- a run stopped by an error leaves no output of an earlier run under the names it was asked to write
-- command: run {file} --quiet --pcap {tmp}/x.pcap
-- stale: {tmp}/x.pcap
-- expect: exit 2
-- expect-error: removed
local sim = tcpsim.new {}
error("the run fails before writing anything")
