-- A misspelt option key is answered with the nearest accepted one.
-- expect-exit: 2
-- expect-error: did_you_mean_option.lua:7: unknown option 'backlg' in host:listen; did you mean 'backlog'?
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80, { backlg = 4 })
