-- A profile that does not exist.
-- expect-exit: 2
-- expect-error: unknown profile 'windows'
local sim = tcpsim.new { profile = "windows" }
