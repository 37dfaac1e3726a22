-- at most 1024 simulations per scenario
-- expect: exit 2
-- expect-error: limit_many_sims.lua:4: tcpsim.new: at most 1024 simulations per scenario
for i = 1, 2000 do tcpsim.new {} end
