-- --seeds over 2^63 runs split in a million shards is still too many
-- command: test {file} --seeds 0..9223372036854775807 --shard 7/1000000
-- expect: exit 2
-- expect-error: 1 scenario x 9223372036854775808 seeds make more than 1000000 runs (narrow --seeds or spli
expect(1):equals(1)
