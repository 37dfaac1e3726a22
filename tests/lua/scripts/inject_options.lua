-- checks: 24
-- link:inject carries TCP options and GRO-sized data; segments read back
-- (queries, hooks, rule callbacks) show their options in wire order.
-- Expected values come from the RFCs: the SYN,ACK acknowledges SEG.SEQ+1
-- (RFC 9293 §3.10.7.2), carries window scale only if the SYN did (RFC 7323
-- §2.2), timestamps only if the SYN did, with TSecr echoing its TSval (RFC
-- 7323 §3.2), SACK-permitted only if the SYN did (RFC 2018 §2), and an MSS
-- of the interface MTU less 40 (RFC 9293 §3.7.1).
local sim = tcpsim.new { seed = 1, profile = "linux" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)

local function kinds(opts)
  local k = {}
  for i, o in ipairs(opts) do k[i] = tostring(o.kind) end
  return table.concat(k, ",")
end

-- A SYN with every option, in packetdrill's notation.
link:inject { from = a, flags = "SYN", seq = 1000, win = 65535, sport = 4000, dport = 80,
              opts = "<mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>" }
sim:run_for "15ms"
local syn = link:segments { from = a, flags = "SYN" }[1]
expect(syn.opts_text):equals "<mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>"
expect(kinds(syn.opts)):equals "mss,sack_ok,ts,nop,wscale"
expect(syn.opts[1].mss):equals(1000)
expect(syn.opts[3].val):equals(100)
expect(syn.opts[5].wscale):equals(7)
local synack = link:last { from = b, flags = "SYN,ACK" }
expect(synack.ack):equals(1001)
local by = {}
for _, o in ipairs(synack.opts) do by[o.kind] = o end
expect(by.mss and by.mss.mss):equals(1460)
expect(by.ts and by.ts.ecr):equals(100)
expect(by.wscale ~= nil):holds "window scale answered"
expect(by.sack_ok ~= nil):holds "SACK-permitted answered"

-- The same SYN as named fields, without timestamps and SACK: the answer
-- has neither.
link:inject { from = a, flags = "SYN", seq = 5000, win = 65535, sport = 4001, dport = 80,
              opts = { mss = 1200, wscale = 2 } }
sim:run_for "15ms"
expect(link:last { from = a, flags = "SYN" }.opts_text):equals "<mss 1200,nop,wscale 2>"
synack = link:last { from = b, flags = "SYN,ACK" }
expect(synack.ack):equals(5001)
expect(kinds(synack.opts):find "ts"):equals(nil)
expect(kinds(synack.opts):find "sack_ok"):equals(nil)

-- No options at all: only the MSS comes back.
link:inject { from = a, flags = "SYN", seq = 9000, win = 65535, sport = 4002, dport = 80 }
sim:run_for "15ms"
expect(#link:last { from = a, flags = "SYN" }.opts):equals(0)
expect(link:last { from = b, flags = "SYN,ACK" }.opts_text):equals "<mss 1460>"

-- An exact layout as an option list; a list of 3 bytes is padded with one
-- zero byte (RFC 9293 §3.1), which reads back as eol.
link:inject { from = a, flags = "SYN", seq = 9500, win = 65535, sport = 4003, dport = 80,
              opts = { { kind = "wscale", wscale = 14 } } }
sim:run_for "15ms"
expect(link:last { from = a, flags = "SYN" }.opts_text):equals "<wscale 14,eol>"

-- Hooks and rule callbacks see the options of the segments they judge.
local hooked, matched
link:hook(function(seg) hooked = seg.opts_text end, { from = a, flags = "SYN" })
link:drop_next { from = b, flags = "SYN,ACK",
                 match = function(seg) matched = kinds(seg.opts); return false end }
local client = a:connect(b, 80)
sim:run_for "15ms"
-- Linux's own layout (tcp_options_write): MSS; SACK-permitted,TS; NOP,WS.
-- RFC 7323 §3.2: TSecr is zero when ACK is not set.
expect(hooked and hooked:match "^<mss 1460,sackOK,TS val %d+ ecr 0,nop,wscale %d+>$" ~= nil)
  :holds "the hook saw the SYN's options"
expect(matched):equals "mss,sack_ok,ts,nop,wscale"

-- GRO-sized data: once the link from A takes 64 KiB datagrams, one
-- injected segment carries 20000 bytes and RCV.NXT moves over all of them
-- (RFC 9293 §3.10.7.4, seventh step).
local peer = server:accept_wait()
sim:run_for "100ms"
link:set { from = a, mtu = 65535 }
local rcv_nxt = peer.rcv_nxt
expect(peer.rcv_wnd >= 20000):holds "the window takes 20000 bytes"
link:inject { from = a, flags = "ACK", seq = client.snd_nxt, ack = client.rcv_nxt,
              data = string.rep("x", 20000) }
sim:run_for "100ms"
expect(link:last { from = a, len = 20000 } ~= nil):holds "20000 bytes sent in one segment"
expect(peer.rcv_nxt):equals((rcv_nxt + 20000) % 2 ^ 32 // 1)
expect(#link:segments { from = b, flags = "ACK", ack = (rcv_nxt + 20000) % 2 ^ 32 // 1 } >= 1)
  :holds "B acknowledged all 20000 bytes"

-- The largest: one IPv4 datagram of 65535 bytes, 40 of them headers.
link:inject { from = a, flags = "ACK", seq = 1, ack = 1, data = string.rep("y", 65495) }
sim:run_for "1ms"
expect(link:last { from = a, len = 65495 } ~= nil):holds "a 65535-byte datagram"
