-- string.dump is absent
-- expect: exit 2
-- expect-error: sandbox_string_dump.lua:4: attempt to call a nil value (field 'dump')
local f = string.dump(print)
