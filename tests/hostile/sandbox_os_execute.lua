-- os is absent
-- expect: exit 2
-- expect-error: sandbox_os_execute.lua:4: attempt to index a nil value (global 'os')
os.execute('touch /tmp/x')
