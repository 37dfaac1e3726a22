-- Scenarios cannot run commands unless run with --unsafe.
-- expect-exit: 2
-- expect-error: global 'os'
os.execute("true")
