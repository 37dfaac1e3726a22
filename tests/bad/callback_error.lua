-- An error inside a callback run from the event loop stops the run and is
-- reported with the callback's own file and line.
-- expect-exit: 2
-- expect-error: callback_error.lua:7: boom
local sim = tcpsim.new {}
sim:after("1s", function()
  error("boom")
end)
sim:run()
