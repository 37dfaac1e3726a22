-- The usual teardown (RFC 9293 §3.6, figure "Normal close sequence"): A
-- closes first and goes FIN_WAIT_1 -> FIN_WAIT_2 (its FIN is ACKed) ->
-- TIME_WAIT (B's FIN arrives) -> CLOSED after 2*MSL (4 min with the RFC's
-- MSL of 2 min; 60 s in Linux and FreeBSD: scenarios/lib/expected.lua).
-- B goes CLOSE_WAIT -> LAST_ACK -> CLOSED.
local pair = require "pair"
local E = require "expected"
local sim, a, b, link = pair.new { seed = 3, delay = "50ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:close()
sim:run_for "1s"
expect(client):state "FIN_WAIT_2"
expect(peer):state "CLOSE_WAIT"
peer:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
expect(client):spent("TIME_WAIT", E.timed_stay(sim.profile, client, "TIME_WAIT", E.time_wait[sim.profile]))
expect(client):error(nil)
