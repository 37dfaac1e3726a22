-- A syntax error: reported with file and line, exit 2.
-- expect-exit: 2
-- expect-error: syntax_error.lua:4:
local x = = 1
