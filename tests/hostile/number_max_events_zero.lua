-- max_events 0
-- expect: exit 2
-- expect-error: number_max_events_zero.lua:4: tcpsim.new: max_events must be in [1,9223372036854775807], g
tcpsim.new { max_events = 0 }
