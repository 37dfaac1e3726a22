-- an infinite duration (math.huge) is refused as not a duration, without
-- offering "infms" as the way to write it
-- expect: exit 2
-- expect-error: options_user_timeout_huge.lua:8: socket:setopt option 'user_timeout': expected a duration ("50ms", "2min"), got a number that is not finite
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80):setopt { user_timeout = math.huge }
