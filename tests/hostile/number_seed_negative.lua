-- seed -1
-- expect: exit 2
-- expect-error: number_seed_negative.lua:4: tcpsim.new: seed must be in [0,9223372036854775807], got -1
tcpsim.new { seed = -1 }
