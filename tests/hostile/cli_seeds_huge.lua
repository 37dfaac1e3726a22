-- --seeds over 2^63 runs
-- command: test {file} --seeds 1..9223372036854775807
-- expect: exit 2
-- expect-error: 1 scenario x 9223372036854775807 seeds make more than 1000000 runs (narrow --seeds or spli
expect(1):equals(1)
