-- --seeds past 2^64
-- command: test {file} --seeds 1..99999999999999999999
-- expect: exit 2
-- expect-error: --seeds needs A..B (e.g. 1..100), got '1..99999999999999999999' (try tcpsim test --help)
expect(1):equals(1)
