/*
 * tcp_profile — the built-in behaviour profiles. Every difference between
 * "the RFC", Linux and BSD is a value here, never a branch elsewhere; the
 * sources of each value are in docs/stack.md.
 */
#include <stddef.h>
#include <string.h>

#include "tcp_conn.h"

#define US(x)  ((uint64_t)(x)*1000ull)
#define MS(x)  ((uint64_t)(x)*1000000ull)
#define SEC(x) ((uint64_t)(x)*1000000000ull)

static const tcp_profile PROFILES[] = {
    {
        /* RFC 9293 with RFC 1122, 6298, 5961, 1337 where they apply. */
        .name = "rfc9293",
        .msl_ns = SEC(120),             /* RFC 9293 §3.4.2: MSL 2 minutes */
        .time_wait_ns = 0,              /* 2*MSL = 4 minutes */
        .fin_wait_2_timeout_ns = 0,     /* RFC 9293 has none */
        .rto_initial_ns = SEC(1),       /* RFC 6298 §2.1 */
        .rto_min_ns = SEC(1),           /* RFC 6298 §2.4 */
        .rto_max_ns = SEC(60),          /* RFC 6298 §2.5: at least 60 s */
        .syn_retries = 7,               /* 1+2+4+8+16+32+60+60 s = 183 s >= 3 min (RFC 1122 R2) */
        .synack_retries = 7,            /* the SYN,ACK carries a SYN: same R2 */
        .data_retries = 7,              /* 183 s at RTO 1 s >= 100 s (RFC 1122 §4.2.3.5) */
        .delack_ns = MS(200),           /* RFC 9293 §3.8.6.3: < 0.5 s; 4.4BSD's 200 ms */
        .keepalive_idle_ns = SEC(7200), /* RFC 1122 §4.2.3.6: >= 2 hours */
        .keepalive_intvl_ns = SEC(75),  /* 4.4BSD values: the RFC gives none */
        .keepalive_probes = 8,
        .sndbuf = 65535,
        .rcvbuf = 65535,
        .mss = 1460,
        .rst_on_close_with_unread = true, /* RFC 9293 §3.6: SHOULD (close() is full) */
        .rst_on_keepalive_timeout = false,
        .tw_restart_on_ack = false,
        .tw_paws_restart = false,
        .tw_rst = TCP_TW_RST_CLOSE,
        .tw_syn = TCP_TW_SYN_CHALLENGE,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = false,
        .send_wscale = false,
        .send_sack_perm = false,
        .rst_on_data_after_close = true, /* RFC 9293 §3.6: SHOULD */
        .init_cwnd_segs = 0,
        .rst_has_ack = false,     /* §3.10.5: <SEQ=SND.NXT><CTL=RST> */
        .orphan_retries = 0,      /* = data_retries */
        .syn_linear_timeouts = 0, /* RFC 6298 §5.5: double every time */
        .syn_timeout_ns = 0,
        .quickack = 0,
        .oow_ack_limit = 0, /* RFC 5961 §7 rate limit: MAY; none */
        .oow_ack_window_ns = 0,
        .oow_ack_data_exempt = false, /* no limit to be exempt from */
        .rto_slop_ns = 0,
        .persist_min_ns = 0,
        .persist_max_ns = 0,
        .zwp_no_data = false, /* §3.8.6.1: the probe carries one octet */
        .zwp_ack_rearm = false,
        .nagle_minshall = false,
        .fin_wait_2_idle = false,
        .backlog_model = TCP_BACKLOG_RFC,
        .syn_recv_rules = TCP_SYN_RECV_RFC,
        .port_lo = 49152, /* RFC 6335 §6 dynamic ports */
        .port_hi = 65535,
        .mss_floor = 64,
        .syn_loss_cwnd_after = 1, /* RFC 5681 §3.1 */
        .abort_rst_closing = TCP_ABORT_RST_NEVER,
        .old_segment_ack = false, /* §3.10.7.4 Table 6, strictly */
        .zero_window_fin = false, /* §3.10.7.4: only ACK, URG, RST at RCV.WND = 0 */
        .edge_fin = false,        /* §3.10.7.4: SEG.LEN counts the FIN */
        .tw_bsd_rules = false,
        .close_embryonic_silent = false, /* §3.10.4: FIN, FIN-WAIT-1 */
        .opt_layout = TCP_LAYOUT_RFC,    /* RFC 7323 Appendix A alignment */
        .rcvbuf_max = 0,                 /* the scale fits rcvbuf (RFC 7323 §2.3) */
        .rcv_win_ratio = 256,            /* the whole buffer */
        .init_wnd_mss_multiple = false,
        .syn_bad_ack_rexmit_ns = 0, /* §3.10.7.3: drop it; the RTO resends the SYN */
        .delack_max_ns = 0,         /* a fixed delay */
        .pingpong = false,
        .embryo_reset_closed = false, /* §3.10.7.4: "return this connection to LISTEN" */
        .wnd_mss_round = false,       /* §3.8.6.2.2: every free octet past the SWS threshold */
        .tlp = false,
        .rto_min_var = false, /* RFC 6298 §2.4: the floor is on the RTO */
        .read_ack = false,    /* §3.8.6.3: the delayed-ACK rules alone */
        .sndbuf_expand = 0,   /* the buffer the user asked for */
        .sndbuf_max = 0,
        .grow_window = false, /* §3.8.6.2.2: the free space, SWS-checked */
        .scaling_ratio = 0,

        .listen_shut = TCP_LISTEN_SHUT_CLOSE,      /* RFC 9293 §3.10.4 CLOSE in LISTEN */
        .listen_connect = TCP_LISTEN_CONNECT_OPEN, /* RFC 9293 §3.10.1 OPEN in LISTEN */
        .listen_drop_syn_fin = false,              /* §3.10.7.2: the FIN waits for ESTABLISHED */
        .beyond_window_drop = false,   /* §3.10.7.4: the part in the window is processed */
        .recv_zero_waits = false,      /* §3.10.3: 0 octets are never "insufficient" */
        .rst_at_fin = false,           /* §3.10.7.4, RFC 5961 §3.2: out of window, dropped */
        .rst_sack_edge = false,        /* RFC 5961 §3.2: not RCV.NXT: challenge ACK */
        .closed_deletes_tcb = true,    /* §3.10.7.4: "All segment queues should be flushed",
                                        * "delete the TCB" (RST, LAST-ACK); §3.10.8 (timeouts,
                                        * TIME-WAIT); §3.10.2-4 CLOSED */
        .dsack = TCP_DSACK_NONE,       /* no SACK at all (send_sack_perm off) */
        .rst_opts = TCP_RST_OPTS_TS,   /* RFC 7323 §3.2: TSopt "SHOULD be sent in an <RST>" */
        .rst_window = false,           /* no rule for an RST's window: 0 */
        .sack_fin = false,             /* no SACK at all */
        .sack_fin_reset = false,       /* no SACK at all */
        .shut_rd_no_update = false,    /* no SHUT_RD in RFC 9293: §3.8.6.2.2 goes on */
        .ack_wnd_check = false,        /* §3.8.6.3: every second full-sized segment */
        .rst_close_wait_epipe = false, /* §3.10.7.4: "reset" responses */
        .rst_closing_reset = false,    /* §3.10.7.4 CLOSING, LAST-ACK: CLOSED, no signal */
        .err_once = true,              /* §3.10.7.4: the "reset" response, then no TCB */
        .recv_err_first = false,       /* §3.10.3 CLOSE-WAIT: data on hand, then "closing" */
        .send_epipe_first = false,     /* §3.10.2: the reset is reported first */
        /* §3.10.2 CLOSED: "connection does not exist"; LISTEN: "foreign socket unspecified" */
        .send_unconnected_epipe = false,
    },
    {
        /* Linux 6.6 and later, default sysctls (include/net/tcp.h,
         * net/ipv4/tcp_ipv4.c tcp_sk_init, net/ipv4/tcp.c tcp_init). */
        .name = "linux",
        .msl_ns = SEC(30),
        .time_wait_ns = SEC(60),          /* TCP_TIMEWAIT_LEN */
        .fin_wait_2_timeout_ns = SEC(60), /* tcp_fin_timeout, orphans only */
        .rto_initial_ns = SEC(1),         /* TCP_TIMEOUT_INIT */
        .rto_min_ns = MS(200),            /* TCP_RTO_MIN */
        .rto_max_ns = SEC(120),           /* TCP_RTO_MAX */
        .syn_retries = 6,                 /* tcp_syn_retries */
        .synack_retries = 5,              /* tcp_synack_retries */
        .data_retries = 15,               /* tcp_retries2 */
        .delack_ns = MS(40),              /* TCP_DELACK_MIN */
        .keepalive_idle_ns = SEC(7200),
        .keepalive_intvl_ns = SEC(75),
        .keepalive_probes = 9,
        .sndbuf = 16384,  /* tcp_wmem[1] */
        .rcvbuf = 131072, /* tcp_rmem[1] */
        .mss = 1460,
        .rst_on_close_with_unread = true,
        .rst_on_keepalive_timeout = true,
        .tw_restart_on_ack = true,
        .tw_paws_restart = true,    /* tcp_timewait_state_process: paws_reject */
        .tw_rst = TCP_TW_RST_CLOSE, /* tcp_rfc1337 = 0 */
        .tw_syn = TCP_TW_SYN_ACCEPT_NEWER_TS,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = true,
        .send_wscale = true,
        .send_sack_perm = true,
        .rst_on_data_after_close = true, /* tcp_rcv_state_process, FIN_WAIT1/2 */
        .init_cwnd_segs = 10,            /* TCP_INIT_CWND (RFC 6928) */
        .ss_full_ack = true,             /* tcp_slow_start: cwnd + acked, up to ssthresh */
        .rst_has_ack = true,             /* tcp_send_active_reset: TCPHDR_ACK | TCPHDR_RST */
        .orphan_retries = 8,             /* tcp_orphan_retries(): 0 means 8 */
        .syn_linear_timeouts = 4,        /* tcp_syn_linear_timeouts (since 6.5) */
        .syn_timeout_ns = 0,
        .quickack = 16, /* TCP_MAX_QUICKACKS */
        .oow_ack_limit = 1,
        .oow_ack_window_ns = MS(500), /* tcp_invalid_ratelimit = HZ/2 */
        .oow_ack_data_exempt = true,  /* tcp_oow_rate_limited: data/FIN without SYN */
        .rto_slop_ns = 0,
        .persist_min_ns = 0,
        .persist_max_ns = 0,    /* TCP_RTO_MAX */
        .zwp_no_data = true,    /* tcp_xmit_probe_skb: SND.UNA - 1, no data */
        .zwp_ack_rearm = true,  /* tcp_ack -> tcp_ack_probe */
        .nagle_minshall = true, /* tcp_minshall_check */
        .fin_wait_2_idle = false,
        .backlog_model = TCP_BACKLOG_LINUX,
        .syn_recv_rules = TCP_SYN_RECV_LINUX,
        .port_lo = 32768, /* ip_local_port_range */
        .port_hi = 60999,
        .mss_floor = 48,                           /* tcp_min_snd_mss = TCP_MIN_SND_MSS */
        .syn_loss_cwnd_after = 2,                  /* tcp_init_transfer: total_retrans > 1 */
        .abort_rst_closing = TCP_ABORT_RST_UNSENT, /* tcp_disconnect */
        .old_segment_ack = true,                   /* tcp_sequence: end_seq >= rcv_wup */
        .zero_window_fin = true,                   /* tcp_data_queue */
        .edge_fin = false, /* tcp_sequence: end_seq counts the FIN (with nothing unread the
                            * segment is queued whole, not modelled: docs/stack.md) */
        .tw_bsd_rules = false,
        .close_embryonic_silent = false, /* §3.10.4: FIN, FIN-WAIT-1 */
        .opt_layout = TCP_LAYOUT_LINUX,  /* tcp_options_write */
        .rcvbuf_max = 33554432,          /* tcp_rmem[2], 32 MB since 6.16: wscale 10 */
        .rcv_win_ratio = 128,            /* TCP_DEFAULT_SCALING_RATIO: half (tcp_win_from_space) */
        .init_wnd_mss_multiple = true,   /* tcp_select_initial_window: rounddown(space, mss) */
        .syn_bad_ack_rexmit_ns = MS(8),  /* TCP_TIMEOUT_MIN: 2 jiffies at HZ=250 */
        .delack_max_ns = MS(200),        /* TCP_DELACK_MAX; TCP_ATO_MIN = delack */
        .pingpong = true,                /* tcp_pingpong_thresh = 1 */
        .delack_tick_ns = MS(4),         /* one jiffy at HZ=250, with timer_hz 0 only */
        .timer_hz = 250,                 /* CONFIG_HZ_250: the kernel the table runs on */
        .comp_sack_delay_ns = MS(1),     /* tcp_comp_sack_delay_ns (tcp_sk_init) */
        .comp_sack_slack_ns = US(100),   /* tcp_comp_sack_slack_ns */
        .comp_sack_nr = 44,              /* tcp_comp_sack_nr */
        .embryo_reset_closed = true,     /* tcp_check_req: inet_csk_reqsk_queue_drop */
        .wnd_mss_round = true,           /* __tcp_select_window: rounddown(free_space, mss) */
        .tlp = true,                     /* tcp_early_retrans = 3 */
        .rto_min_var = true,             /* tcp_rtt_estimator: rttvar_us >= tcp_rto_min_us */
        .read_ack = true,                /* tcp_cleanup_rbuf: ICSK_ACK_PUSHED, queue emptied */
        .sndbuf_expand = 2,              /* tcp_sndbuf_expand: reno and CUBIC (BBR: 3) */
        .sndbuf_max = 4194304,           /* tcp_wmem[2] */
        .grow_window = true,             /* tcp_grow_window, __tcp_select_window */
        .scaling_ratio = 160,            /* tcp_measure_rcv_mss: 1448 * 256 / 2304 (TUN) */
        .rcv_autotune = true,            /* tcp_moderate_rcvbuf: tcp_rcv_space_adjust */

        .listen_shut = TCP_LISTEN_SHUT_LINUX,         /* inet_shutdown */
        .listen_connect = TCP_LISTEN_CONNECT_EISCONN, /* __inet_stream_connect */
        .listen_drop_syn_fin = true,                  /* tcp_rcv_state_process */
        .beyond_window_drop = true,  /* tcp_sequence: SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE */
        .recv_zero_waits = true,     /* tcp_recvmsg_locked: sock_rcvlowat gives 1 */
        .rst_at_fin = true,          /* tcp_validate_incoming: tcp_reset_check */
        .rst_sack_edge = true,       /* tcp_validate_incoming: "the right-most SACK block" */
        .closed_deletes_tcb = false, /* tcp_done: write queue purged, receive queue kept,
                                      * sk_shutdown = SHUTDOWN_MASK; inet_release: 0 */
        .dsack = TCP_DSACK_LINUX,    /* sysctl tcp_dsack = 1: tcp_dsack_set, tcp_dsack_extend */
        .rst_opts = TCP_RST_OPTS_TS_SACK, /* tcp_send_active_reset: tcp_established_options */
        .rst_window = true,               /* __tcp_transmit_skb: tcp_select_window */
        .sack_fin = true,                 /* tcp_data_queue_ofo: end_seq counts the FIN */
        .sack_fin_reset = true,           /* tcp_fin: tcp_sack_reset (dsack, num_sacks = 0) */
        .shut_rd_no_update = true,        /* tcp_cleanup_rbuf: not with RCV_SHUTDOWN */
        .ack_wnd_check = true,            /* __tcp_ack_snd_check: __tcp_select_window >= rcv_wnd */
        .rst_close_wait_epipe = true,     /* tcp_reset: sk_err = EPIPE in TCP_CLOSE_WAIT */
        .rst_closing_reset = true,        /* tcp_reset: default case, sk_err = ECONNRESET */
        .err_once = true,                 /* sock_error: xchg(&sk->sk_err, 0) */
        .recv_err_first = false,          /* tcp_recvmsg_locked: SOCK_DONE before sk_err */
        .send_epipe_first = false, /* tcp_sendmsg_locked: sk_stream_error, sock_error first */
        /* tcp_sendmsg_locked → sk_stream_wait_connect: -EPIPE but in SYN_SENT, SYN_RECV */
        .send_unconnected_epipe = true,
    },
    {
        /* FreeBSD 14.x defaults (sys/netinet/tcp_timer.h, tcp_syncache.c). */
        .name = "bsd",
        .msl_ns = SEC(30),                 /* TCPTV_MSL */
        .time_wait_ns = 0,                 /* 2*MSL = 60 s */
        .fin_wait_2_timeout_ns = SEC(600), /* TP_MAXIDLE = keepcnt * keepintvl */
        .rto_initial_ns = SEC(1),          /* TCPTV_RTOBASE */
        .rto_min_ns = MS(30),              /* TCPTV_MIN (hz/33) */
        .rto_max_ns = SEC(64),             /* TCPTV_REXMTMAX */
        .syn_retries = 12,                 /* TCP_MAXRXTSHIFT; keepinit ends it first */
        .synack_retries = 3,               /* net.inet.tcp.syncache.rexmtlimit */
        .data_retries = 12,                /* TCP_MAXRXTSHIFT */
        .delack_ns = MS(100),              /* TCPTV_DELACK */
        .keepalive_idle_ns = SEC(7200),
        .keepalive_intvl_ns = SEC(75),
        .keepalive_probes = 8, /* TCPTV_KEEPCNT */
        .sndbuf = 32768,
        .rcvbuf = 65536,
        .mss = 1460,
        .rst_on_close_with_unread = false, /* tcp_disconnect flushes, sends FIN */
        .rst_on_keepalive_timeout = true,  /* tcp_drop sends RST */
        .tw_restart_on_ack = false,        /* only a duplicate FIN restarts 2MSL */
        .tw_paws_restart = false,          /* tcp_twcheck does not check timestamps */
        .tw_rst = TCP_TW_RST_IGNORE,       /* tcp_twcheck drops RSTs (RFC 1337) */
        .tw_syn = TCP_TW_SYN_ACCEPT_NEWER,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = true,
        .send_wscale = true,
        .send_sack_perm = true,
        .rst_on_data_after_close = true, /* data after the process is gone: RST */
        .init_cwnd_segs = 10,            /* net.inet.tcp.initcwnd_segments */
        .rst_has_ack = true,             /* tcp_outflags[TCPS_CLOSED] = TH_RST | TH_ACK */
        .orphan_retries = 0,             /* = data_retries */
        .syn_linear_timeouts = 4,        /* tcp_syn_backoff[] = {1, 1, 1, 1, 1, 2, 4, ...} */
        .syn_timeout_ns = SEC(75),       /* TCPTV_KEEP_INIT */
        .quickack = 0,
        .oow_ack_limit = 5,            /* net.inet.tcp.ack_war_cnt */
        .oow_ack_window_ns = MS(1000), /* net.inet.tcp.ack_war_timewindow */
        .oow_ack_data_exempt = false,  /* ctf_ack_war_checks counts every dropafterack */
        .rto_slop_ns = MS(200),        /* tcp_rexmit_slop = TCPTV_CPU_VAR */
        .persist_min_ns = SEC(5),      /* TCPTV_PERSMIN */
        .persist_max_ns = SEC(60),     /* TCPTV_PERSMAX */
        .zwp_no_data = false,
        .zwp_ack_rearm = false, /* tcp_output: setpersist only if TT_PERSIST is not active */
        .nagle_minshall = false,
        .fin_wait_2_idle = true, /* tcp_timer_2msl: idle >= TP_MAXIDLE */
        .backlog_model = TCP_BACKLOG_BSD,
        .syn_recv_rules = TCP_SYN_RECV_BSD,
        .port_lo = 10000,                          /* IPPORT_EPHEMERALFIRST */
        .port_hi = 65535,                          /* IPPORT_EPHEMERALLAST */
        .mss_floor = 216,                          /* TCP_MINMSS */
        .syn_loss_cwnd_after = 1,                  /* cc_conn_init: SYN lost, one segment */
        .abort_rst_closing = TCP_ABORT_RST_ALWAYS, /* tcp_drop */
        .old_segment_ack = true,                   /* tcp_do_segment: todrop, TF_ACKNOW */
        .zero_window_fin = true,                   /* tcp_do_segment: todrop 0, tlen 0 */
        .edge_fin = true,                          /* tcp_do_segment: todrop counts data only */
        .tw_bsd_rules = true,                      /* tcp_twcheck */
        .close_embryonic_silent = true,            /* tcp_disconnect */
        .opt_layout = TCP_LAYOUT_BSD,              /* tcp_addoptions */
        .rcvbuf_max = 2097152,          /* sb_max = kern.ipc.maxsockbuf (SB_MAX): wscale 6 */
        .rcv_win_ratio = 256,           /* sbspace(): the whole buffer */
        .init_wnd_mss_multiple = false, /* syncache_respond: min(sbspace, TCP_MAXWIN) */
        .syn_bad_ack_rexmit_ns = 0,     /* tcp_do_segment: dropwithreset, no timer change */
        .delack_max_ns = 0,             /* TCPTV_DELACK, fixed */
        .pingpong = false,
        .embryo_reset_closed = true, /* syncache_chkrst: syncache_drop */
        .wnd_mss_round = false,      /* tcp_output: the free space, SWS-checked */
        .tlp = false,                /* FreeBSD 14 default stack: no TLP (RACK stack only) */
        .rto_min_var = false,        /* tcp_xmit_timer: TCPT_RANGESET floors the RTO */
        .read_ack = false,           /* tcp_usr_rcvd: a window update only */
        .sndbuf_expand = 0,          /* send buffer autosizing is not modelled for FreeBSD */
        .sndbuf_max = 0,
        .grow_window = false, /* tcp_output: the free space, SWS-checked */
        .scaling_ratio = 0,
        .shut_rd_discard = true, /* soshutdown: sorflush, then SBS_CANTRCVMORE drops data */
        .listen_shut = TCP_LISTEN_SHUT_BSD,              /* soshutdown */
        .listen_connect = TCP_LISTEN_CONNECT_EOPNOTSUPP, /* soconnectat */
        .listen_drop_syn_fin = false,                    /* net.inet.tcp.drop_synfin = 0 */
        .beyond_window_drop = false,   /* tcp_do_segment: trailing data beyond the window dropped */
        .recv_zero_waits = false,      /* soreceive_generic: uio_resid == 0 returns 0 */
        .rst_at_fin = false,           /* tcp_do_segment: th_seq below last_ack_sent, drop */
        .rst_sack_edge = false,        /* tcp_do_segment: not rcv_nxt: challenge ACK */
        .closed_deletes_tcb = false,   /* tcp_close → soisdisconnected: so_rcv kept,
                                        * SBS_CANTRCVMORE, SBS_CANTSENDMORE; soclose: 0 */
        .dsack = TCP_DSACK_BSD,        /* tcp_do_segment todrop, tcp_update_dsack_list */
        .rst_opts = TCP_RST_OPTS_TS,   /* tcp_drop -> tcp_output: TOF_TS; no SACK once CLOSED */
        .rst_window = false,           /* tcp_output: "advertise a window of zero" */
        .sack_fin = false,             /* tcp_do_segment: save_start + save_tlen, data only */
        .sack_fin_reset = false,       /* no reset of the list at the FIN in tcp_do_segment */
        .shut_rd_no_update = false,    /* tcp_usr_rcvd: tcp_output; reads find nothing (sorflush) */
        .ack_wnd_check = false,        /* no ATO engine (tcp_do_segment: DELAY_ACK) */
        .rst_close_wait_epipe = false, /* tcp_do_segment: so_error = ECONNRESET */
        .rst_closing_reset = true,     /* tcp_do_segment: so_error = ECONNRESET */
        .err_once = true,              /* soreceive_generic, sosend_generic: so_error = 0 */
        .recv_err_first = true,        /* soreceive_generic: so_error before SBS_CANTRCVMORE */
        .send_epipe_first = true,      /* sosend_generic: SBS_CANTSENDMORE before so_error */
        /* sosend_generic: not SS_ISCONNECTED, PR_CONNREQUIRED: ENOTCONN */
        .send_unconnected_epipe = false,
    },
};

