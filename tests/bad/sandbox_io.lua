-- Scenarios cannot write files unless run with --unsafe.
-- expect-exit: 2
-- expect-error: global 'io'
io.open("/tmp/tcpsim-sandbox-test", "w")
