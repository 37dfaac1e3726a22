-- memory runs out two coroutine.wrap levels down: the error names that coroutine's line once,
-- not the lines of the wrap calls above it
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: coroutine_wrap_memory_line.lua:10: memory limit of 16 MiB reached
-- expect-not: coroutine_wrap_memory_line.lua:13:
local inner = coroutine.wrap(function()
  local t = {}
  for i = 1, 1e9 do
    t[i] = string.rep("y", 64) .. i
  end
end)
local outer = coroutine.wrap(function() inner() end)
outer()
