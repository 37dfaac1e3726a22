-- A script that never ends is stopped by the instruction budget.
-- expect-exit: 2
-- expect-error: instruction limit
local n = 0
while true do n = n + 1 end
