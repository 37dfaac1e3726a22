-- a finalizer run by the collector while sock.steps is being built closes that
-- socket, and the close's step moves the trace's later steps to a larger block:
-- every step reads back as it was (its time was read from the block let go)
-- command: run {file} --quiet
-- expect: exit 0
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
for trial = 1, 3000 do
  local client = a:connect(b, 80)
  sim:run_until(function() return client.state == "ESTABLISHED" end)
  sim:run_for "20ms"
  server:accept():close()
  -- CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT: its close's step is the fifth
  sim:run_until(function() return client.state == "CLOSE_WAIT" end)
  local want = {}
  for i, s in ipairs(client.steps) do want[i] = s.time end
  setmetatable({}, { __gc = function() pcall(client.close, client) end })
  for j = 1, trial % 97 do local _ = { j, tostring(j) } end
  for i, s in ipairs(client.steps) do
    if want[i] then
      assert(s.time == want[i], ("trial %d: step %d (%s) read back at %d, entered at %d"):format(
        trial, i, s.state, s.time, want[i]))
    end
  end
  pcall(client.close, client) -- unless the finalizer did
end
expect(server):trace { "CLOSED", "LISTEN" }
