-- shutdown("rd") closes the receive side, which RFC 9293 does not define;
-- the linux profile follows Linux (tcp_recvmsg): bytes already held stay
-- readable, then recv returns nil (end of stream) instead of "", and data the
-- peer sends later is still acknowledged and readable. Sending goes on.
-- The bsd profile (shut_rd_discard, FreeBSD sorflush) drops both.
local pair = require "pair"
local sim, a, b = pair.new { seed = 12, delay = "10ms" }
local server, client, peer = pair.connect(sim, a, b, 80)
client:send "first"
sim:run_for "1s"
peer:shutdown "rd"
local held = peer:recv(100)
client:send "second"
sim:run_for "1s"
local later = peer:recv(100)
peer:send "reply"
sim:run_for "1s"
expect(client):received "reply"
expect(peer):state "ESTABLISHED"

if sim.profile == "bsd" then
  expect(held == nil):holds "bsd: bytes held at SHUT_RD are dropped"
  expect(later == nil):holds "bsd: data after SHUT_RD is dropped"
else
  expect(held, "bytes held at SHUT_RD"):equals "first"
  expect(later, "data after SHUT_RD"):equals "second"
  expect(peer:recv(100) == nil):holds "an empty receive side reads as end of stream"
end
