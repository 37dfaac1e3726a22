-- loss infinity
-- expect: exit 2
-- expect-error: number_loss_inf.lua:6: sim:link: loss must be in [0,1], got inf
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { loss = math.huge })
