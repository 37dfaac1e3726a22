-- --seeds 9..1
-- command: test {file} --seeds 9..1
-- expect: exit 2
-- expect-error: --seeds needs A..B (e.g. 1..100), got '9..1' (try tcpsim test --help)
expect(1):equals(1)
