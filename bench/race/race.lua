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
-- does. Every pair runs the same three callbacks, made once (as
-- bench_race.c has one callback for all pairs). The script keeps what it
-- still needs and no more: the host handles, in flat arrays, until the
-- clients have connected; each connection is held by its on_state
-- callback. The bytes a server read are added up when the client's FIN
-- arrives (every byte before it has been read: autoread), as bench_race
-- adds up its records' counts at the end.
local sim = tcpsim.new { seed = 1, msl = "120s", hosts = 2 * k, keep_received = false }
local chosts, shosts = {}, {}
local bytes = 0
local function close_on_fin(self, _, to)
  if to == "CLOSE_WAIT" then
    bytes = bytes + self.nreceived
    self:close()
  end
end
local function serve(conn)
  conn:on_state(close_on_fin)
end
local function send_and_close(self, _, to)
  if to == "ESTABLISHED" then
    self:send(s)
    self:close()
  end
end
for i = 1, k do
  local c, v = sim:host("c" .. i), sim:host("s" .. i)
  sim:link(c, v, { delay = "5ms", bandwidth = "10Mbps", ab = { loss = loss } })
  v:listen(80, { autoread = true }):on_accept(serve)
  chosts[i], shosts[i] = c, v
end
sim:run_to "1s"
for i = 1, k do
  chosts[i]:connect(shosts[i], 80):on_state(send_and_close)
end
chosts, shosts = nil, nil -- not needed from here on: sim:run collects them
sim:run()
expect(bytes):equals(k * s) -- every byte arrived (a run must check something)
print(string.format("pairs %d  bytes %d  events %d  virtual time %.3f s", k, bytes, sim.events,
  sim.now / 1e9))
