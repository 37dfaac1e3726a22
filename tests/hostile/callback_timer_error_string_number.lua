-- a timer raising a number
-- expect: exit 2
-- expect-error: callback_timer_error_string_number.lua:7: 42
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim:after('1s', function() error(42) end)
sim:run()
