-- --sim 0
-- command: run {file} --sim 0
-- expect: exit 2
-- expect-error: --sim needs a simulation number from 1, got '0'
expect(1):equals(1)
