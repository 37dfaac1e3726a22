-- a pcap into a missing folder: a clear error
-- command: run {file} --quiet --pcap /nonexistent-dir/x.pcap
-- expect: exit 2
-- expect-error: cannot write pcap /nonexistent-dir/x.pcap: No such file or directory
expect(1):equals(1)
local sim = tcpsim.new {}
