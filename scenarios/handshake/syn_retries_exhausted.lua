-- Nobody answers: every SYN is lost. A retransmits and gives up after the
-- profile's SYN retries: connect fails with ETIMEDOUT. Under the linux
-- profile (Linux 6.5 and later: tcp_syn_retries = 6 and
-- tcp_syn_linear_timeouts = 4, Documentation/networking/ip-sysctl.rst) the
-- first four timeouts keep the initial RTO of 1 s and only then does the
-- backoff double (RFC 6298 §5.5): SYNs leave at 0, 1, 2, 3, 4, 5, 7, 11,
-- 19, 35 and 67 s, and A gives up at 131 s (6 + 4 retransmissions, the
-- last one waited out for 64 s). FreeBSD (bsd) sends the same SYNs
-- (tcp_syn_backoff) but gives up at 75 s (TCPTV_KEEP_INIT); the RFC model
-- (rfc9293) doubles from the start (RFC 6298 §5.5, RTO at most 60 s) and
-- gives up at 183 s, past RFC 1122's three minutes.
local sim = tcpsim.new { seed = 1, profile = "linux" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
link:partition()

local client = a:connect(b, 80)
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "CLOSED" }
expect(client):error "ETIMEDOUT"
local syns = link:segments { from = a, flags = "SYN" }
local linear = { 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 }
local want = ({ rfc9293 = { 0, 1, 3, 7, 15, 31, 63, 123 }, linux = linear, bsd = linear })[sim.profile]
local gives_up = ({ rfc9293 = "183s", linux = "131s", bsd = "75s" })[sim.profile]
expect(#syns):equals(#want)
for i, s in ipairs(syns) do
  if want[i] then expect(s.sent):equals(sim.duration(want[i] .. "s")) end
end
expect(client):left("SYN_SENT", gives_up)
