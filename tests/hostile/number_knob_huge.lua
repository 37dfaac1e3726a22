-- a profile knob of 2^63
-- expect: exit 0
tcpsim.new { rto_initial = tcpsim.ns(math.maxinteger) }
expect(1):equals(1)
