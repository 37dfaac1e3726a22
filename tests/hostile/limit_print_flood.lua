-- a flood of output is captured, capped by tcpsim test
-- command: test {file} --quiet
-- expect: exit 1
-- expect-error: more bytes of output left out
for i = 1, 300000 do print(string.rep('z', 40)) end
expect(1):equals(2)
