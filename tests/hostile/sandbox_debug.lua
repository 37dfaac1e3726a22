-- debug is absent
-- expect: exit 2
-- expect-error: sandbox_debug.lua:4: attempt to index a nil value (global 'debug')
debug.getregistry()
