-- a link handle handed back by a script's own finalizer after its __gc ran:
-- a log without outputs records no packet of a link with no live handle, so
-- the handle is refused (in every mode) rather than answering from that log
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: lifetime_link_resurrected.lua:14: link: this handle was collected
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
do
  local l = sim:link(a, b, { delay = "10ms" })
  setmetatable({}, { __gc = function() saved = l end })
end
while not saved do local t = {} for i = 1, 64 do t[i] = { i } end end
expect(saved):saw { "A>B SYN" }
