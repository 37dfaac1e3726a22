-- shutdown("rd") closes the receive side, which RFC 9293 does not define;
-- the linux profile follows Linux (tcp_recvmsg): bytes already held stay
-- readable, then recv returns nil (end of stream) instead of "", and data the
-- peer sends later is still acknowledged and readable. Sending goes on.
-- The bsd profile (shut_rd_discard, FreeBSD sorflush) drops both.
local pair = require "pair"

local function run(profile)
  local sim, a, b = pair.new { seed = 12, delay = "10ms", profile = profile }
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:send "first"
  sim:run_for "100ms"
  peer:shutdown "rd"
  local held = peer:recv(100)
  client:send "second"
  sim:run_for "100ms"
  local later = peer:recv(100)
  peer:send "reply"
  sim:run_for "100ms"
  expect(client):received "reply"
  expect(peer):state "ESTABLISHED"
  return held, later, peer
end

local held, later, peer = run "linux"
expect(held, "linux: bytes held at SHUT_RD"):equals "first"
expect(later, "linux: data after SHUT_RD"):equals "second"
expect(peer:recv(100) == nil):holds "linux: an empty receive side reads as end of stream"
expect(peer:info().inq):equals(0)

held, later = run "bsd"
expect(held == nil):holds "bsd: bytes held at SHUT_RD are dropped"
expect(later == nil):holds "bsd: data after SHUT_RD is dropped"

