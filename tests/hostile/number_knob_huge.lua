-- a profile knob of 2^63: a duration the RTO cannot hold, refused with the bound and the value
-- expect: exit 2
-- expect-error: number_knob_huge.lua:4: tcpsim.new: rto_initial must be at most 1h
tcpsim.new { rto_initial = tcpsim.ns(math.maxinteger) }
expect(1):equals(1)
