-- a run stopped by the wall-clock limit's hard stop (time spent inside one library call) leaves no
-- output of an earlier run under the names it was asked to write, as any other failed run
-- command: run {file} --quiet --max-wall 1s --trace-out {tmp}/t.json --pcap {tmp}/x.pcap
-- stale: {tmp}/t.json
-- expect: exit 2
-- expect-error: wall-clock limit of 1000 ms reached inside a library call
-- valgrind: skip its point is one C call outliving the limit by the hard stop's second, a race with memcheck's slowdown of the count hook
local sim = tcpsim.new {}
local s = string.rep("a", 40000)
print(s:find(string.rep("a*", 30) .. "b"))