#define NPROFILES (sizeof PROFILES / sizeof PROFILES[0])

const tcp_profile *tcp_profile_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NPROFILES; i++) {
        if (!strcmp(PROFILES[i].name, name))
            return &PROFILES[i];
    }
    return NULL;
}

const char *const *tcp_profile_names(void)
{
    static const char *const names[] = {"rfc9293", "linux", "bsd", NULL};
    return names;
}

#define F(k, f)                                                                                    \
    {                                                                                              \
        k, offsetof(tcp_profile, f), sizeof(((tcp_profile *)0)->f)                                 \
    }
/* Declaration order; a field no scenario sets keeps its own name. */
static const tcp_profile_field FIELDS[] = {
    F("msl", msl_ns),
    F("time_wait", time_wait_ns),
    F("fin_timeout", fin_wait_2_timeout_ns),
    F("rto_initial", rto_initial_ns),
    F("rto_min", rto_min_ns),
    F("rto_max", rto_max_ns),
    F("syn_retries", syn_retries),
    F("synack_retries", synack_retries),
    F("retries", data_retries),
    F("delack", delack_ns),
    F("keepalive_idle", keepalive_idle_ns),
    F("keepalive_interval", keepalive_intvl_ns),
    F("keepalive_probes", keepalive_probes),
    F("sndbuf", sndbuf),
    F("rcvbuf", rcvbuf),
    F("mss", mss),
    F("rst_on_close_with_unread", rst_on_close_with_unread),
    F("rst_on_keepalive_timeout", rst_on_keepalive_timeout),
    F("tw_restart_on_ack", tw_restart_on_ack),
    F("tw_paws_restart", tw_paws_restart),
    F("rfc1337", tw_rst),
    F("tw_syn", tw_syn),
    F("backlog_full", backlog_full),
    F("send_timestamps", send_timestamps),
    F("send_wscale", send_wscale),
    F("send_sack_perm", send_sack_perm),
    F("rst_on_data_after_close", rst_on_data_after_close),
    F("init_cwnd_segs", init_cwnd_segs),
    F("ss_full_ack", ss_full_ack),
    F("rst_has_ack", rst_has_ack),
    F("orphan_retries", orphan_retries),
    F("syn_linear_timeouts", syn_linear_timeouts),
    F("syn_timeout", syn_timeout_ns),
    F("quickack", quickack),
    F("challenge_ack_limit", oow_ack_limit),
    F("challenge_ack_window", oow_ack_window_ns),
    F("oow_ack_data_exempt", oow_ack_data_exempt),
    F("rto_slop", rto_slop_ns),
    F("persist_min", persist_min_ns),
    F("persist_max", persist_max_ns),
    F("zero_window_probe_no_data", zwp_no_data),
    F("zwp_ack_rearm", zwp_ack_rearm),
    F("nagle_minshall", nagle_minshall),
    F("fin_timeout_idle", fin_wait_2_idle),
    F("backlog_model", backlog_model),
    F("syn_recv_rules", syn_recv_rules),
    F("port_lo", port_lo),
    F("port_hi", port_hi),
    F("mss_floor", mss_floor),
    F("syn_loss_cwnd_after", syn_loss_cwnd_after),
    F("abort_rst_closing", abort_rst_closing),
    F("old_segment_ack", old_segment_ack),
    F("zero_window_fin", zero_window_fin),
    F("edge_fin", edge_fin),
    F("time_wait_bsd_rules", tw_bsd_rules),
    F("close_embryonic_silent", close_embryonic_silent),
    F("option_layout", opt_layout),
    F("rcvbuf_max", rcvbuf_max),
    F("rcv_win_ratio", rcv_win_ratio),
    F("init_window_mss_multiple", init_wnd_mss_multiple),
    F("syn_bad_ack_rexmit", syn_bad_ack_rexmit_ns),
    F("delack_max", delack_max_ns),
    F("pingpong", pingpong),
    F("embryo_reset_closed", embryo_reset_closed),
    F("wnd_mss_round", wnd_mss_round),
    F("delack_tick", delack_tick_ns),
    F("timer_hz", timer_hz),
    F("tlp", tlp),
    F("rto_min_var", rto_min_var),
    F("read_ack", read_ack),
    F("sndbuf_expand", sndbuf_expand),
    F("sndbuf_max", sndbuf_max),
    F("shut_rd_discard", shut_rd_discard),
    F("shut_rd_no_update", shut_rd_no_update),
    F("ack_wnd_check", ack_wnd_check),
    F("rst_close_wait_epipe", rst_close_wait_epipe),
    F("grow_window", grow_window),
    F("scaling_ratio", scaling_ratio),
    F("rcv_autotune", rcv_autotune),
    F("listen_shutdown", listen_shut),
    F("listen_connect", listen_connect),
    F("comp_sack_delay", comp_sack_delay_ns),
    F("comp_sack_slack", comp_sack_slack_ns),
    F("comp_sack_nr", comp_sack_nr),
    F("listen_drop_syn_fin", listen_drop_syn_fin),
    F("beyond_window_drop", beyond_window_drop),
    F("recv_zero_waits", recv_zero_waits),
    F("rst_at_fin", rst_at_fin),
    F("rst_closing_reset", rst_closing_reset),
    F("err_once", err_once),
    F("recv_err_first", recv_err_first),
    F("send_epipe_first", send_epipe_first),
    F("rst_sack_edge", rst_sack_edge),
    F("closed_deletes_tcb", closed_deletes_tcb),
    F("dsack", dsack),
    F("rst_opts", rst_opts),
    F("rst_window", rst_window),
    F("sack_fin", sack_fin),
    F("sack_fin_reset", sack_fin_reset),
    F("send_unconnected_epipe", send_unconnected_epipe),
};
#undef F
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

