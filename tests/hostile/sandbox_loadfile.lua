-- loadfile is absent
-- expect: exit 2
-- expect-error: sandbox_loadfile.lua:4: attempt to call a nil value (global 'loadfile')
loadfile('/etc/passwd')
