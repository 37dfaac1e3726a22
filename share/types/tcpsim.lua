---@meta tcpsim
-- Editor annotations (Lua Language Server) for tcpsim scenarios: the
-- `tcpsim` table, simulations, hosts, links, sockets, fault rules, segments
-- and expectations. Definitions only; tcpsim never runs this file.
--
-- Use: put this folder in the language server's library, with one line in
-- the .luarc.json next to your scenarios:
--   { "workspace.library": ["/usr/share/tcpsim/types"] }
-- (or share/tcpsim/types under another install prefix, or share/types in
-- the source tree). tests/cli/annotations.sh checks every name here against
-- what the runtime registers.

---A duration: a string with a unit ("250us", "50ms", "1.5s", "2min", "1h"), or tcpsim.ns(n) for
---integer nanoseconds computed from the simulation's times. A bare number other than 0 is an error
---("10 is ambiguous").
---@alias tcpsim.Duration string|0

---A point in simulated time, in integer nanoseconds (sim.now, seg.sent, step.time).
---@alias tcpsim.Time integer

---A state name as RFC 9293 spells it, with underscores; "SYN-RECEIVED" and Linux's "SYN_RECV" are accepted too.
---@alias tcpsim.State
---| "CLOSED"
---| "LISTEN"
---| "SYN_SENT"
---| "SYN_RECEIVED"
---| "ESTABLISHED"
---| "FIN_WAIT_1"
---| "FIN_WAIT_2"
---| "CLOSE_WAIT"
---| "CLOSING"
---| "LAST_ACK"
---| "TIME_WAIT"

---A behaviour profile.
---@alias tcpsim.ProfileName "rfc9293"|"linux"|"bsd"

---What a hook decides for a segment: nil passes it.
---@alias tcpsim.Verdict nil|"drop"|"duplicate"|"hold"|{delay: tcpsim.Duration}

-- ---------------------------------------------------------------- tcpsim

---@class tcpsim
---@field profiles tcpsim.ProfileName[] the names of the built-in profiles
tcpsim = {}

---A new simulation. `--seed` and `--profile` on the command line override the table's.
---@param opts? tcpsim.SimOptions
---@return tcpsim.Sim
function tcpsim.new(opts) end

---A duration in nanoseconds: tcpsim.duration "60s" == 60000000000.
---@param d tcpsim.Duration
---@return integer
function tcpsim.duration(d) end

---Integer nanoseconds as a duration ("1500ns"), for times computed from the simulation's own:
---expect(s):entered("CLOSE_WAIT", tcpsim.ns(seg.arrived)).
---@param n integer
---@return string
function tcpsim.ns(n) end

