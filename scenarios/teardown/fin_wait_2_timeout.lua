-- FIN_WAIT_2 after close(): RFC 9293 sets no limit, so if the peer never
-- closes the connection waits for ever. Linux reaps an orphaned
-- connection in FIN_WAIT_2 after tcp_fin_timeout (60 s); FreeBSD after
-- 600 s of idle time, checked again every keepalive interval (675 s here).
-- The values and their sources are in scenarios/lib/expected.lua.
local pair = require "pair"
local E = require "expected"

local sim, a, b = pair.new { delay = "10ms" }
local server, client, peer = pair.connect(sim, a, b, 80)
client:close()
sim:run_for "20min"

local limit = E.fin_wait_2_orphan[sim.profile]
if limit then
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED" }
  expect(client):spent("FIN_WAIT_2", E.timed_stay(sim.profile, client, "FIN_WAIT_2", limit))
else
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2" }
end
expect(peer):state "CLOSE_WAIT" -- B was never told

-- kernel-host: A (tcpsim kernel, docs/kernel.md: Linux plays A, whose
-- orphaned FIN_WAIT_2 its tcp_fin_timeout ends; B's CLOSE_WAIT would
-- hold a kernel connection for the whole 20 minutes)
