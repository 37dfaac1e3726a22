-- A segment filter's time window that ends before it starts.
-- expect-exit: 2
-- expect-error: link:segments: 'before' must come after 'after'
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
local _ = link:segments { after = "2s", before = "1s" }
