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
-- the three probes, counted on the wire so that the check holds for a
-- kernel A too (Linux keeps no per-socket probe count): each is an ACK
-- with no data one below SND.NXT, the SYN's sequence number
-- (RFC 1122 §4.2.3.6; Linux tcp_xmit_probe_skb sends snd_una - 1)
local syn = link:segments { from = a, flags = "SYN" }[1]
local probes = 0
for _, s in ipairs(link:segments { from = a, flags = "ACK", exact = true }) do
  if s.seq == syn.seq and s.len == 0 then probes = probes + 1 end
end
expect(probes):equals(3)
-- Established at 40 ms; idle 60 s, then probes at +0, +10, +20 s; give up
-- at +30 s. With exact timers that is 90.04 s. Linux's timers run on its
-- timer wheel (profile knob timer_hz, HZ 250: jiffy 10 at 40 ms), which
-- rounds each expiry up to the next bucket of its level (kernel/time/timer.c
-- calc_index): 60 s = 15000 jiffies sits in level 3 (buckets of 512
-- jiffies), so the first probe goes at jiffy 15360 (61.44 s, after
-- 10 + 15000); each 10 s interval (2500 jiffies, level 2, buckets of 64)
-- ends at the next multiple of 64: 17920, 20480, then 23040 (92.16 s).
local established = client.steps[3].time
local gives_up = established + sim.duration "90s"
if sim.profile == "linux" then gives_up = sim.duration "92160ms" end
expect(client):entered("CLOSED", tcpsim.ns(gives_up), 2)

-- kernel-host: A (tcpsim kernel, docs/kernel.md: Linux plays A, whose
-- probes meet the dead B; a kernel host cannot crash)
