-- A misspelt profile name is answered with the nearest one.
-- expect-exit: 2
-- expect-error: did_you_mean_profile.lua:5: sim:host: unknown profile 'bds'; did you mean 'bsd'?
local sim = tcpsim.new {}
sim:host { name = "A", profile = "bds" }