const tcp_profile_field *tcp_profile_fields(size_t *n)
{
    *n = NFIELDS;
    return FIELDS;
}

static bool skipped(const char *knob, const char *const *skip)
{
    for (size_t i = 0; skip && skip[i]; i++)
        if (!strcmp(skip[i], knob))
            return true;
    return false;
}

const char *tcp_profile_diff(const tcp_profile *a, const tcp_profile *b, const char *const *skip)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        const tcp_profile_field *f = &FIELDS[i];
        if (!skipped(f->knob, skip) &&
            memcmp((const char *)a + f->off, (const char *)b + f->off, f->size) != 0)
            return f->knob;
    }
    return NULL;
}

const char *tcp_profile_check(const tcp_profile *p, const char **why)
{
    static const char limit[] =
        "must be at most 1h (the RTO is kept in 32-bit microseconds, as Linux's tcpi_rto)";
    const char *knob = NULL;
    if (p->rto_initial_ns > TCP_RTO_LIMIT_NS)
        knob = "rto_initial";
    else if (p->rto_min_ns > TCP_RTO_LIMIT_NS)
        knob = "rto_min";
    else if (p->rto_max_ns > TCP_RTO_LIMIT_NS)
        knob = "rto_max";
    if (knob && why)
        *why = limit;
    return knob;
}

const char *tcp_profile_system(const char *name)
{
    if (name && !strcmp(name, "rfc9293"))
        return "RFC 9293 with RFC 1122, 5961, 6298, 6528, 1337 (the standards, no kernel)";
    if (name && !strcmp(name, "linux"))
        return "Linux 6.6 and later, default sysctls (tcp_syn_linear_timeouts since 6.5, "
               "tcp_rmem[2] 32 MB since 6.16, tcp_sequence's end check since 6.17)";
    if (name && !strcmp(name, "bsd"))
        return "FreeBSD 14.x, default sysctls";
    return "?";
}
