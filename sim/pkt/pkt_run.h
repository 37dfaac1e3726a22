/*
 * pkt_run — runs a parsed packetdrill script against a tcpsim host in
 * virtual time: the host under test (a tcp_profile, linux by default, with
 * the script's defaults.sh and sysctl settings applied as knobs) and a raw
 * peer at packetdrill's remote address that injects the script's inbound
 * segments and checks every segment the stack sends against the script's
 * outbound ones, field by field, with their times.
 *
 * Promises:
 *  - Deterministic: the same script, options and seed give the same verdict
 *    and message, byte for byte; nothing reads the clock.
 *  - Exactly one verdict: PKT_RUN_PASS; PKT_RUN_MISMATCH with one message
 *    naming FILE:LINE, what was expected and what happened (segments in
 *    packetdrill's notation); or PKT_RUN_NOT_RUN for a setting, call or
 *    option tcpsim cannot run ("unsupported: <what> at FILE:LINE") or a
 *    script error. Nothing unsupported is skipped.
 *  - Sequence numbers follow packetdrill: inbound ones are sent as written
 *    (the peer's ISN is the script's), acknowledgements of ours and our
 *    outbound sequence numbers are relative to the ISN the stack chose.
 * Uses sim/net for the world and the peer; no Lua.
 */
#ifndef PKT_RUN_H
#define PKT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "pkt.h"

typedef enum pkt_run_verdict {
    PKT_RUN_PASS = 0,
    PKT_RUN_MISMATCH = 1,
    PKT_RUN_NOT_RUN = 2 /* unsupported, or an error in the script */
} pkt_run_verdict;

/* packetdrill's default tolerance for event times. */
#define PKT_TOLERANCE_DEFAULT_US 4000

typedef struct pkt_run_opts {
    const char *file;        /* names the script in messages */
    const char *profile;     /* NULL: "linux" */
    int64_t tolerance_usecs; /* < 0: the script's --tolerance_usecs, else the default */
    /* packetdrill's --tolerance_percent in thousandths of a percent (5 % is
     * 5000): an event may also be off by that share of the time since the
     * previous event, when that is more. <= 0: the script's, else none. */
    int64_t tolerance_pcm;
    uint64_t seed;
    /* Called once the world exists, before the first event (outputs). */
    void (*on_world)(void *ctx, net *n);
    void *ctx;
} pkt_run_opts;

typedef struct pkt_run_info {
    uint64_t end_ns;     /* virtual time when the verdict was reached */
    uint32_t events;     /* script events executed */
    uint32_t unmodelled; /* defaults.sh settings no knob carries */
    const char *unmodelled_names[32];
} pkt_run_info;

/* Runs s. msg receives the verdict's message ("" on a pass). */
pkt_run_verdict pkt_run(const pkt_script *s, const pkt_run_opts *o, pkt_run_info *info, char *msg,
                        size_t msg_len);

#endif
