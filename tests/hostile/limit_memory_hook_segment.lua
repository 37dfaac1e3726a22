-- Lua memory runs out while the simulator builds the segment it hands a hook (outside the hook's
-- protected call): the run stops with the memory-limit error at the line that ran the simulation,
-- and no Lua error unwinds through the event loop
-- command: run {file} --quiet --max-memory 8MiB
-- expect: exit 2
-- expect-error: limit_memory_hook_segment.lua:27: memory limit of 8 MiB reached
-- expect-held-at-most: 8
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local hold, chunk = nil, 0
local function fill() hold = { string.rep("x", chunk), hold } end
local function grow() hold = { hold } end
link:hook(function(seg)
  hold = { seg, hold }
  -- take every byte left, down to the smallest block: the next segment cannot be built
  for _, n in ipairs { 65536, 4096, 256, 41 } do
    chunk = n
    while pcall(fill) do end
  end
  while pcall(grow) do end
end)
-- hold keeps every segment, so none is garbage: the next segment cannot be built. The error names
-- this line, where the script was when the event loop ran out of memory (line 26)
sim:run_for "1s"
expect(1):equals(1)
