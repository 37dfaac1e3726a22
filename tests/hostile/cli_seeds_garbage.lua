-- --seeds garbage
-- command: test {file} --seeds 1..x
-- expect: exit 2
-- expect-error: --seeds needs A..B (e.g. 1..100), got '1..x' (try tcpsim test --help)
expect(1):equals(1)
