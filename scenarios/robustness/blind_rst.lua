-- A blind RST: an attacker who guesses a sequence number inside the
-- receive window, but not exactly RCV.NXT, must not be able to reset the
-- connection. RFC 5961 §3.2: such an RST is answered with a "challenge
-- ACK" and otherwise ignored; only an RST at exactly RCV.NXT resets.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 15, delay = "20ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

-- A's last ACK carries A's RCV.NXT: the one sequence number an RST must hit
local rcv_nxt = link:last({ from = a }).ack
link:inject { from = b, flags = "RST", seq = (rcv_nxt + 100) & 0xffffffff }
sim:run_for "1s"
expect(client):state "ESTABLISHED"
expect(client.stats.challenge_acks):equals(1)
expect(link):saw { "B>A RST", "A>B ACK" }

-- the same RST at exactly RCV.NXT is accepted
link:inject { from = b, flags = "RST", seq = rcv_nxt }
sim:run_for "1s"
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ECONNRESET"
