-- Keepalive detects a dead peer. After the connection has been idle for
-- keepalive_idle, A sends a probe every keepalive_interval; after
-- keepalive_probes unanswered probes it gives up (ETIMEDOUT). Under the
-- linux profile it also sends an RST when it gives up.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 14, delay = "20ms", profile = "linux" }
local server, client, peer = pair.connect(sim, a, b, 80,
  { keepalive = true, keepidle = "60s", keepintvl = "10s", keepcnt = 3 })

b:crash()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ETIMEDOUT"
expect(client.stats.keepalive_probes):equals(3)
-- established at ~40 ms; idle 60 s, then probes at +0, +10, +20 s; give up at +30 s
local established = client.steps[3].time
expect(client):entered("CLOSED", tcpsim.ns(established + sim.duration "90s"), 2)