---Profile knobs: accepted by tcpsim.new{} (every host) and sim:host{} (one host).
---@class tcpsim.Knobs
---@field msl? tcpsim.Duration maximum segment lifetime
---@field time_wait? tcpsim.Duration fixed TIME_WAIT length (0: 2*MSL)
---@field fin_timeout? tcpsim.Duration orphaned FIN_WAIT_2 timeout (0: none)
---@field rto_initial? tcpsim.Duration
---@field rto_min? tcpsim.Duration
---@field rto_max? tcpsim.Duration
---@field syn_retries? integer SYN retransmissions before ETIMEDOUT
---@field synack_retries? integer SYN,ACK retransmissions before the child is dropped
---@field retries? integer data/FIN retransmissions before ETIMEDOUT
---@field delack? tcpsim.Duration delayed-ACK timeout (0: ACK at once)
---@field keepalive_idle? tcpsim.Duration
---@field keepalive_interval? tcpsim.Duration
---@field keepalive_probes? integer
---@field sndbuf? integer bytes
---@field rcvbuf? integer bytes
---@field mss? integer
---@field rst_on_close_with_unread? boolean close() with unread data sends RST
---@field rst_on_keepalive_timeout? boolean RST when keepalive gives up
---@field tw_restart_on_ack? boolean any ACK-bearing segment restarts TIME_WAIT
---@field shut_rd_discard? boolean shutdown("rd") drops held and later data (FreeBSD sorflush)
---@field shut_rd_no_update? boolean after shutdown(SHUT_RD) a read sends no window update (Linux tcp_cleanup_rbuf: RCV_SHUTDOWN); false: the update goes as RFC 9293 §3.8.6.2.2 says
---@field rfc1337? boolean ignore RSTs in TIME_WAIT
---@field rst_has_ack? boolean active RSTs are RST,ACK with ack = RCV.NXT
---@field orphan_retries? integer retransmissions after close() before giving up
---@field syn_linear_timeouts? integer first N SYN retransmissions one initial RTO apart
---@field syn_timeout? tcpsim.Duration connection-establishment limit (0: none)
---@field quickack? integer immediate ACKs at connection start
---@field challenge_ack_limit? integer out-of-window/challenge ACKs per window (0: no limit)
---@field challenge_ack_window? tcpsim.Duration the rate limit's window
---@field rto_slop? tcpsim.Duration added to every RTO (FreeBSD tcp_rexmit_slop)
---@field persist_min? tcpsim.Duration lower bound of the persist interval (0: RTO-based)
---@field persist_max? tcpsim.Duration upper bound of the persist interval
---@field zero_window_probe_no_data? boolean probes carry no data, SEQ = SND.UNA - 1
---@field nagle_minshall? boolean Minshall's Nagle variant
---@field fin_timeout_idle? boolean FIN_WAIT_2 timeout counts idle time, rechecked every keepalive interval
---@field backlog_model? "rfc"|"linux"|"bsd" how a full backlog is handled
---@field syn_recv_rules? "rfc"|"linux"|"bsd" RST and SYN arriving in SYN_RECEIVED
---@field abort_rst_closing? "never"|"unsent"|"always" RST on abort in CLOSING/LAST_ACK
---@field listen_shutdown? "close"|"linux"|"bsd" shutdown() on a listening socket
---@field listen_connect? "open"|"eisconn"|"eopnotsupp" connect() on a listening socket
---@field port_lo? integer lowest ephemeral port
---@field port_hi? integer highest ephemeral port
---@field mss_floor? integer the send MSS never goes below this
---@field syn_loss_cwnd_after? integer SYN timeouts after which the initial window is one segment
---@field old_segment_ack? boolean an old (retransmitted) segment's ACK field is still processed
---@field zero_window_fin? boolean a bare FIN is accepted at a zero window
---@field edge_fin? boolean a FIN right after data ending at the receive window's right edge is taken: the FIN takes no room in the window (FreeBSD tcp_do_segment); false: SEG.LEN counts it (RFC 9293)
---@field beyond_window_drop? boolean a segment ending beyond the receive window is dropped whole while bytes wait unread (Linux 6.17 tcp_sequence); false: the part in the window is kept
---@field rst_close_wait_epipe? boolean a reset received in CLOSE_WAIT leaves the error EPIPE (Linux tcp_reset); false: ECONNRESET (RFC 9293, FreeBSD)
---@field rst_sack_edge? boolean an RST at the highest right edge of the SACK blocks the receiver would send (data held out of order on a SACK connection) resets (Linux tcp_validate_incoming); false: a challenge ACK (RFC 5961 §3.2, FreeBSD)
---@field dsack? "none"|"linux"|"bsd" D-SACK (RFC 2883) on a SACK connection: octets received twice reported as the first block; "linux" counts a FIN in them (tcp_dsack_set), "bsd" data octets only and ACKs old data at once (tcp_do_segment todrop, tcp_update_dsack_list); "none": SACK blocks alone
---@field rst_opts? "none"|"ts"|"ts_sack" the options an active RST (abort, linger 0, close with unread data, a timeout's give-up) carries where agreed: "ts_sack" timestamps and SACK blocks (Linux tcp_send_active_reset -> tcp_established_options), "ts" timestamps (RFC 7323 §3.2, FreeBSD tcp_drop -> tcp_output), "none" no options
---@field rst_window? boolean an active RST (abort, linger 0, close with unread data, a timeout's give-up) carries the window an ACK sent then would (Linux __tcp_transmit_skb: tcp_select_window); false: 0 (FreeBSD tcp_output, RFC 9293)
---@field sack_fin_reset? boolean the FIN taken in sequence forgets the SACK report, its blocks and a D-SACK block waiting to be sent (Linux tcp_fin: tcp_sack_reset)
---@field sack_fin? boolean a FIN held out of order counts in its SACK block, one past the data, and a bare FIN makes a block of its own octet (Linux: end_seq counts it); false: data octets only (FreeBSD)
---@field rst_at_fin? boolean in CLOSE_WAIT, CLOSING and LAST_ACK an RST at RCV.NXT - 1, the peer's FIN, resets (Linux tcp_reset_check); false: it is out of the window and dropped (RFC 9293, RFC 5961 §3.2)
---@field rst_closing_reset? boolean a reset received in CLOSING or LAST_ACK leaves the error ECONNRESET (Linux tcp_reset, FreeBSD tcp_do_segment); false: no error (RFC 9293)
---@field err_once? boolean the send or receive that reports the connection's error clears it, later ones find the connection shut both ways (Linux sock_error, FreeBSD so_error = 0); false: every call reports it
---@field recv_err_first? boolean a receive reports the error before end of stream (FreeBSD soreceive_generic); false: end of stream first (Linux, RFC 9293)
---@field send_epipe_first? boolean a send on a connection shut for sending (shutdown, or ended) fails with EPIPE before the error (FreeBSD sosend_generic); false: the error first
---@field send_unconnected_epipe? boolean a send on a socket not connected (never connected, a connect shutdown ended in SYN_SENT, a listener) fails with EPIPE (Linux sk_stream_wait_connect); false: ENOTCONN (RFC 9293 §3.10.2, FreeBSD sosend_generic)
---@field closed_deletes_tcb? boolean a connection that enters CLOSED (an RST, a timeout, LAST_ACK acknowledged, TIME_WAIT expired) has its TCB deleted: queues flushed and, its error reported, send, recv and close answer ENOTCONN (RFC 9293 §3.10.7.4, §3.10.8; §3.10.2-4 CLOSED: "connection does not exist"); false: the bytes stay readable, then end of stream, EPIPE and a close that succeeds (Linux tcp_done, FreeBSD soisdisconnected)
---@field time_wait_bsd_rules? boolean FreeBSD tcp_twcheck rules in TIME_WAIT
---@field close_embryonic_silent? boolean close() in an active SYN_RECEIVED sends nothing
---@field option_layout? "rfc"|"linux"|"bsd" order and padding of the TCP options sent
---@field rcvbuf_max? integer largest receive buffer, which sets the window scale (0: rcvbuf)
---@field rcv_win_ratio? integer share of the receive buffer offered as window, in 1/256
---@field init_window_mss_multiple? boolean a SYN's window is rounded down to whole segments
---@field syn_bad_ack_rexmit? tcpsim.Duration SYN again this soon after an unacceptable ACK in SYN_SENT (0: RTO)
---@field delack_max? tcpsim.Duration Linux's ATO grows from delack up to this (0: a fixed delack)
---@field tlp? boolean tail loss probe about 2·SRTT after the last segment (SACK connections)
---@field ss_full_ack? boolean slow start grows cwnd by every segment an ACK covers (Linux tcp_slow_start), not one SMSS at most (RFC 5681)
---@field rto_min_var? boolean rto_min floors the RTO's variance term (Linux: RTO = SRTT + max(mdev, rto_min)), not the RTO
---@field pingpong? boolean with delack_max: a reply within the ATO or a FIN makes the connection interactive (no quick ACKs)
---@field ack_wnd_check? boolean with delack_max: more than one full segment unacknowledged is ACKed at once only if the window offered would not shrink (Linux __tcp_ack_snd_check); false: at once whatever the window
---@field delack_tick? tcpsim.Duration with delack_max and timer_hz 0: the wait of a delayed ACK due at an ATO of 0, Linux's next timer tick (0: at once)
---@field timer_hz? integer timers run on Linux's timer wheel at this HZ (100, 250, 1000: jiffy 0 at time 0, each deadline rounded up to its wheel bucket, kernel/time/timer.c); 0: exact timers
---@field comp_sack_delay? tcpsim.Duration with delack_max, on SACK connections: duplicate ACKs past the third for one RCV.NXT are held min(SRTT/20, this), then one goes (Linux SACK compression; 0: off)
---@field comp_sack_slack? tcpsim.Duration with comp_sack_delay: added to the hold (the kernel timer's slack, which it fires at the end of)
---@field comp_sack_nr? integer with comp_sack_delay: at most this many duplicate ACKs held (0..255); one more goes at once
---@field embryo_reset_closed? boolean a passive SYN_RECEIVED ended by RST or SYN shows CLOSED (its request dropped), not LISTEN
---@field wnd_mss_round? boolean at window scale 0 the window offered is rounded down to whole segments (Linux __tcp_select_window)
---@field sndbuf_expand? integer a send buffer the user did not size grows to this many times max(10, cwnd) segments of socket memory (Linux tcp_sndbuf_expand; 0: fixed)
---@field sndbuf_max? integer the largest size sndbuf_expand grows the send buffer to (Linux tcp_wmem[2])
---@field read_ack? boolean a read that empties the receive queue sends the ACK owed for a pushed or short segment (Linux tcp_cleanup_rbuf)
---@field grow_window? boolean the window offered grows by two segments per data segment up to the clamp, each growth ACKed at once (Linux rcv_ssthresh, tcp_grow_window)
---@field scaling_ratio? integer with grow_window: the receiving driver's payload-to-memory ratio in 1/256, taken from the first data segment (Linux tcp_measure_rcv_mss; 0: rcv_win_ratio stays)
---@field rcv_autotune? boolean with timestamps: a read that took more than the receive space within one receiver RTT grows the receive buffer, its clamp and the window (Linux tcp_rcv_space_adjust)

---@class tcpsim.SimOptions: tcpsim.Knobs
---@field seed? integer default 1
---@field profile? tcpsim.ProfileName default "rfc9293"
---@field max_events? integer default 1e8
---@field max_time? tcpsim.Duration default "24h"
---@field schedule? string a fault schedule, "7:drop,12:dup" ("-": none, invariants checked), as tcpsim run --schedule (docs/explore.md)
---@field settle? tcpsim.Duration with schedule: how long the run settles before the invariants are checked (default "10min")
---@field hosts? integer how many hosts the scenario will add (0..4194304): the heap is reserved once for them; a hint, outputs are the same (not made when 2.5 KiB a host and 64 MiB would pass --max-memory)
---@field keep_received? boolean default true; false: sockets count the bytes read (sock.nreceived) without keeping them, and sock.received and expect(sock):received raise an error
---@field draws? "stream"|"keyed" default "stream": each link draws a packet's loss, jitter, reordering, duplication and corruption from its own stream; "keyed": a TCP segment's draws come from a key naming it (flow, relative seq and ack, length, flags, how many times sent), so the same segment meets the same fate whenever it is sent (tcpsim kernel plays both runs keyed)
---@field swarm? table<string, table|number|string|false> knob ranges tcpsim swarm draws each seed's knobs from: { loss = {0, 0.2}, delay = {"1ms", "100ms"}, mtu = false } (docs/explore.md, "Swarm")

---@class tcpsim.HostOptions: tcpsim.Knobs
---@field name? string
---@field addr? string "10.0.0.7"; default 10.0.0.1, .2, ... in order
---@field profile? tcpsim.ProfileName

-- ---------------------------------------------------------------- simulation

---A simulation: a world of hosts and links with its own clock and seed.
---@class tcpsim.Sim
---@field now tcpsim.Time the current simulated time
---@field seed integer
---@field profile tcpsim.ProfileName
---@field events integer events run so far
local Sim = {}

---A host with a TCP stack: sim:host "A" or sim:host { name = "A", addr = ..., <knobs> }.
---@param name_or_opts string|tcpsim.HostOptions
---@return tcpsim.Host
function Sim:host(name_or_opts) end

---A link between two hosts.
---@param a tcpsim.Host
---@param b tcpsim.Host
---@param opts? tcpsim.LinkOptions
---@return tcpsim.Link
function Sim:link(a, b, opts) end

---Runs until no events remain (a limit reached is an error).
function Sim:run() end

---Runs for a duration.
---@param d tcpsim.Duration
function Sim:run_for(d) end

---Runs to an absolute time.
---@param t tcpsim.Duration
function Sim:run_to(t) end

---@class tcpsim.RunUntilOptions
---@field soft? boolean return false instead of raising an error when fn() never held

---Runs until fn() returns true (checked after each event), at most `timeout` (default: until no
---event is left). If fn() never held, an error naming this line and the timeout; with
---{soft = true}, false instead.
---@param fn fun(): boolean
---@param timeout? tcpsim.Duration
---@param opts? tcpsim.RunUntilOptions
---@return boolean held true (false only with soft)
function Sim:run_until(fn, timeout, opts) end

---Runs one event.
---@return boolean ran false when no event remains
function Sim:step() end

---Calls fn() at time t.
---@param t tcpsim.Duration
---@param fn fun()
function Sim:at(t, fn) end

---Calls fn() after a duration.
---@param d tcpsim.Duration
---@param fn fun()
function Sim:after(d, fn) end

---A note in the trace and the ladder.
---@param text string
function Sim:log(text) end

---A raw peer: an endpoint with no stack linked to `host` (a handle or its address); make stack
---hosts first. Segments are sent and expected in packetdrill's notation or as tables.
---@param host_or_addr tcpsim.Host|string
---@param opts? tcpsim.RawPeerOptions
---@return tcpsim.RawPeer
function Sim:raw_peer(host_or_addr, opts) end

---The scenario's own invariant: fn() runs after every step that reaches a stack and must return
---true; false, nil or an error fails the run (tcpsim run) or the schedule (tcpsim explore).
---@param name string
---@param fn fun(): boolean
function Sim:invariant(name, fn) end

---A duration in nanoseconds (sim.duration "60s" or sim:duration "60s").
---@param d tcpsim.Duration
---@return integer
function Sim.duration(d) end

-- ---------------------------------------------------------------- hosts

---@class tcpsim.Host
---@field name string
---@field addr string
---@field profile tcpsim.ProfileName
---@field up boolean false while crashed
---@field connections integer connections its stack holds
local Host = {}

---Socket options, in listen/connect options or socket:setopt{}.
---@class tcpsim.SocketOptions
---@field linger0? boolean close() sends RST
---@field keepalive? boolean
---@field keepidle? tcpsim.Duration
---@field keepintvl? tcpsim.Duration
---@field keepcnt? integer
---@field sndbuf? integer
---@field rcvbuf? integer
---@field mss? integer
---@field msl? tcpsim.Duration
---@field isn? integer initial sequence number
---@field nodelay? boolean
---@field user_timeout? tcpsim.Duration Linux TCP_USER_TIMEOUT: ETIMEDOUT once data waited this long
---@field cork? boolean Linux TCP_CORK: a partial segment waits (persist timer, uncork, close)
---@field autoread? boolean read arriving data at once

---@class tcpsim.ListenOptions: tcpsim.SocketOptions
---@field backlog? integer default 128

---@class tcpsim.ConnectOptions: tcpsim.SocketOptions
---@field port? integer local port (default: ephemeral)

---@class tcpsim.SetoptOptions: tcpsim.SocketOptions

---A listening socket.
---@param port integer
---@param opts? tcpsim.ListenOptions
---@return tcpsim.Socket
function Host:listen(port, opts) end

---An active open to a host (or "10.0.0.2").
---@param peer tcpsim.Host|string
---@param port integer
---@param opts? tcpsim.ConnectOptions
---@return tcpsim.Socket
function Host:connect(peer, port, opts) end

---The stack vanishes without a word: its connections show CLOSED.
function Host:crash() end

---A fresh stack after a crash.
function Host:restart() end

-- ---------------------------------------------------------------- sockets

---One step of a socket's state trace.
---@class tcpsim.Step
---@field state tcpsim.State
---@field time tcpsim.Time
---@field cause "user"|"segment"|"timer"
---@field note string

---@class tcpsim.SocketStats
---@field segs_in integer
---@field segs_out integer
---@field retransmits integer
---@field bytes_in integer
---@field bytes_out integer
---@field dup_acks_in integer
---@field challenge_acks integer
---@field keepalive_probes integer
---@field persist_probes integer

---Linux's TCP_INFO fields (without tcpi_); times in ns, counts in segments.
---@class tcpsim.SocketInfo
---@field state tcpsim.State
---@field ca_state "open"|"disorder"|"cwr"|"recovery"|"loss"
---@field retransmits integer
---@field probes integer
---@field backoff integer
---@field rto integer
---@field ato integer
---@field rtt integer
---@field rttvar integer
---@field snd_mss integer
---@field rcv_mss integer
---@field unacked integer
---@field lost integer
---@field retrans integer
---@field snd_ssthresh integer
---@field snd_cwnd integer
---@field total_retrans integer
---@field inq integer SIOCINQ: bytes ready to read
---@field outq integer SIOCOUTQ: bytes not yet acknowledged

---@class tcpsim.Socket
---@field state tcpsim.State the current state
---@field trace tcpsim.State[] every state it was in, in order
---@field steps tcpsim.Step[] the trace with time, cause and note
---@field error? string "ECONNREFUSED", "ETIMEDOUT", ...; nil when none
---@field stats tcpsim.SocketStats
---@field received string every byte read so far (an error under keep_received = false)
---@field nreceived integer how many bytes were read so far (#received, also under keep_received = false)
---@field readable integer bytes ready to read now
---@field port integer local port
---@field peer_port integer
---@field host tcpsim.Host
---@field id integer
---@field iss? integer ISS (RFC 9293 §3.3.1); nil in LISTEN and once CLOSED
---@field irs? integer IRS; nil until the SYN arrives
---@field snd_una? integer SND.UNA
---@field snd_nxt? integer SND.NXT
---@field snd_max? integer the highest SND.NXT sent
---@field rcv_nxt? integer RCV.NXT; nil until the SYN arrives
---@field snd_wnd? integer SND.WND in bytes (scaled); nil until the SYN,ACK
---@field rcv_wnd? integer RCV.WND in bytes (scaled); nil until the SYN arrives
local Socket = {}

---Queues a string, or n bytes of a fixed pattern; never loses data.
---@param data string|integer
function Socket:send(data) end

---Bytes ready now ("" if none), nil at the end of the stream.
---@param max? integer
---@return string|nil
function Socket:recv(max) end

---"wr" (default): closes the sending side (FIN after the queued data); "rd": closes the
---receiving side (profile rules, docs/scenarios.md); "rdwr": both.
---@param how? "rd"|"wr"|"rdwr"
function Socket:shutdown(how) end

---The connection's TCP_INFO view; nil once the connection is gone or released.
---@return tcpsim.SocketInfo|nil
function Socket:info() end

---getsockopt(SO_ERROR): the name of the error the next send or recv would raise ("ECONNRESET"...),
---cleared by reading it as by such a call; nil if none. s.error keeps naming it. Not on a kernel
---host.
---@return string|nil
function Socket:take_error() end

---RFC 9293 CLOSE. Under rfc9293 it raises ENOTCONN once the TCB was deleted (a reset, a timeout,
---LAST_ACK acknowledged, TIME_WAIT expired: §3.10.4 CLOSED), the socket released all the same.
function Socket:close() end

---RFC 9293 ABORT: RST, no TIME_WAIT.
function Socket:abort() end

---(listener) The next established connection, or nil and "no connection has been accepted (use
---accept_wait)".
---@return tcpsim.Socket|nil
---@return string? message when nil
function Socket:accept() end

---(listener) Runs the simulation until a connection can be accepted (checked after each event) and
---returns it; an error naming this line if none comes within `timeout` (default "10min").
---@param timeout? tcpsim.Duration
---@return tcpsim.Socket
function Socket:accept_wait(timeout) end

---(listener) Calls fn with each connection accept() would return, already accepted: those ready
---now at once, each later one after the state change that makes it ready (its ESTABLISHED), from
---the event loop like on_state. A later call replaces fn. Under bsd the one ECONNABORTED accept()
---gives after shutdown("rd") is skipped, as a server's accept loop does. Not on a kernel host.
---@param fn fun(conn: tcpsim.Socket)
function Socket:on_accept(fn) end

---(listener) Its connections accept() has not handed out, oldest first: in SYN_RECEIVED, on the
---accept queue, or ended before accept (an RST in SYN_RECEIVED returns one to LISTEN). Read-only
---until accepted; each trace starts at SYN_RECEIVED.
---@return tcpsim.Socket[]
function Socket:pending() end

---(listener) Active OPEN on the listening socket itself (RFC 9293 §3.10.1: LISTEN -> SYN_SENT);
---an error when the profile refuses it (knob listen_connect: linux EISCONN, bsd EOPNOTSUPP).
---@param peer tcpsim.Host|string
---@param port integer
function Socket:connect(peer, port) end

---Sets socket options.
---@param opts tcpsim.SetoptOptions
function Socket:setopt(opts) end

---Calls fn after each state change.
---@param fn fun(sock: tcpsim.Socket, from: tcpsim.State, to: tcpsim.State)
function Socket:on_state(fn) end

-- ---------------------------------------------------------------- links

---Parameters of one link direction.
---@class tcpsim.LinkParams
---@field delay? tcpsim.Duration
---@field jitter? tcpsim.Duration
---@field bandwidth? integer|string bits/s or "10Mbps"
---@field queue? integer packets (0: unlimited)
---@field mtu? integer default 1500
---@field loss? number probability in [0, 1]
---@field duplicate? number
---@field reorder? number
---@field reorder_delay? tcpsim.Duration how long a reordered packet is held back (default: the delay, at least 1ms)
---@field corrupt? number
---@field up? boolean

---@class tcpsim.LinkOptions: tcpsim.LinkParams
---@field ab? tcpsim.LinkParams a to b only
---@field ba? tcpsim.LinkParams b to a only

---@class tcpsim.LinkSetOptions: tcpsim.LinkParams
---@field from? tcpsim.Host the direction to change (default both)

---@class tcpsim.PartitionOptions
---@field from? tcpsim.Host one direction (default both)
---@field at? tcpsim.Duration when (default now)
---@field heal? tcpsim.Duration when it heals

---Which segments a call is about.
---@class tcpsim.Filter
---@field from? tcpsim.Host
---@field flags? string "SYN,ACK": all these set
---@field exact? boolean exactly these flags (PSH ignored)
---@field len? integer payload bytes
---@field seq? integer SEG.SEQ (absolute)
---@field ack? integer SEG.ACK (absolute; only segments with ACK set)
---@field after? tcpsim.Duration sent at this time or later
---@field before? tcpsim.Duration sent before this time

---@class tcpsim.RuleOptions: tcpsim.Filter
---@field nth? integer act on the nth match
---@field count? integer matches to act on
---@field when? fun(): boolean
---@field match? fun(seg: tcpsim.Segment): boolean
---@field by? tcpsim.Duration (delay_next) how long
---@field copies? integer (duplicate_next) how many
---@field last? boolean after every rule made without last, whenever made

---@class tcpsim.HookFilter: tcpsim.Filter
---@field last? boolean after every rule made without last, whenever made

---@class tcpsim.InjectOptions
---@field from tcpsim.Host
---@field flags? string
---@field seq? integer
---@field ack? integer
---@field win? integer
---@field data? string up to 65495 bytes less the options (one IPv4 datagram)
---@field opts? string|tcpsim.TcpOptions|tcpsim.TcpOption[] "<mss 1460,nop,wscale 7>", named fields or a list in wire order
---@field sport? integer
---@field dport? integer

---TCP options by name, laid out as Linux writes them.
---@class tcpsim.TcpOptions
---@field mss? integer
---@field wscale? integer
---@field sack_ok? boolean
---@field ts? {val: integer, ecr: integer}
---@field sack? integer[][] {{left, right}, ...}

---One TCP option in wire order.
---@class tcpsim.TcpOption
---@field kind "eol"|"nop"|"mss"|"wscale"|"sack_ok"|"ts"|"sack"|"malformed"|integer
---@field mss? integer
---@field wscale? integer
---@field val? integer
---@field ecr? integer
---@field blocks? integer[][]
---@field data? string the bytes after kind and length (a numbered kind)

---A segment sent on a link.
---@class tcpsim.Segment
---@field from string host name
---@field to string host name
---@field id integer
---@field dup_of? integer the id it duplicates
---@field flags string "SYN,ACK"
---@field seq integer
---@field ack integer
---@field len integer
---@field win integer
---@field sport integer
---@field dport integer
---@field opts tcpsim.TcpOption[] its TCP options in wire order
---@field opts_text string the same in packetdrill's notation, "" when none
---@field sent tcpsim.Time
---@field dropped? boolean
---@field arrived? tcpsim.Time
---@field reason? string why it was dropped

---Counters of one link direction.
---@class tcpsim.LinkStats
---@field sent integer
---@field delivered integer
---@field dropped_loss integer
---@field dropped_queue integer
---@field dropped_mtu integer
---@field dropped_down integer
---@field dropped_fault integer
---@field duplicated integer
---@field reordered integer
---@field corrupted integer
---@field held integer
---@field bytes_delivered integer

---@class tcpsim.Link
---@field stats table<integer|string, tcpsim.LinkStats> [1] a>b, [2] b>a, also by "A>B"
---@field exchange string[] {"A>B SYN", "B>A SYN,ACK", ...}; " X" marks a lost segment
local Link = {}

---Changes parameters (of one direction with `from`).
---@param opts tcpsim.LinkSetOptions
function Link:set(opts) end

---Takes a direction (or both) down.
---@param opts? tcpsim.PartitionOptions
function Link:partition(opts) end

---Brings a direction (or both) up.
---@param opts? tcpsim.PartitionOptions
function Link:heal(opts) end

---Drops the next matching segment.
---@param opts tcpsim.RuleOptions
---@return tcpsim.Rule
function Link:drop_next(opts) end

---Duplicates the next matching segment (`copies`).
---@param opts tcpsim.RuleOptions
---@return tcpsim.Rule
function Link:duplicate_next(opts) end

---Delays the next matching segment (`by`).
---@param opts tcpsim.RuleOptions
---@return tcpsim.Rule
function Link:delay_next(opts) end

---Holds the next matching segment until rule:release() or link:release().
---@param opts tcpsim.RuleOptions
---@return tcpsim.Rule
function Link:hold_next(opts) end

---Calls fn(seg) for every matching segment; its result decides.
---@param fn fun(seg: tcpsim.Segment): tcpsim.Verdict
---@param filter? tcpsim.HookFilter
---@return tcpsim.Rule
function Link:hook(fn, filter) end

---Releases every held packet on the link.
function Link:release() end

---Segments sent, in order.
---@param filter? tcpsim.Filter
---@return tcpsim.Segment[]
function Link:segments(filter) end

---The last matching segment, or nil.
---@param filter? tcpsim.Filter
---@return tcpsim.Segment|nil
function Link:last(filter) end

---Sends a crafted segment (unset fields from the last segment `from` sent).
---@param opts tcpsim.InjectOptions
function Link:inject(opts) end

---A fault rule returned by drop_next and friends.
---@class tcpsim.Rule
---@field fired integer times it acted
---@field held integer packets it holds now
local Rule = {}

---Releases the packets this rule holds.
function Rule:release() end

-- ---------------------------------------------------------------- raw peers

---@class tcpsim.RawPeerOptions
---@field name? string host name of the peer (default "peer")
---@field addr? string its address (default "192.0.2.1")
---@field sport? integer the peer's port (default 40000)
---@field dport? integer the host's port (default 8080)
---@field isn? integer the peer's ISN: its relative 0 (default 100000)
---@field absolute? boolean sequence numbers as on the wire (default false: relative)
---@field tolerance? tcpsim.Duration how far from a given time a segment may arrive (default "4ms")
---@field wait? tcpsim.Duration how long expect waits when no time is given (default "10s")
---@field delay? tcpsim.Duration one-way delay of the peer's link
---@field mtu? integer MTU of the peer's link

---A segment as a table (for peer:send and peer:expect); a string in packetdrill's one-line
---notation says the same: "[time] flags start:end(len) [ack N] [win N] [urg N] [<options>]".
---@class tcpsim.PeerSegmentSpec
---@field flags string "S", "S.", ".", "P.", "F.", "R"...
---@field time? string "0.1", "+0.1", and for expect "*" or "0.1~0.3"
---@field seq? integer default: the next in that direction
---@field ack? integer default: the next in the other direction
---@field len? integer default: #data
---@field win? integer default 65535 when sending; not checked when expecting
---@field urg? integer
---@field opts? string|table "<mss 1460,nop,wscale 7>" or {mss = 1460, wscale = 7, ...}
---@field data? string payload to send
---@field wait? tcpsim.Duration
---@field absolute? boolean

---@class tcpsim.PeerCallOptions
---@field absolute? boolean
---@field wait? tcpsim.Duration

---@class tcpsim.PeerRecvOptions
---@field wait? tcpsim.Duration run up to this long for a segment
---@field absolute? boolean

---A segment the stack sent to a raw peer, numbers in the peer's space.
---@class tcpsim.PeerSegment
---@field time tcpsim.Time arrival
---@field flags string packetdrill's notation ("S.", "F.")
---@field seq integer
---@field ack integer
---@field len integer
---@field win integer
---@field urg integer
---@field opts? string options in packetdrill's notation
---@field options? table[] the options as a list ({kind = "mss", mss = 1460}, ...)
---@field sport integer
---@field dport integer
---@field data string payload
---@field line string the whole segment as expect writes it

---@class tcpsim.RawPeer
---@field name string
---@field addr string
---@field sport integer
---@field dport integer
---@field isn integer
---@field stack_isn? integer nil until a SYN from the stack arrived
---@field queued integer segments received and not taken
---@field link tcpsim.Link the peer's link
---@field host tcpsim.Host the host under test
local RawPeer = {}

---Sends one segment (a time first runs the world to that instant).
---@param seg string|tcpsim.PeerSegmentSpec
---@param opts? tcpsim.PeerCallOptions
function RawPeer:send(seg, opts) end

---Takes the next segment the stack sent (waiting for it) and checks it; an error naming this line
---and both segments if it differs.
---@param seg string|tcpsim.PeerSegmentSpec
---@param opts? tcpsim.PeerCallOptions
---@return tcpsim.PeerSegment
function RawPeer:expect(seg, opts) end

---Runs that long; an error if any segment arrives meanwhile.
---@param d tcpsim.Duration
function RawPeer:expect_none(d) end

---The next queued segment without checking it, or nil.
---@param opts? tcpsim.PeerRecvOptions
---@return tcpsim.PeerSegment?
function RawPeer:recv(opts) end

---Runs the world that long; "+T" then counts from its end.
---@param d tcpsim.Duration
function RawPeer:advance(d) end

-- ---------------------------------------------------------------- expectations

---What expect(x) returns: each method checks, prints FAIL file:line with
---expected and actual when it does not hold, and the scenario goes on.
---@class tcpsim.Expectation
local Expectation = {}

---The state trace is exactly this.
---@param states tcpsim.State[]
---@return boolean
function Expectation:trace(states) end

---These states appear in this order (others may come between).
---@param states tcpsim.State[]
---@return boolean
function Expectation:contains(states) end

---The current state is `state`.
---@param state tcpsim.State
---@return boolean
function Expectation:state(state) end

---The state never appeared.
---@param state tcpsim.State
---@return boolean
function Expectation:never(state) end

---The connection ended with this error (nil: none).
---@param name? string
---@return boolean
function Expectation:error(name) end

---The (last or nth) visit to `state` began at t.
---@param state tcpsim.State
---@param t tcpsim.Duration
---@param nth? integer
---@return boolean
function Expectation:entered(state, t, nth) end

---The (last or nth) visit to `state` ended at t.
---@param state tcpsim.State
---@param t tcpsim.Duration
---@param nth? integer
---@return boolean
function Expectation:left(state, t, nth) end

---The visit lasted exactly d.
---@param state tcpsim.State
---@param d tcpsim.Duration
---@param nth? integer
---@return boolean
function Expectation:spent(state, d, nth) end

---Everything read (and readable now) equals `bytes`.
---@param bytes string
---@return boolean
function Expectation:received(bytes) end

---(link) These segments were sent in this order, others between.
---@param segments string[] {"A>B SYN", ...}
---@return boolean
function Expectation:saw(segments) end

---(link) Exactly these segments were sent.
---@param segments string[]
---@return boolean
function Expectation:exchange(segments) end

---The value equals w.
---@param w any
---@return boolean
function Expectation:equals(w) end

---The value is true; msg says what it means.
---@param msg? string
---@return boolean
function Expectation:holds(msg) end

---The value is at least n.
---@param n number
---@return boolean
function Expectation:at_least(n) end

---The value is at most n.
---@param n number
---@return boolean
function Expectation:at_most(n) end

---Picks what the expectation is about: a socket, a link or a plain value. The label, if given,
---appears in the FAIL line: FAIL file:line: expect(socket, "label"):trace.
---@param subject tcpsim.Socket|tcpsim.Link|any
---@param label? string
---@return tcpsim.Expectation
function expect(subject, label) end
