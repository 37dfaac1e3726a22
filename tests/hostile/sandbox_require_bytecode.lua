-- require refuses a module file holding bytecode (crafted here, a header only)
-- expect: exit 0
local ok, e = pcall(require, 'hostile_bytecode_module')
expect(ok):equals(false)
expect(tostring(e):find('binary chunk', 1, true) ~= nil):holds('refused as binary')
