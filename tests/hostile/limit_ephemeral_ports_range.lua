-- a host whose ephemeral range holds 10 ports (the port_lo/port_hi knobs) connects 11 times: the
-- first 10 connects each get a port of the range, the 11th has none left and fails at its line with
-- an error saying so in words, with the errno Linux gives connect() then (EADDRNOTAVAIL)
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_ephemeral_ports_range.lua:19: host:connect: ephemeral ports exhausted (EADDRNOTAVAIL): host A has all 10 ports of its range 50000..50009 in use
local sim = tcpsim.new {}
local a = sim:host { name = "A", port_lo = 50000, port_hi = 50009 }
local b = sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
local seen = {}
for i = 1, 10 do
  local port = a:connect(b, 80).port
  assert(port >= 50000 and port <= 50009 and not seen[port], "port " .. tostring(port))
  seen[port] = true
end
sim:run_for "10ms"
a:connect(b, 80)
