-- when() raising an error stops the run with its line
-- expect: exit 2
-- expect-error: callback_when_errors.lua:9: when broke
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:drop_next { when = function() error('when broke') end }
sim:run_for '1s'
