/*
 * rlog_pcap — packet captures: classic libpcap and pcapng.
 *
 * The capture point is the sending end of each link: every SEND, and every
 * clone a link made (RLOG_DUP), is one record holding the IPv4 datagram
 * exactly as it went onto the wire (LINKTYPE_RAW, 101), stamped with the
 * virtual time in nanoseconds. Everything is written little-endian whatever
 * the host, so a run gives the same file bytes on every machine.
 *
 * Captured at a host instead (rlog_write_pcap_at), the file is what a
 * tcpdump on that host would see: the packets it sent, as they left it, and
 * the packets delivered to it, as they arrived (a copy made by a link
 * arrives twice, corrupted bits arrive corrupted); a packet lost on the way
 * is in the sender's capture and not in the receiver's.
 *
 * pcapng adds comments on the packets that explain the run: on the packet
 * that caused or accompanied a state change ("B: LISTEN -> SYN_RECEIVED (rcv
 * SYN)") or restarted TIME_WAIT's timer, and on packets the network dropped
 * or duplicated.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_int.h"

enum {
    PCAP_MAGIC_NS = 0xa1b23c4du, /* nanosecond timestamps */
    LINKTYPE_RAW = 101,
    SNAPLEN = 65535,
    PCAPNG_SHB = 0x0a0d0d0au,
    PCAPNG_IDB = 1,
    PCAPNG_EPB = 6,
    PCAPNG_BOM = 0x1a2b3c4du,
    OPT_END = 0,
    OPT_COMMENT = 1,
    SHB_USERAPPL = 4,
    IF_NAME = 2,
    IF_TSRESOL = 9
};

/* A byte buffer a block is built in before it is written. */
typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    render_grow((void **)&b->p, &b->cap, b->n + n, 1);
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_le(bytes *b, uint64_t v, size_t n)
{
    uint8_t x[8];
    for (size_t i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, n);
}

static void put_pad4(bytes *b)
{
    static const uint8_t zero[4];
    put(b, zero, (4 - b->n % 4) % 4);
}

/* Sets the little-endian u32 at offset `at`. */
static void set_le32(bytes *b, size_t at, uint32_t v)
{
    for (size_t i = 0; i < 4; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * i));
}

/* Whether entry e is a record of the capture at `at` (a host id, or
 * RLOG_PCAP_AT_LINKS). */
static bool is_captured(const rlog_entry *e, uint32_t at)
{
    bool captured;
    if (at == RLOG_PCAP_AT_LINKS)
        captured = e->kind == RLOG_SEND || e->kind == RLOG_DUP;
    else
        captured = (e->kind == RLOG_SEND || e->kind == RLOG_DELIVER) && e->host == at;
    captured = captured && e->nbytes > 0;
    /* A log that keeps no payload (rlog_set_payload) cannot make a capture. */
    assert(!captured || e->nheld == e->nbytes);
    return captured;
}

static int finish(FILE *out)
{
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ---- libpcap ------------------------------------------------------------------ */

int rlog_write_pcap(const rlog *log, FILE *out)
{
    return rlog_write_pcap_at(log, out, RLOG_PCAP_AT_LINKS);
}

int rlog_write_pcap_at(const rlog *log, FILE *out, uint32_t at)
{
    bytes b = {0};
    put_le(&b, PCAP_MAGIC_NS, 4);
    put_le(&b, 2, 2); /* version 2.4 */
    put_le(&b, 4, 2);
    put_le(&b, 0, 4); /* thiszone */
    put_le(&b, 0, 4); /* sigfigs */
    put_le(&b, SNAPLEN, 4);
    put_le(&b, LINKTYPE_RAW, 4);
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (!is_captured(e, at))
            continue;
        put_le(&b, e->time_ns / 1000000000u, 4);
        put_le(&b, e->time_ns % 1000000000u, 4);
        put_le(&b, e->nbytes, 4);
        put_le(&b, e->nbytes, 4);
        put(&b, e->bytes, e->nbytes);
    }
    size_t w = fwrite(b.p, 1, b.n, out);
    int rc = w == b.n ? finish(out) : -1;
    free(b.p);
    return rc;
}

/* ---- pcapng ----------------------------------------------------------------- */

/* A comment to attach: `source` is the entry that explains, `target` the
 * captured entry it is attached to. */
typedef struct note_ref {
    size_t target, source;
} note_ref;

static int note_cmp(const void *a, const void *b)
{
    const note_ref *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->source < y->source ? -1 : x->source > y->source;
}

/* The captured entry that stands for packet entry c (itself when it is
 * captured; else where its packet first appeared, if that is). */
static size_t captured_of(const rlog *log, size_t c, uint32_t at)
{
    const rlog_entry *e = rlog_at(log, c);
    size_t k = is_captured(e, at) ? c : e->send_index;
    return k != RLOG_NONE && is_captured(rlog_at(log, k), at) ? k : RLOG_NONE;
}

