-- --seed -1
-- command: run {file} --seed -1
-- expect: exit 2
-- expect-error: --seed needs a non-negative integer, got '-1'
expect(1):equals(1)
