-- io is absent in the sandbox
-- expect: exit 2
-- expect-error: sandbox_io_open.lua:4: attempt to index a nil value (global 'io')
io.open('/etc/passwd')
