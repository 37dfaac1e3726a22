-- a run past max_time stops with an error
-- expect: exit 2
-- expect-error: limit_max_time.lua:7: sim:run stopped: virtual time limit of 10s reached at t=10.000
local sim = tcpsim.new { max_time = '10s' }
local function again() sim:after('1s', again) end
sim:after('1s', again)
sim:run()
