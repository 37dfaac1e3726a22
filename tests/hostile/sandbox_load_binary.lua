-- load refuses a binary chunk whatever the mode asked
-- expect: exit 0
local f, e = load('\27Lua\x54\0\x19\x93\r\n\x1a\n', 'x', 'b')
expect(f):equals(nil)
expect(e):equals("attempt to load a binary chunk (mode is 't')")
