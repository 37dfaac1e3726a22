-- pair: the set-up most scenarios share: two hosts, A (10.0.0.1) and
-- B (10.0.0.2), joined by one link.
--
--   local pair = require "pair"
--   local sim, a, b, link = pair.new { seed = 7, delay = "50ms" }
--   local server, client, peer = pair.connect(sim, a, b, 80)
local M = {}

local SIM_KEYS = { seed = true, profile = true, msl = true, time_wait = true,
  fin_timeout = true, rto_initial = true, rto_min = true, rto_max = true,
  syn_retries = true, synack_retries = true, retries = true, delack = true,
  keepalive_idle = true, keepalive_interval = true, keepalive_probes = true,
  sndbuf = true, rcvbuf = true, mss = true, rfc1337 = true, max_events = true,
  max_time = true, rst_on_close_with_unread = true, rst_on_keepalive_timeout = true,
  tw_restart_on_ack = true, rst_has_ack = true, orphan_retries = true,
  syn_linear_timeouts = true, syn_timeout = true, quickack = true,
  challenge_ack_limit = true, challenge_ack_window = true, rto_slop = true,
  persist_min = true, persist_max = true, zero_window_probe_no_data = true,
  nagle_minshall = true, fin_timeout_idle = true, backlog_model = true,
  syn_recv_rules = true, abort_rst_closing = true, port_lo = true, port_hi = true,
  mss_floor = true, syn_loss_cwnd_after = true, old_segment_ack = true,
  zero_window_fin = true, time_wait_bsd_rules = true, close_embryonic_silent = true }

-- pair.new(opts): opts mixes simulation options (seed, profile, msl, ...)
-- and link options (delay, loss, ...); returns sim, a, b, link.
function M.new(opts)
  opts = opts or {}
  local sim_opts, link_opts = {}, {}
  for k, v in pairs(opts) do
    if SIM_KEYS[k] then sim_opts[k] = v else link_opts[k] = v end
  end
  local sim = tcpsim.new(sim_opts)
  local a, b = sim:host "A", sim:host "B"
  local link = sim:link(a, b, link_opts)
  return sim, a, b, link
end

-- pair.connect(sim, a, b, port, copts): B listens, A connects; runs until
-- both ends are ESTABLISHED; returns listener, client (on A), peer (on B).
function M.connect(sim, a, b, port, copts)
  local server = b:listen(port, copts and { autoread = copts.autoread } or nil)
  local client = a:connect(b, port, copts)
  local peer
  local ok = sim:run_until(function()
    peer = peer or server:accept()
    return peer ~= nil and peer.state == "ESTABLISHED" and client.state == "ESTABLISHED"
  end, "10min")
  if not ok then error("pair.connect: the handshake did not complete", 2) end
  return server, client, peer
end

return M
