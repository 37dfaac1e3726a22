-- copies = 1e6
-- expect: exit 2
-- expect-error: number_copies_huge.lua:7: link:duplicate_next: copies must be in [1,100], got 1000000
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
link:duplicate_next { copies = 1000000 }
