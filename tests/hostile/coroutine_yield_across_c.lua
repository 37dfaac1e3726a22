-- a coroutine that yields from inside a table.sort comparator (a call from C) gets the line of the
-- yield, not only the line that resumed it
-- expect: exit 2
-- expect-error: coroutine_yield_across_c.lua:9: attempt to yield across a C-call boundary
local sorter = coroutine.wrap(function()
  table.sort({ 3, 1, 2 }, function(x, y)
    local smaller = x < y
    -- the yield below cannot cross table.sort
    coroutine.yield(smaller)
    return smaller
  end)
end)
sorter()
expect(1):equals(1)
