-- pair: the set-up most scenarios share: two hosts, A (10.0.0.1) and
-- B (10.0.0.2), joined by one link.
--
--   local pair = require "pair"
--   local sim, a, b, link = pair.new { seed = 7, delay = "50ms" }
--   local server, client, peer = pair.connect(sim, a, b, 80)
--
-- Found by require() next to a scenario's folder (scenarios/lib), in the
-- installed library (share/tcpsim/lib), in TCPSIM_PATH and in -I folders.
-- The API is documented in docs/scenarios.md ("The pair library").
local M = {}

-- The options sim:link takes; every other key goes to tcpsim.new, which
-- checks it (seed, profile, limits and every profile knob).
local LINK_KEYS = { delay = true, jitter = true, bandwidth = true, queue = true,
  mtu = true, loss = true, duplicate = true, reorder = true, reorder_delay = true,
  corrupt = true, up = true, ab = true, ba = true }

-- The options of one host: its name and the knobs given for it alone.
local function host_opts(name, knobs)
  local o = { name = name }
  for k, v in pairs(knobs or {}) do o[k] = v end
  return o
end

-- pair.new(opts): opts mixes link options (delay, loss, ...) and
-- simulation options (seed, profile, knobs such as msl); opts.A and
-- opts.B are knobs for that host alone; returns sim, a, b, link.
function M.new(opts)
  opts = opts or {}
  local sim_opts, link_opts = {}, {}
  for k, v in pairs(opts) do
    if LINK_KEYS[k] then link_opts[k] = v
    elseif k ~= "A" and k ~= "B" then sim_opts[k] = v end
  end
  local sim = tcpsim.new(sim_opts)
  local a, b = sim:host(host_opts("A", opts.A)), sim:host(host_opts("B", opts.B))
  local link = sim:link(a, b, link_opts)
  return sim, a, b, link
end

-- pair.connect(sim, a, b, port, copts): B listens, A connects with the
-- connect options copts (autoread also applies to the accepted socket);
-- runs until both ends are ESTABLISHED, at most 10 minutes of simulated
-- time; returns listener, client (on A), peer (on B).
function M.connect(sim, a, b, port, copts)
  local server = b:listen(port, copts and { autoread = copts.autoread } or nil)
  local client = a:connect(b, port, copts)
  local peer
  -- soft: the error below names the caller's line, not this file's
  local ok = sim:run_until(function()
    peer = peer or server:accept()
    return peer ~= nil and peer.state == "ESTABLISHED" and client.state == "ESTABLISHED"
  end, "10min", { soft = true })
  if not ok then error("pair.connect: the handshake did not complete", 2) end
  return server, client, peer
end

return M
