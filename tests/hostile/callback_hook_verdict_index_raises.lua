-- a verdict whose metatable raises on every read is refused as a verdict
-- (read without metamethods), the run stops cleanly and the simulation
-- stays usable afterwards
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local calls = 0
link:hook(function(s)
  calls = calls + 1
  if calls == 1 then return setmetatable({}, { __index = function() error("boom") end }) end
end)
local ok, err = pcall(function() sim:run_for '1s' end)
expect(ok):equals(false)
expect(tostring(err):find("link:hook returned a table without delay, which is not a verdict", 1, true) ~= nil):equals(true)
sim:run_for '1s'
expect(client.state):equals("ESTABLISHED")
