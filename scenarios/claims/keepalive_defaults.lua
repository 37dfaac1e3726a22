-- Claims checked: "if a client disappears without sending FIN the server
-- stays ESTABLISHED", "keepalive first probes after 2 hours idle", "then
-- probes are repeated every 1000 ms a number of times", "the probe is an
-- ACK with sequence number one below the current one" and "a peer that
-- rebooted answers the probe with a reset".
--
-- * Without keepalive nothing is sent on an idle connection, so a vanished
--   peer is never noticed (RFC 9293 has no idle timeout).
-- * RFC 1122 §4.2.3.6: keepalive is off by default and the idle interval
--   MUST default to no less than two hours. Linux: tcp_keepalive_time
--   7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9. FreeBSD:
--   keepidle 2 h, keepintvl 75 s, 8 probes. The "1000 ms" interval is not
--   the Linux or BSD default. Values and sources per profile:
--   scenarios/lib/expected.lua.
-- * The probe is <SEQ=SND.NXT-1><ACK=RCV.NXT> (RFC 1122 §4.2.3.6 allows
--   sending one garbage octet or none at SND.NXT-1).
-- * A rebooted peer has no connection: the probe gets an RST (RFC 9293
--   §3.5.2 reset generation) and the connection ends with ECONNRESET.
local pair = require "pair"
local E = require "expected"

local function idle_conn(keepalive)
  local sim, a, b, link = pair.new { seed = 8, delay = "10ms" }
  local server, client, peer = pair.connect(sim, a, b, 80, keepalive and { keepalive = true } or nil)
  return sim, a, b, link, client, peer
end

-- no keepalive: A never learns that B is gone
do
  local sim, a, b, link, client = idle_conn(false)
  local sent = #link:segments { from = a }
  b:crash()
  sim:run_for "5h"
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
  expect(#link:segments { from = a }):equals(sent)
end

-- the profile's default schedule against a dead peer
do
  local sim, a, b, link, client = idle_conn(true)
  local ka = E.keepalive[sim.profile]
  local probes = ka.probes
  local est = client.steps[3].time
  local last_ack = link:last { from = a }
  b:crash()
  sim:run()
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
  expect(client):error "ETIMEDOUT"
  expect(client.stats.keepalive_probes):equals(probes)
  local ps = {}
  for _, s in ipairs(link:segments { from = a }) do
    if s.sent > last_ack.sent and s.len <= 1 and s.flags == "ACK" then ps[#ps + 1] = s end
  end
  expect(#ps):equals(probes)
  -- each timer as the system runs it (E.timer: Linux's timer wheel)
  local first = E.timer(sim.profile, est, sim.duration(ka.idle))
  expect(ps[1].sent):equals(first)
  expect(ps[2].sent):equals(E.timer(sim.profile, first, sim.duration(ka.interval)))
  -- the probe sits one below the next sequence number
  expect(ps[1].seq):equals((last_ack.seq - 1) & 0xffffffff)
  -- given up one interval after the last probe
  local gives_up = first
  for _ = 1, probes do gives_up = E.timer(sim.profile, gives_up, sim.duration(ka.interval)) end
  expect(client):entered("CLOSED", tcpsim.ns(gives_up), 2)
end

-- a peer that crashed and came back answers the first probe with RST
do
  local sim, a, b, link, client = idle_conn(true)
  local est = client.steps[3].time
  b:crash()
  sim:run_for "1s"
  b:restart()
  sim:run()
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
  expect(client):error "ECONNRESET"
  expect(client.stats.keepalive_probes):equals(1)
  local probe = E.timer(sim.profile, est, sim.duration "7200s")
  expect(client):entered("CLOSED", tcpsim.ns(probe + sim.duration "20ms"), 2)
  expect(link):saw { "B>A RST" }
end
