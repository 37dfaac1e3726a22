-- A hook's verdict that is not one of the documented answers is a script
-- mistake: the run stops and names the hook's file and line, never a
-- silent pass.
-- expect-exit: 2
-- expect-error: hook_unknown_verdict.lua:9: link:hook returned 'dorp', which is not a verdict
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local l = sim:link(a, b, { delay = "10ms" })
l:hook(function(seg)
  return "dorp"
end)
b:listen(80)
a:connect(b, 80)
sim:run_for "1s"
