-- --shard 3/2
-- command: test {file} --shard 3/2
-- expect: exit 2
-- expect-error: --shard needs I/N with 1 <= I <= N <= 1000000, got '3/2' (try tcpsim test --help)
expect(1):equals(1)
