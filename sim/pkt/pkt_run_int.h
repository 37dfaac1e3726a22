/*
 * pkt_run_int — what the runner's files share: the run's state (world,
 * peer, file descriptors, the connection's sequence mapping, a blocking
 * call under way) and the helpers each file offers the others.
 */
#ifndef PKT_RUN_INT_H
#define PKT_RUN_INT_H

#include "pkt_run.h"

#define RUN_FDS       16u
#define RUN_FD_FIRST  3u
#define RUN_TS_MAP    64u
#define RUN_SCRATCH   65536u
#define RUN_PEER_PORT 40000u /* the remote port of connections the peer opens */
#define NS_PER_US     1000ull

typedef struct run_fd {
    bool used;
    bool nonblock;
    bool bound;
    uint32_t sock; /* net record, NET_NONE before listen/connect */
    uint16_t port;
    uint64_t linger_ns;         /* SO_LINGER with a timeout: close() waits this long */
    net_opt opts[NET_OPTS_MAX]; /* set before the record exists */
    uint32_t nopts;
} run_fd;

typedef struct run_blocked {
    bool active, done;
    const pkt_event *ev;
    uint32_t fd;
    uint64_t start_ns, end_ns, done_ns;
    long ret;       /* when done: the value, or -1 with err */
    int err;        /* Linux errno */
    size_t left;    /* write(): bytes the send buffer has not taken yet */
    uint64_t limit; /* close() with SO_LINGER: returns by then at the latest */
    uint64_t tol;   /* the tolerance of its return time */
} run_blocked;

typedef struct run {
    const pkt_script *s;
    const pkt_run_opts *o;
    const char *file;
    net *n;
    net_peer *peer;
    uint32_t host, link;
    tcp_profile prof;
    uint32_t local_ip, remote_ip;
    uint16_t bind_port, connect_port;
    uint64_t tol_ns;     /* --tolerance_usecs */
    uint64_t tol_pcm;    /* --tolerance_percent, thousandths of a percent */
    uint64_t ev_tol;     /* the tolerance of the event being run */
    uint64_t ts_tick_us; /* --tcp_ts_tick_usecs: 0, outbound TS vals not compared */
    uint32_t gso_mss;    /* --mss: the gso_size of inbound datagrams, 0 without */
    /* the connection under test */
    uint16_t lport, rport;
    bool await_child; /* a listener waits for its first SYN */
    bool have_isn;
    uint32_t live_isn, script_isn;
    bool have_ts;
    uint32_t first_script_ts, first_live_ts;
    uint32_t ts_script[RUN_TS_MAP], ts_live[RUN_TS_MAP];
    uint32_t nts;
    run_fd fds[RUN_FDS];
    run_blocked blk;
    sim_timer wake;          /* an event at a blocked close()'s linger limit */
    uint8_t *scratch;        /* RUN_SCRATCH bytes: a datagram to send, bytes read */
    pkt_run_verdict verdict; /* PASS while running */
    char *msg;
    size_t msg_len;
} run;

/* pkt_run.c */
pkt_run_verdict run_fail(run *r, pkt_run_verdict v, const pkt_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
pkt_run_verdict run_unsupported(run *r, const pkt_event *ev, const char *what);
/* "1.200000" */
const char *run_time_str(uint64_t ns, char *buf, size_t len);
/* packetdrill's verify_time: --tolerance_usecs, or the --tolerance_percent
 * share of the time from `prev` to `t` when that is more. */
uint64_t run_tolerance(const run *r, uint64_t t, uint64_t prev);
/* Runs the world to `until`, finishing a blocking call when it can. */
void run_advance(run *r, uint64_t until);
/* The blocking call, checked when it returned. */
void run_blocked_check(run *r);

/* pkt_run_seg.c */
void run_inject(run *r, const pkt_event *ev);
void run_expect(run *r, const pkt_event *ev, uint64_t t, uint64_t deadline, uint64_t *actual_ns);

/* pkt_run_call.c */
void run_call(run *r, const pkt_event *ev, uint64_t t);
/* Tries to finish the blocking call now; true when it returned. */
bool run_blocked_poll(run *r);
/* Linux's errno for a tcp_err / NET_E* code. */
int run_errno(int err);

#endif
