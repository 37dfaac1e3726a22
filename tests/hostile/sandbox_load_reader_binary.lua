-- a reader function handing load bytecode is refused
-- expect: exit 0
local parts = {'\27Lua', '\x54\0'}
local i = 0
local f, e = load(function() i = i + 1 return parts[i] end)
expect(f):equals(nil)
