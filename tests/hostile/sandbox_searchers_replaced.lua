-- a script's own searcher can only load text
-- expect: exit 0
package.searchers[3] = function(n) return load('\27Lua', n) end
local ok, e = pcall(require, 'nothing_here')
expect(ok):equals(false)
