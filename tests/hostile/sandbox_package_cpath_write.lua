-- package.cpath is never searched
-- expect: exit 0
package.cpath = '/usr/lib/x86_64-linux-gnu/?.so'
local ok = pcall(require, 'liblua5.4')
expect(ok):equals(false)
