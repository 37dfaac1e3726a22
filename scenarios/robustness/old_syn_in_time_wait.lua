-- An old duplicate SYN, then a new SYN, in TIME_WAIT: each profile's answer.
--
-- A raw peer writes them (a second stack never sends an old duplicate on
-- demand) to the end that sits in TIME_WAIT. Timestamps are offered; the rfc9293 profile
-- does not send them, linux and bsd agree them.
--
-- The stack closes first, so it is the end in TIME_WAIT (SND.NXT = RCV.NXT
-- = 2, TS.Recent = 1030). Then:
-- 1. The peer's first SYN again (seq 0, TS.Val 1000): an old duplicate,
--    below RCV.NXT and older than TS.Recent.
--    * rfc9293: §3.10.7.4, first step: in TIME-WAIT no more data can come
--      (the window is zero), so the segment is not acceptable and "an
--      acknowledgment should be sent in reply": <SEQ=SND.NXT><ACK=RCV.NXT>
--      <CTL=ACK> (the fourth step's challenge ACK, RFC 5961 §4.2, is the
--      same segment); TIME_WAIT goes on.
--    * linux: tcp_timewait_state_process: the SYN's TS.Val is older than
--      tw_ts_recent, so tcp_paws_reject refuses it (RFC 7323 §5); not a new
--      SYN, it is answered with an ACK (TCP_TW_ACK) and, PAWS-refused, it
--      restarts the TIME_WAIT timer (inet_twsk_reschedule).
--    * bsd: tcp_twcheck: a SYN not above RCV.NXT does not reopen, and "Drop
--      the segment if it does not contain an ACK": nothing is sent.
-- 2. A new SYN with a sequence number still below RCV.NXT (seq 1) but a
--    newer TS.Val (5000), as RFC 6191 §2 lets a timestamp decide.
--    * linux: "after(seq, rcv_nxt) || (saw_tstamp && tw_ts_recent - tsval
--      < 0)": accepted; TIME_WAIT ends and the listener answers with ISN =
--      tw_snd_nxt + 65535 + 2.
--    * rfc9293: an ACK again, as in 1. bsd: dropped again (sequence only).
-- 3. (rfc9293 and bsd) A SYN above RCV.NXT (seq 1000): bsd reopens
--    (SEQ_GT(th_seq, rcv_nxt), RFC 1122 §4.2.2.13); rfc9293 answers an ACK.
local sim = tcpsim.new { seed = 6 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080)
local profile = sim.profile
local ts = profile ~= "rfc9293"

peer:send "0.000 S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 1000 ecr 0>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535 <nop,nop,TS val 1010 ecr 0>"
local server = listener:accept_wait "1s"
server:close()
peer:expect "F. 1:1(0) ack 1 <...>"
peer:send "+0.01 F. 1:1(0) ack 2 win 65535 <nop,nop,TS val 1030 ecr 0>"
peer:expect "+0.02 . 2:2(0) ack 2 <...>"
expect(server):state "TIME_WAIT"
local old_isn = peer.stack_isn

-- 1. the old duplicate SYN
peer:send "+1 S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 1000 ecr 0>"
if profile == "bsd" then
  peer:expect_none "1s"
else
  peer:expect("+0.02 . 2:2(0) ack 2" .. (ts and " <...>" or ""))
end
expect(server):state "TIME_WAIT"

-- 2. a new SYN below RCV.NXT with a newer timestamp
peer:send "+1 S 1:1(0) win 65535 <mss 1460,nop,nop,TS val 5000 ecr 0>"
if profile == "linux" then
  peer:expect "+0.02 S. 0:0(0) ack 2 <...>"
  -- RFC 1122 §4.2.2.13 (1): the new ISN is above the old sequence space
  expect(peer.stack_isn):equals((old_isn + 2 + 65535 + 2) % 2^32)
  expect(server):state "CLOSED"
  expect(server.steps[#server.steps].note):equals "rcv SYN (new connection)"
  expect(server):trace { "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
  return
end
if profile == "bsd" then
  peer:expect_none "1s"
else
  peer:expect "+0.02 . 2:2(0) ack 2"
end
expect(server):state "TIME_WAIT"

-- 3. a SYN above RCV.NXT
peer:send "+1 S 1000:1000(0) win 65535 <mss 1460,nop,nop,TS val 6000 ecr 0>"
if profile == "bsd" then
  peer:expect "+0.02 S. 0:0(0) ack 1001 <...>"
  expect(server):state "CLOSED"
  expect(server.steps[#server.steps].note):equals "rcv SYN (new connection)"
else
  peer:expect "+0.02 . 2:2(0) ack 2"
  expect(server):state "TIME_WAIT"
  expect(server.stats.challenge_acks):equals(3)
end
