-- an error three coroutine.wrap levels down names the line where it was raised, once: the wrap
-- calls it passed through add nothing
-- expect: exit 2
-- expect-error: coroutine_wrap_error_once.lua:7: boom
-- expect-not: coroutine_wrap_error_once.lua:11:
local inner = coroutine.wrap(function()
  error("boom")
end)
local middle = coroutine.wrap(function() inner() end)
local outer = coroutine.wrap(function() middle() end)
outer()
