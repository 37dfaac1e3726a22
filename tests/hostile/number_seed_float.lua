-- seed 1.5
-- expect: exit 2
-- expect-error: number_seed_float.lua:4: tcpsim.new: seed must be an integer, got 1.5
tcpsim.new { seed = 1.5 }
