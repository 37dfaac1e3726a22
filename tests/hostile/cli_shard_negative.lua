-- --shard -1/3
-- command: test {file} --shard -1/3
-- expect: exit 2
-- expect-error: --shard needs I/N with 1 <= I <= N <= 1000000, got '-1/3' (try tcpsim test --help)
expect(1):equals(1)
