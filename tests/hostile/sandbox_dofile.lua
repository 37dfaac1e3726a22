-- dofile is absent
-- expect: exit 2
-- expect-error: sandbox_dofile.lua:4: attempt to call a nil value (global 'dofile')
dofile('/etc/passwd')
