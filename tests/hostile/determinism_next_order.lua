-- next() and pairs() walk a table in one fixed order, whatever order its keys were inserted in and
-- whatever string hash seed the process drew: integer keys 1..n first, then numbers, strings and
-- booleans, each ascending; a walk that clears the keys it visits, and walks nested over the same
-- table, still see every key once
-- expect: exit 0
local t, sorted = {}, {}
for i = 1, 500 do
  local k = string.format("key%03d", (i * 37) % 500) -- every name once, not in order
  t[k] = i
  sorted[#sorted + 1] = k
end
table.sort(sorted)
local seen, k = {}, next(t)
while k ~= nil do
  seen[#seen + 1] = k
  k = next(t, k)
end
expect(table.concat(seen, " ")):equals(table.concat(sorted, " "))

seen = {}
for key in pairs(t) do seen[#seen + 1] = key end
expect(table.concat(seen, " ")):equals(table.concat(sorted, " "))

local mixed = { "a", "b", "c", [0] = "z", [-1] = "y", [2.5] = "h", [10] = "t", x = "s", [false] = 1, [true] = 2 }
seen = {}
for key in pairs(mixed) do seen[#seen + 1] = tostring(key) end
expect(table.concat(seen, " ")):equals("1 2 3 -1 0 2.5 10 x false true")

-- clearing each key as it is visited (allowed during a walk)
seen = {}
for key in pairs(t) do
  seen[#seen + 1] = key
  t[key] = nil
end
expect(#seen):equals(500)
expect(next(t)):equals(nil)

-- a walk nested in a walk of the same table
local pairs_seen = 0
local small = { p = 1, q = 2, r = 3 }
for a in pairs(small) do
  for b in pairs(small) do pairs_seen = pairs_seen + 1 end
end
expect(pairs_seen):equals(9)
expect(next({})):equals(nil)
