-- --jobs 99999
-- command: test {file} --jobs 99999
-- expect: exit 2
-- expect-error: --jobs needs a number in [1,1024], got '99999' (try tcpsim test --help)
expect(1):equals(1)
