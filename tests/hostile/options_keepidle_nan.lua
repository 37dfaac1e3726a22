-- a duration given as a number that is not one (0/0) is refused as not a
-- duration, without offering "nanms" as the way to write it
-- expect: exit 2
-- expect-error: options_keepidle_nan.lua:9: host:connect option 'keepidle': expected a duration ("50ms", "2min"), got a number that is not finite
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80, { keepidle = 0 / 0 })
