-- expected: what RFC 9293, Linux (6.6 and later) and FreeBSD 14 do, keyed
-- by the name of the profile that models each (sim.profile), with the
-- source of every value. Scenarios compare the stack with these, never
-- with the profile's own knobs, so a wrong knob shows up as a failure.
--
--   local E = require "expected"
--   expect(client):spent("TIME_WAIT", E.time_wait[sim.profile])
local M = {}

-- TIME_WAIT length with the default MSL.
--   rfc9293: RFC 9293 §3.4.2 MSL = 2 minutes, §3.10.7.4 TIME-WAIT = 2*MSL.
--   linux:   include/net/tcp.h TCP_TIMEWAIT_LEN (60*HZ), no MSL involved.
--   bsd:     sys/netinet/tcp_timer.h TCPTV_MSL (30*hz), 2*MSL (tcp_twstart).
M.time_wait = { rfc9293 = "240s", linux = "60s", bsd = "60s" }

-- TIME_WAIT length when the scenario sets the MSL to `msl` (a duration
-- string in seconds, "10s"): 2*MSL, except Linux, whose TIME_WAIT is the
-- constant TCP_TIMEWAIT_LEN whatever the MSL.
function M.time_wait_for_msl(profile, msl)
  if profile == "linux" then return "60s" end
  return (2 * tonumber(msl:match "^(%d+)s$")) .. "s"
end

-- How long an orphan (closed by its application) stays in FIN_WAIT_2 when
-- the peer never sends its FIN; false: for ever.
--   rfc9293: RFC 9293 gives FIN-WAIT-2 no timer.
--   linux:   net.ipv4.tcp_fin_timeout = TCP_FIN_TIMEOUT = 60 s (orphans only).
--   bsd:     tcp_input.c arms TT_2MSL with TP_MAXIDLE = keepcnt * keepintvl
--            = 8 * 75 s = 600 s on entry (tcp_fast_finwait2_recycle = 0);
--            tcp_timer_2msl re-arms for TP_KEEPINTVL (75 s) while the idle
--            time is <= TP_MAXIDLE, so the orphan is closed at 675 s.
M.fin_wait_2_orphan = { rfc9293 = false, linux = "60s", bsd = "675s" }

-- A SYN above RCV.NXT arriving in TIME_WAIT reopens the connection
-- (RFC 1122 §4.2.2.13; Linux tcp_timewait_state_process TCP_TW_SYN;
-- FreeBSD tcp_twcheck) or is answered with a challenge ACK (RFC 9293
-- §3.10.7.4 with RFC 5961 §4).
M.tw_syn_reopens = { rfc9293 = false, linux = true, bsd = true }

-- An RST at RCV.NXT ends TIME_WAIT (RFC 9293 §3.10.7.4; Linux with
-- tcp_rfc1337 = 0) or is ignored (FreeBSD tcp_twcheck, RFC 1337).
M.tw_rst_closes = { rfc9293 = true, linux = true, bsd = false }

-- close() with unread received data sends RST (RFC 9293 §3.6 SHOULD, RFC
-- 2525 §2.17; Linux tcp_close "data_was_unread") or flushes and sends FIN
-- (FreeBSD tcp_disconnect: sbflush then tcp_usrclosed).
M.rst_on_close_with_unread = { rfc9293 = true, linux = true, bsd = false }

-- Keepalive defaults: idle time before the first probe, interval, probes.
--   linux: TCP_KEEPALIVE_TIME 7200 s, TCP_KEEPALIVE_INTVL 75 s,
--          TCP_KEEPALIVE_PROBES 9 (include/net/tcp.h).
--   bsd:   TCPTV_KEEP_IDLE 7200 s, TCPTV_KEEPINTVL 75 s, TCPTV_KEEPCNT 8.
--   rfc9293: RFC 1122 §4.2.3.6 sets only the idle floor (>= 2 hours); the
--          profile takes 4.4BSD's interval and count (75 s, 8).
M.keepalive = {
  rfc9293 = { idle = "7200s", interval = "75s", probes = 8 },
  linux = { idle = "7200s", interval = "75s", probes = 9 },
  bsd = { idle = "7200s", interval = "75s", probes = 8 },
}

-- When each SYN of an unanswered connect() leaves (seconds after the
-- first) and when connect() fails with ETIMEDOUT.
--   rfc9293: RFC 6298 §2.1 initial RTO 1 s, §5.5 doubling, §2.5 maximum
--            60 s; RFC 9293 §3.8.3 (MUST-23): R2 for a SYN at least
--            3 minutes: 8 SYNs, the last at 123 s, failure at 183 s.
--   linux:   6.5 and later, tcp_syn_linear_timeouts = 4: the first four
--            retransmissions 1 s apart, then doubling; tcp_syn_retries = 6
--            plus the 4 linear ones; failure after the last RTO (64 s).
--   bsd:     tcp_syn_backoff[] = {1,1,1,1,1,2,4,8,16,32,64,...} times
--            TCPTV_RTOBASE (1 s), and the connection-establishment limit
--            TCPTV_KEEP_INIT = 75 s.
M.syn_schedule = {
  rfc9293 = { sent = { 0, 1, 3, 7, 15, 31, 63, 123 }, fail = "183s" },
  linux = { sent = { 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 }, fail = "131s" },
  bsd = { sent = { 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 }, fail = "75s" },
}

-- Data bytes in a full-size segment on a 1500-byte link: MTU - 40 minus
-- the options each segment carries (RFC 9293 §3.7.1, MUST-16). Linux and
-- FreeBSD send the 12-byte timestamp option on every segment (RFC 7323):
-- tcp_current_mss / tcp_mss_update give 1448.
M.full_segment_1500 = { rfc9293 = 1460, linux = 1448, bsd = 1448 }

-- The same for any MTU: MTU - 40 less the 12-byte timestamp option where
-- the system sends it on every segment (Linux, FreeBSD; RFC 7323 §3).
function M.full_segment(profile, mtu)
  return mtu - 40 - (profile == "rfc9293" and 0 or 12)
end

-- When a timer armed at `at` for `timeout` (both in ns) fires.
--   rfc9293, bsd: at + timeout.
--   linux: on the timer wheel of kernel/time/timer.c at HZ 250
--          (CONFIG_HZ_250, the kernel the agreement table runs on; a jiffy
--          is 4 ms, jiffy 0 at time 0): the timeout in whole jiffies
--          (msecs_to_jiffies rounds up) is added to the current jiffy;
--          calc_wheel_index puts the timer in level n+1 from a delta of
--          LVL_START(n+1) = 63 << 3n jiffies on (9 levels), and calc_index
--          fires it at the next multiple of 8^n jiffies strictly after
--          its expiry: ((expires >> 3n) + 1) << 3n.
function M.timer(profile, at, timeout)
  if profile ~= "linux" then return at + timeout end
  local tick = 4000000
  local delta = (timeout + tick - 1) // tick
  local shift, start = 0, 63
  while shift < 24 and delta >= start do
    shift, start = shift + 3, start * 8
  end
  return ((((at // tick + delta) >> shift) + 1) << shift) * tick
end

-- How long `sock` stays in `state` when a timer of `timeout` (a duration)
-- armed as it entered the state ends it (M.timer), as a duration.
function M.timed_stay(profile, sock, state, timeout)
  local at
  for _, step in ipairs(sock.steps) do
    if step.state == state then at = step.time end
  end
  local ns = tcpsim.duration(timeout)
  return tcpsim.ns(M.timer(profile, at, ns) - at)
end

-- The three profiles, for scenarios that loop over them.
M.profiles = { "rfc9293", "linux", "bsd" }

return M
