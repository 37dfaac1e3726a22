-- the fixed walk order at its edges: integers and floats mixed (floats past 2^63, past 2^53, the
-- infinities, fractions next to integers at the ends of the integer range) are compared exactly,
-- as Lua's < compares them; strings that share their first 8 bytes, embed NUL bytes or hold bytes
-- past 127 go in byte order, shorter first on a tie
-- expect: exit 0
local function walk(t)
  local seen = {}
  for k in pairs(t) do seen[#seen + 1] = k end
  return seen
end
local function same(got, want)
  expect(#got):equals(#want)
  for i = 1, #want do
    expect(rawequal(got[i], want[i]) or got[i] == want[i]):equals(true)
  end
end

local numbers = {
  -math.huge, -2.0 ^ 70, math.mininteger, math.mininteger + 1, -(2.0 ^ 53) - 2, -2.5, -1, -0.5,
  0, 0.5, 3, 3.25, 2 ^ 53 + 1, 2.0 ^ 53 + 2, math.maxinteger - 1, math.maxinteger, 2.0 ^ 63,
  2.0 ^ 70, math.huge,
}
local t = {}
for i = #numbers, 1, -1 do t[numbers[i]] = true end
same(walk(t), numbers)

local strings = {
  "", "\0", "abc", "abc\0", "abc\0\0", "abcdefgh", "abcdefgh\0", "abcdefghi", "abcdefgi",
  "abcdefh", "b", "\127", "\128", "\255", "\255\255\255\255\255\255\255\255\255",
}
t = {}
for i = #strings, 1, -1 do t[strings[i]] = 1 end
same(walk(t), strings)

-- everything at once, with the integer run 1..3 in front and the booleans last
t = { "x", "y", "z", [true] = 1, [false] = 1, [4.5] = 1, [-7] = 1, [""] = 1, [2.0 ^ 64] = 1, [5] = 1 }
same(walk(t), { 1, 2, 3, -7, 4.5, 5, 2.0 ^ 64, "", false, true })
