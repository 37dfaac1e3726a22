-- A misspelt option kind in an option list.
-- expect-exit: 2
-- expect-error: link:inject: option 2 has unknown kind 'wscal'; did you mean 'wscale'?
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
link:inject { from = a, flags = "SYN", sport = 1000, dport = 80,
              opts = { { kind = "nop" }, { kind = "wscal", wscale = 7 } } }
