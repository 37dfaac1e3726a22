-- a run past --timeout is killed and reported
-- command: test {file} --timeout 1s --max-instructions 999999999999999
-- expect: exit 1
-- expect-error: timed out (--timeout)
while true do end
