-- --max-wall 0
-- command: run {file} --max-wall 0s
-- expect: exit 2
-- expect-error: --max-wall needs a duration from 1ms to 30 days (e.g. 30s), got '0s'
expect(1):equals(1)