/* Every comment, sorted by the packet it goes on, then in log order. */
static note_ref *collect_notes(const rlog *log, uint32_t at, size_t *count)
{
    note_ref *refs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        size_t target = RLOG_NONE;
        if ((e->kind == RLOG_STATE || e->kind == RLOG_RESTART) &&
            rlog_state_cause(log, i) != RLOG_NONE)
            target = captured_of(log, rlog_state_cause(log, i), at);
        else if (e->kind == RLOG_DROP || e->kind == RLOG_DUP)
            target = captured_of(log, i, at);
        if (target == RLOG_NONE)
            continue;
        render_grow((void **)&refs, &cap, n + 1, sizeof *refs);
        refs[n++] = (note_ref){target, i};
    }
    if (n > 1)
        qsort(refs, n, sizeof *refs, note_cmp);
    *count = n;
    return refs;
}

static void note_text(const rlog *log, const rlog_entry *e, char *buf, size_t len)
{
    if (e->kind == RLOG_STATE) {
        int n = snprintf(buf, len, "%s: %s -> %s", rlog_host_name(log, e->host),
                         tcp_state_name(e->from), tcp_state_name(e->to));
        if (e->note[0] && n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, " (%s)", e->note);
    } else if (e->kind == RLOG_RESTART) {
        snprintf(buf, len, "%s: %s restarted: 2*MSL from now (%s)", rlog_host_name(log, e->host),
                 tcp_timer_name((tcp_timer_kind)e->detail), e->note);
    } else if (e->kind == RLOG_DROP) {
        snprintf(buf, len, "dropped on the way %s>%s (%s)", rlog_host_name(log, e->src_host),
                 rlog_host_name(log, e->dst_host), sim_drop_reason_name(e->drop));
    } else {
        snprintf(buf, len, "duplicate made by the link (copy of packet %" PRIu32 ")", e->origin_id);
    }
}

static void put_option(bytes *b, uint16_t code, const void *val, size_t n)
{
    put_le(b, code, 2);
    put_le(b, n, 2);
    put(b, val, n);
    put_pad4(b);
}

/* Starts a block: type and a length patched by end_block. */
static void begin_block(bytes *b, uint32_t type)
{
    b->n = 0;
    put_le(b, type, 4);
    put_le(b, 0, 4);
}

static void end_block(bytes *b)
{
    put_le(b, b->n + 4, 4);
    set_le32(b, 4, (uint32_t)b->n);
}

static void header_blocks(bytes *b, const char *ifname)
{
    static const char app[] = "tcpsim";
    static const uint8_t tsresol = 9; /* 10^-9 s */
    begin_block(b, PCAPNG_SHB);
    put_le(b, PCAPNG_BOM, 4);
    put_le(b, 1, 2); /* version 1.0 */
    put_le(b, 0, 2);
    put_le(b, UINT64_MAX, 8); /* section length unknown */
    put_option(b, SHB_USERAPPL, app, sizeof app - 1);
    put_option(b, OPT_END, NULL, 0);
    end_block(b);
    size_t shb = b->n;
    put_le(b, PCAPNG_IDB, 4);
    put_le(b, 0, 4);
    put_le(b, LINKTYPE_RAW, 2);
    put_le(b, 0, 2);
    put_le(b, SNAPLEN, 4);
    put_option(b, IF_NAME, ifname, strlen(ifname));
    put_option(b, IF_TSRESOL, &tsresol, 1);
    put_option(b, OPT_END, NULL, 0);
    put_le(b, b->n - shb + 4, 4);
    set_le32(b, shb + 4, (uint32_t)(b->n - shb));
}

/* One Enhanced Packet Block with the comments refs[*k..] aimed at entry i. */
static void packet_block(const rlog *log, size_t i, const note_ref *refs, size_t nrefs, size_t *k,
                         bytes *b)
{
    const rlog_entry *e = rlog_at(log, i);
    begin_block(b, PCAPNG_EPB);
    put_le(b, 0, 4); /* interface 0 */
    put_le(b, e->time_ns >> 32, 4);
    put_le(b, e->time_ns & 0xffffffffu, 4);
    put_le(b, e->nbytes, 4);
    put_le(b, e->nbytes, 4);
    put(b, e->bytes, e->nbytes);
    put_pad4(b);
    bool any = false;
    for (; *k < nrefs && refs[*k].target == i; (*k)++) {
        char text[160];
        note_text(log, rlog_at(log, refs[*k].source), text, sizeof text);
        put_option(b, OPT_COMMENT, text, strlen(text));
        any = true;
    }
    if (any)
        put_option(b, OPT_END, NULL, 0);
    end_block(b);
}

int rlog_write_pcapng(const rlog *log, FILE *out)
{
    return rlog_write_pcapng_at(log, out, RLOG_PCAP_AT_LINKS);
}

int rlog_write_pcapng_at(const rlog *log, FILE *out, uint32_t at)
{
    size_t nrefs, k = 0;
    note_ref *refs = collect_notes(log, at, &nrefs);
    bytes b = {0};
    header_blocks(&b, at == RLOG_PCAP_AT_LINKS ? "sim" : rlog_host_name(log, at));
    int rc = fwrite(b.p, 1, b.n, out) == b.n ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < rlog_count(log); i++) {
        if (!is_captured(rlog_at(log, i), at))
            continue;
        while (k < nrefs && refs[k].target < i)
            k++;
        packet_block(log, i, refs, nrefs, &k, &b);
        rc = fwrite(b.p, 1, b.n, out) == b.n ? 0 : -1;
    }
    free(b.p);
    free(refs);
    return rc == 0 ? finish(out) : -1;
}
