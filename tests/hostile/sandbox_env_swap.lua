-- swapping _ENV does not reach the host
-- expect: exit 0
local e = { expect = expect }
local function f() local _ENV = e return io end
expect(f()):equals(nil)
