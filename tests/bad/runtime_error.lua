-- Calling something that does not exist.
-- expect-exit: 2
-- expect-error: attempt to call a nil value
local sim = tcpsim.new {}
local f = nil; f()
