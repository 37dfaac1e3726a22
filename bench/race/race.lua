-- The race workload (run by scripts/bench.sh race, not a test): K
-- client/server pairs, each pair two hosts on its own 10 Mbps / 5 ms link.
-- At t = 1 s each client connects; once established it sends S bytes and
-- closes; the server reads everything and closes once the client's FIN has
-- arrived. MSL is 120 s, and the run ends when every TIME_WAIT has
-- expired. LOSS drops
-- that share of client-to-server packets. K, S and LOSS come from the
-- environment when the scenario runs with --unsafe (defaults: 1000, 1000,
-- 0). bench/race/bench_race.c is the same workload in C over sim/net.
--
-- The server accepts each connection as it is established (on_accept,
-- as bench_race.c accepts at the server's own ESTABLISHED; it reads
-- nothing before that) and closes on the client's FIN (CLOSE_WAIT).
local function param(name, default)
  local v = os and os.getenv and os.getenv(name)
  return v and tonumber(v) or default
end
local k, s, loss = param("K", 1000), param("S", 1000), param("LOSS", 0)
-- The sim is told how many hosts it will have (the heap is reserved once)
-- and keeps only the count of bytes read (sock.nreceived), as bench_race
-- does; a pair's Lua objects are its two hosts, its sockets and the
-- two callbacks, in flat arrays.
local sim = tcpsim.new { seed = 1, msl = "120s", hosts = 2 * k, keep_received = false }
local chosts, shosts, servers, peers = {}, {}, {}, {}
for i = 1, k do
  local c, v = sim:host("c" .. i), sim:host("s" .. i)
  sim:link(c, v, { delay = "5ms", bandwidth = "10Mbps", ab = { loss = loss } })
  servers[i] = v:listen(80, { autoread = true })
  chosts[i], shosts[i] = c, v
end
sim:run_to "1s"
local function close_on_fin(self, _, to)
  if to == "CLOSE_WAIT" then self:close() end
end
for i = 1, k do
  servers[i]:on_accept(function(conn)
    peers[i] = conn
    conn:on_state(close_on_fin)
  end)
  chosts[i]:connect(shosts[i], 80):on_state(function(self, _, to)
    if to == "ESTABLISHED" then
      self:send(s)
      self:close()
    end
  end)
end
sim:run()
local bytes = 0
for i = 1, k do
  if peers[i] then bytes = bytes + peers[i].nreceived end
end
expect(bytes):equals(k * s) -- every byte arrived (a run must check something)
print(string.format("pairs %d  bytes %d  events %d  virtual time %.3f s", k, bytes, sim.events,
  sim.now / 1e9))
