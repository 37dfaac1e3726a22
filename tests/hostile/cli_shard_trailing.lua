-- --shard 1/2x
-- command: test {file} --shard 1/2x
-- expect: exit 2
-- expect-error: --shard needs I/N with 1 <= I <= N <= 1000000, got '1/2x' (try tcpsim test --help)
expect(1):equals(1)
