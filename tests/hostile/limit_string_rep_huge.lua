-- string.rep past the memory budget is refused
-- expect: exit 2
-- expect-error: limit_string_rep_huge.lua:4: resulting string too large
local s = string.rep('x', 1 << 40)
