-- A's first FIN is lost. A stays in FIN_WAIT_1 until its retransmission
-- timer fires and the FIN is sent again (same sequence number); then the
-- close goes on as usual.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 4, delay = "50ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

link:drop_next { from = a, flags = "FIN" }
client:close()
sim:run_for "5s"
peer:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
local fins = link:segments { from = a, flags = "FIN" }
expect(#fins):equals(2)
expect(fins[1].dropped):equals(true)
expect(fins[2].seq):equals(fins[1].seq)
expect(client.stats.retransmits):at_least(1)
