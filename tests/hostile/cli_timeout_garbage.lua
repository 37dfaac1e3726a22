-- --timeout garbage
-- command: test {file} --timeout forever
-- expect: exit 2
-- expect-error: --timeout needs a duration from 1ms to 30 days (e.g. 60s), got 'forever' (try tcpsim test 
expect(1):equals(1)
