-- FIN_WAIT_2 after close(): RFC 9293 sets no limit, so if the peer never
-- closes the connection waits for ever. Linux reaps an orphaned
-- connection in FIN_WAIT_2 after tcp_fin_timeout (60 s).
local pair = require "pair"

local function orphan(profile)
  local sim, a, b = pair.new { profile = profile, delay = "10ms" }
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:close()
  sim:run_for "10min"
  return client, peer
end

local c1 = orphan "rfc9293"
expect(c1):state "FIN_WAIT_2"

local c2, p2 = orphan "linux"
expect(c2):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED" }
expect(c2):spent("FIN_WAIT_2", "60s")
expect(p2):state "CLOSE_WAIT"
