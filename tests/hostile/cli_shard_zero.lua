-- --shard 0/0
-- command: test {file} --shard 0/0
-- expect: exit 2
-- expect-error: --shard needs I/N with 1 <= I <= N <= 1000000, got '0/0' (try tcpsim test --help)
expect(1):equals(1)
