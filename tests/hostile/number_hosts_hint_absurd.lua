-- tcpsim.new{hosts = n} with n not a count: each refused by name, none reserves
-- expect: exit 0
for _, n in ipairs { -1, 1e12, 0.5, 1 / 0, -(1 / 0), 0 / 0, 2 ^ 63, '12abc', true, {} } do
  local ok, err = pcall(tcpsim.new, { hosts = n })
  expect(ok):equals(false)
  expect(tostring(err):find('tcpsim.new: hosts must', 1, true) ~= nil):equals(true)
end
-- 0 and the most allowed are hints like any other: the run is the same
local function run(hosts)
  local sim = tcpsim.new { seed = 2, hosts = hosts }
  local a, b = sim:host "A", sim:host "B"
  sim:link(a, b, { delay = "10ms" })
  local server = b:listen(80, { autoread = true })
  local c = a:connect(b, 80)
  c:send(2000)
  c:close()
  sim:run()
  return sim.events
end
expect(run(0)):equals(run(nil))
expect(run(4194304)):equals(run(nil))
