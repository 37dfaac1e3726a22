-- Benchmark workload (run by scripts/bench.sh, not a test): 10,000
-- connections between two hosts, each moving 1 kB from client to server
-- and closing both ways; the run ends when every TIME_WAIT has expired.
local n = 10000
local sim = tcpsim.new { seed = 1, msl = "1s" }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
local server = b:listen(80, { backlog = n, autoread = true })
local clients = {}
for i = 1, n do clients[i] = a:connect(b, 80) end
sim:run_for "1s"
local peers = {}
for i = 1, n do
  peers[i] = server:accept()
  peers[i]:on_state(function(sock, from, to)
    if to == "CLOSE_WAIT" then sock:close() end
  end)
end
for i = 1, n do
  clients[i]:send(1000)
  clients[i]:close()
end
sim:run()
local bytes = 0
for i = 1, n do bytes = bytes + #peers[i].received end
expect(bytes):equals(1000 * n)
print(string.format("connections %d  bytes %d  events %d  virtual time %.3f s", n, bytes,
  sim.events, sim.now / 1e9))
