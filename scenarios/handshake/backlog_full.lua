-- A listener with a backlog of 1 that nobody accepts from, under the linux
-- profile. Linux's accept queue holds backlog + 1 connections
-- (sk_acceptq_is_full is "sk_ack_backlog > sk_max_ack_backlog"), so the
-- first two connections complete. The third SYN finds the accept queue
-- full: tcp_conn_request drops it silently, and the client keeps
-- retransmitting its SYN (1 s apart: tcp_syn_linear_timeouts). FreeBSD
-- (bsd) also lets two in (more than 3/2 of the backlog is refused); the
-- RFC model (rfc9293) refuses once SYN_RECEIVED + unaccepted reach the
-- backlog, so there only the first completes.
local sim = tcpsim.new { seed = 1, profile = "linux" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })

local server = b:listen(80, { backlog = 1 })
local first = a:connect(b, 80)
sim:run_for "1s"
local second = a:connect(b, 80)
sim:run_for "1s"
local third = a:connect(b, 80)
sim:run_for "2500ms"

local rfc = sim.profile == "rfc9293"
expect(first):state "ESTABLISHED"
expect(second):state(rfc and "SYN_SENT" or "ESTABLISHED")
expect(third):state "SYN_SENT"
expect(#link:segments { from = b, flags = "RST" }):equals(0)
if not rfc then expect(third.stats.retransmits):equals(2) end
