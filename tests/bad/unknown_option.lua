-- A misspelt option is an error, never silently ignored.
-- expect-exit: 2
-- expect-error: unknown option 'dleay' in sim:link
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { dleay = "50ms" })
