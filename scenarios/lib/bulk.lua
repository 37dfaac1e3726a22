-- bulk: one megabyte from A to B over one link, then both ends close; used
-- by scenarios/robustness/bulk_*.lua.
--
--   local bulk = require "bulk"
--   bulk.run { seed = 31, mtu = 1500, loss = 0.02, reorder = 0.05 }
--
-- Checks, under whatever profile runs: every byte arrives exactly once and
-- in order (the data is 100 000 numbered lines, compared whole); no
-- datagram is larger than the link's MTU; full data segments carry
-- MTU - 40 bytes less the options sent on every segment (RFC 9293 §3.7.1,
-- MUST-16); both ends go through a normal close.
local E = require "expected"
local M = {}

local function payload()
  local lines = {}
  for i = 1, 100000 do lines[i] = string.format("%09d\n", i) end
  return table.concat(lines)
end

function M.run(opts)
  local sim = tcpsim.new { seed = opts.seed }
  local a, b = sim:host "A", sim:host "B"
  local link = sim:link(a, b, {
    delay = "20ms", jitter = "2ms", bandwidth = "100Mbps", mtu = opts.mtu,
    loss = opts.loss or 0, reorder = opts.reorder or 0, reorder_delay = "10ms",
  })
  local server = b:listen(80, { autoread = true })
  local client = a:connect(b, 80)
  local peer
  -- soft: a handshake that never completes is a failed expectation here
  sim:run_until(function()
    peer = peer or server:accept()
    return peer ~= nil and peer.state == "ESTABLISHED" and client.state == "ESTABLISHED"
  end, "5min", { soft = true })
  expect(peer ~= nil):holds "the connection was established"
  if not peer then return end

  local data = payload()
  client:send(data)
  client:close()
  sim:run_until(function() return peer.state == "CLOSE_WAIT" end, "30min")
  peer:close()
  sim:run_for "10min"

  expect(#data):equals(1000000)
  expect(peer):received(data)
  expect(client):contains { "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT" }
  expect(peer):contains { "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
  expect(client):error(nil)
  local ab = link.stats[1]
  expect(ab.dropped_mtu):equals(0)
  local biggest = 0
  for _, s in ipairs(link:segments { from = a }) do
    if s.len > biggest then biggest = s.len end
  end
  expect(biggest):equals(E.full_segment(sim.profile, opts.mtu))
  if (opts.loss or 0) > 0 then
    expect(ab.dropped_loss):at_least(1)
    expect(client.stats.retransmits):at_least(1)
  end
  if (opts.reorder or 0) > 0 then expect(ab.reordered):at_least(1) end
  return sim, link, client, peer
end

return M
