-- A new SYN for the same 4-tuple arriving while one end is in TIME_WAIT.
--
-- B (the server, port 80) closes first, so B is the end that sits in
-- TIME_WAIT; A closes second and its side of the 4-tuple is free at once.
-- A then reconnects from the same local port 5000, so its SYN lands on
-- B's TIME_WAIT connection.
--
-- * linux and bsd (RFC 1122 §4.2.2.13): a SYN whose sequence number is
--   above the old connection's RCV.NXT may reopen the connection: TIME_WAIT
--   ends at once and the listener takes the SYN. A's new connection is
--   established with no retransmission.
-- * rfc9293 (§3.10.7.4 fourth step for SYN in a synchronized state, RFC
--   5961 §4.2): the SYN is answered with a challenge ACK
--   <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; TIME_WAIT goes on. A, in SYN_SENT,
--   finds that ACK unacceptable (it does not cover its new ISS) and answers
--   <SEQ=SEG.ACK><CTL=RST> (§3.10.7.3). That RST carries exactly B's
--   RCV.NXT, so it is acceptable and closes B's TIME_WAIT. A's SYN,
--   retransmitted when its RTO (1 s) expires, then reaches the listener.
--   This is the recovery RFC 5961 §4.2 describes for a legitimate SYN.
-- Which rule each profile follows: scenarios/lib/expected.lua.
local pair = require "pair"
local E = require "expected"

local function reopen()
  local sim, a, b, link = pair.new { seed = 5, delay = "10ms" }
  local server, client, peer = pair.connect(sim, a, b, 80, { port = 5000, isn = 1000 })
  peer:close()                 -- B: active close, ends in TIME_WAIT
  sim:run_for "500ms"
  client:close()               -- A: passive close, LAST_ACK -> CLOSED
  sim:run_for "500ms"
  local t_syn = sim.now
  -- new incarnation, sequence numbers well above the old ones
  local client2 = a:connect(b, 80, { port = 5000, isn = 1000000 })
  local peer2 = server:accept_wait "10s"
  sim:run_for "100ms"
  return { sim = sim, link = link, a = a, b = b, client = client, peer = peer,
           client2 = client2, peer2 = peer2, t_syn = t_syn }
end

local old_client = { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
local old_peer = { "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }

local r = reopen()
if E.tw_syn_reopens[r.sim.profile] then
  expect(r.client):trace(old_client)
  expect(r.peer):trace(old_peer)
  -- TIME_WAIT ended when the SYN arrived (one-way delay 10 ms)
  expect(r.peer):left("TIME_WAIT", tcpsim.ns(r.t_syn + r.sim.duration "10ms"))
  expect(r.peer.steps[#r.peer.steps].note):equals "rcv SYN (new connection)"
  expect(r.client2):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
  expect(r.peer2):trace { "SYN_RECEIVED", "ESTABLISHED" }
  expect(r.client2.stats.retransmits):equals(0)
  expect(r.client2):entered("ESTABLISHED", tcpsim.ns(r.t_syn + r.sim.duration "20ms"))
  expect(r.peer.stats.challenge_acks):equals(0)
  return
end

expect(r.client):trace(old_client)
expect(r.peer):trace(old_peer)
expect(r.peer.stats.challenge_acks):equals(1)
-- the challenge ACK reaches A at +20 ms, A's RST reaches B at +30 ms
expect(r.peer):left("TIME_WAIT", tcpsim.ns(r.t_syn + r.sim.duration "30ms"))
expect(r.peer.steps[#r.peer.steps].note):equals "rcv RST"
expect(r.client2):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(r.peer2):trace { "SYN_RECEIVED", "ESTABLISHED" }
expect(r.client2.stats.retransmits):equals(1)
-- established one RTO (1 s) plus one round trip after the first SYN
expect(r.client2):entered("ESTABLISHED", tcpsim.ns(r.t_syn + r.sim.duration "1020ms"))
local rst = r.link:last { from = r.a, flags = "RST" }
local chack = r.link:last { from = r.b, flags = "ACK", exact = true }
expect(rst ~= nil):holds "A reset the challenge ACK"
-- <SEQ=SEG.ACK>: the RST hits B's RCV.NXT exactly
expect(rst and rst.seq):equals(chack.ack)
expect(r.link):saw { "A>B SYN", "B>A ACK", "A>B RST", "A>B SYN", "B>A SYN,ACK", "A>B ACK" }

-- kernel-host: B (tcpsim kernel, docs/kernel.md: Linux plays B, whose
-- TIME_WAIT the SYN reopens; A's connects choose their ISNs, which a
-- kernel socket cannot)
