-- memory runs out inside a coroutine: the error names the coroutine's line where the allocation
-- was refused, not the line of the main chunk that resumed it
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: coroutine_memory_line.lua:10: memory limit of 16 MiB reached
-- expect-not: coroutine_memory_line.lua:13:
local co = coroutine.create(function()
  local parts = {}
  for i = 1, 8 do
    parts[i] = string.rep("x", 4 << 20) .. i
  end
end)
local ok, err = coroutine.resume(co)
error(err, 0)
