-- Claims checked: "simultaneous open needs four segments instead of
-- three", "both ends go SYN_SENT -> SYN_RCVD and each sends a SYN,ACK",
-- "most Berkeley-derived stacks do not support simultaneous open", and
-- "simultaneous close also takes four segments and passes through
-- CLOSING".
--
-- RFC 9293 §3.5 (figure "Simultaneous Connection Synchronization") makes
-- simultaneous open part of the protocol, and BSD stacks since 4.4BSD
-- implement it, as Linux does. Each end sends its SYN, receives the other
-- SYN in SYN_SENT, answers SYN,ACK (same ISN) and enters SYN_RECEIVED; each
-- SYN,ACK then completes the other side, and since its SYN is old, each end
-- acknowledges it (§3.10.7.4: an unacceptable segment draws an ACK; Linux
-- and FreeBSD both send it; Linux 6.18 does, run with `tcpsim kernel
-- scenarios/handshake/simultaneous_open.lua`): six segments in all, not four.
-- Simultaneous close (§3.6, figure "Simultaneous Close Sequence"): both
-- FINs cross, each end goes FIN_WAIT_1 -> CLOSING on the other's FIN, then
-- CLOSING -> TIME_WAIT on the ACK: again four segments.
for _, profile in ipairs(tcpsim.profiles) do
  local sim = tcpsim.new { seed = 2, profile = profile }
  local a, b = sim:host "A", sim:host "B"
  local link = sim:link(a, b, { delay = "50ms" })
  local x = a:connect(b, 6000, { port = 5000 })
  local y = b:connect(a, 5000, { port = 6000 })
  sim:run_for "1s"
  local opened = { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED" }
  expect(x):trace(opened)
  expect(y):trace(opened)
  expect(#link:segments {}):equals(6)
  expect(#link:segments { flags = "SYN", exact = true }):equals(2)
  expect(#link:segments { flags = "SYN,ACK", exact = true }):equals(2)
  expect(#link:segments { flags = "ACK", exact = true }):equals(2)

  local before = #link:segments {}
  x:close()
  y:close()
  sim:run_for "1s"
  local closing = { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
                    "FIN_WAIT_1", "CLOSING", "TIME_WAIT" }
  expect(x):trace(closing)
  expect(y):trace(closing)
  expect(#link:segments {} - before):equals(4)
end
