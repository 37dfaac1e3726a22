-- no C module can be loaded (no cpath searcher)
-- expect: exit 0
local ok, e = pcall(require, 'socket.core')
expect(ok):equals(false)
expect(package.loadlib):equals(nil)
