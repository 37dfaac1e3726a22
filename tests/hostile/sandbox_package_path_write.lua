-- package.path is not read: writing it opens nothing
-- expect: exit 0
package.path = '/etc/?;/etc/?.conf;/proc/self/?'
local ok, e = pcall(require, 'passwd')
expect(ok):equals(false)
local ok2 = pcall(require, 'hostname')
expect(ok2):equals(false)
