-- A hook asking for a delay it does not spell as a duration stops the run
-- with the hook's file and line.
-- expect-exit: 2
-- expect-error: hook_bad_delay.lua:8: link:hook returned {delay = 'soon'}, which is not a verdict
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local l = sim:link(a, b, { delay = "10ms" })
l:hook(function(seg)
  return { delay = "soon" }
end)
b:listen(80)
a:connect(b, 80)
sim:run_for "1s"
