/*
 * tcp_profile — the built-in behaviour profiles. Every difference between
 * "the RFC", Linux and BSD is a value here, never a branch elsewhere; the
 * sources of each value are in docs/stack.md.
 */
#include <string.h>

#include "tcp_conn.h"

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
        .tw_rst = TCP_TW_RST_CLOSE,
        .tw_syn = TCP_TW_SYN_CHALLENGE,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = false,
        .send_wscale = false,
        .send_sack_perm = false,
        .rst_on_data_after_close = true, /* RFC 9293 §3.6: SHOULD */
        .init_cwnd_segs = 0,
    },
    {
        /* Linux defaults (net/ipv4 sysctls and include/net/tcp.h). */
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
        .tw_rst = TCP_TW_RST_CLOSE, /* tcp_rfc1337 = 0 */
        .tw_syn = TCP_TW_SYN_ACCEPT_NEWER,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = true,
        .send_wscale = true,
        .send_sack_perm = true,
        .rst_on_data_after_close = true, /* tcp_rcv_state_process, FIN_WAIT1/2 */
        .init_cwnd_segs = 10,            /* TCP_INIT_CWND (RFC 6928) */
    },
    {
        /* FreeBSD defaults (netinet/tcp_timer.h, tcp_syncache.c). */
        .name = "bsd",
        .msl_ns = SEC(30),                /* TCPTV_MSL */
        .time_wait_ns = 0,                /* 2*MSL = 60 s */
        .fin_wait_2_timeout_ns = SEC(60), /* TCPTV_FINWAIT2_TIMEOUT */
        .rto_initial_ns = SEC(1),         /* TCPTV_RTOBASE */
        .rto_min_ns = MS(30),             /* TCPTV_MIN (hz/33) */
        .rto_max_ns = SEC(64),            /* TCPTV_REXMTMAX */
        .syn_retries = 5,                 /* gives up at 63 s; FreeBSD: keepinit 75 s */
        .synack_retries = 3,              /* net.inet.tcp.syncache.rexmtlimit */
        .data_retries = 12,               /* TCP_MAXRXTSHIFT */
        .delack_ns = MS(100),             /* TCPTV_DELACK */
        .keepalive_idle_ns = SEC(7200),
        .keepalive_intvl_ns = SEC(75),
        .keepalive_probes = 8, /* TCPTV_KEEPCNT */
        .sndbuf = 32768,
        .rcvbuf = 65536,
        .mss = 1460,
        .rst_on_close_with_unread = false, /* tcp_disconnect flushes, sends FIN */
        .rst_on_keepalive_timeout = true,  /* tcp_drop sends RST */
        .tw_restart_on_ack = false,        /* only a duplicate FIN restarts 2MSL */
        .tw_rst = TCP_TW_RST_IGNORE,       /* tcp_twcheck drops RSTs (RFC 1337) */
        .tw_syn = TCP_TW_SYN_ACCEPT_NEWER,
        .backlog_full = TCP_BACKLOG_DROP,
        .send_timestamps = true,
        .send_wscale = true,
        .send_sack_perm = true,
        .rst_on_data_after_close = true, /* data after the process is gone: RST */
        .init_cwnd_segs = 10,            /* net.inet.tcp.initcwnd_segments */
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
