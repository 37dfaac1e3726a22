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
 * is in the sender's capture and not in the receiver's. At the receiving
 * ends of the links, every packet as a link delivered it; at one host's end
 * of the links to a peer, the host's capture narrowed to those links.
 *
 * pcapng adds comments on the packets that explain the run: on the packet
 * that caused or accompanied a state change ("B: LISTEN -> SYN_RECEIVED (rcv
 * SYN)") or restarted TIME_WAIT's timer, on packets the network dropped or
 * duplicated, and on each retransmission ("retransmission #1 of this
 * segment (first sent at 0.000 ms)").
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

/* A capture point and what it needs while the log is walked: the hosts
 * at each link direction's ends, learnt once per direction (LINK_END). */
#define LINK_CACHE 32
typedef struct capture {
    rlog_capture_point at;
    const rlog *log;
    uint32_t link[LINK_CACHE], from[LINK_CACHE], to[LINK_CACHE];
    uint8_t dir[LINK_CACHE];
    size_t nlinks, next;
} capture;

static capture capture_of(const rlog *log, uint32_t at)
{
    capture c = {.log = log};
    c.at.kind = at == RLOG_PCAP_AT_LINKS ? RLOG_CAPTURE_SENDERS : RLOG_CAPTURE_HOST;
    c.at.host = at;
    return c;
}

/* Whether entry e went over a link direction from `from` to `to`. */
static bool on_link(capture *c, const rlog_entry *e, uint32_t from, uint32_t to)
{
    size_t k = 0;
    while (k < c->nlinks && (c->link[k] != e->link || c->dir[k] != e->dir))
        k++;
    if (k == c->nlinks) { /* not cached: ask the log, keep it (round robin when full) */
        k = c->nlinks < LINK_CACHE ? c->nlinks++ : c->next++ % LINK_CACHE;
        c->link[k] = e->link;
        c->dir[k] = e->dir;
        if (rlog_link_ends(c->log, e->link, e->dir, &c->from[k], &c->to[k]) != 0)
            c->from[k] = c->to[k] = UINT32_MAX;
    }
    return c->from[k] == from && c->to[k] == to;
}

/* Whether entry e is a record of capture c. */
static bool is_captured(capture *c, const rlog_entry *e)
{
    const rlog_capture_point *at = &c->at;
    bool captured = false;
    switch (at->kind) {
    case RLOG_CAPTURE_SENDERS:
        captured = e->kind == RLOG_SEND || e->kind == RLOG_DUP;
        break;
    case RLOG_CAPTURE_RECEIVERS:
        captured = e->kind == RLOG_DELIVER;
        break;
    case RLOG_CAPTURE_HOST:
        captured = (e->kind == RLOG_SEND || e->kind == RLOG_DELIVER) && e->host == at->host;
        break;
    case RLOG_CAPTURE_LINK_END:
        captured =
            (e->kind == RLOG_SEND && e->host == at->host && on_link(c, e, at->host, at->peer)) ||
            (e->kind == RLOG_DELIVER && e->host == at->host && on_link(c, e, at->peer, at->host));
        break;
    }
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

static int write_pcap(capture *c, FILE *out);

int rlog_write_pcap(const rlog *log, FILE *out)
{
    return rlog_write_pcap_at(log, out, RLOG_PCAP_AT_LINKS);
}

int rlog_write_pcap_at(const rlog *log, FILE *out, uint32_t at)
{
    capture c = capture_of(log, at);
    return write_pcap(&c, out);
}

int rlog_write_pcap_point(const rlog *log, FILE *out, const rlog_capture_point *at)
{
    capture c = {.at = *at, .log = log};
    return write_pcap(&c, out);
}

static int write_pcap(capture *c, FILE *out)
{
    const rlog *log = c->log;
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
        if (!is_captured(c, e))
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
 * captured entry it is attached to. A retransmission (source a send) also
 * has its number and the entry of the segment's first sending. */
typedef struct note_ref {
    size_t target, source;
    uint32_t rtx;
    size_t first;
} note_ref;

static int note_cmp(const void *a, const void *b)
{
    const note_ref *x = a, *y = b;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->source < y->source ? -1 : x->source > y->source;
}

/* The captured entry that stands for packet entry i (itself when it is
 * captured; else where its packet first appeared, if that is; at the
 * receiving ends, where it arrived). */
static size_t captured_of(capture *c, size_t i)
{
    const rlog *log = c->log;
    const rlog_entry *e = rlog_at(log, i);
    if (is_captured(c, e))
        return i;
    size_t k = e->send_index;
    if (k != RLOG_NONE && is_captured(c, rlog_at(log, k)))
        return k;
    if (c->at.kind == RLOG_CAPTURE_RECEIVERS && e->kind != RLOG_DROP) {
        k = rlog_packet_fate(log, e->packet_id, i);
        if (k != RLOG_NONE && is_captured(c, rlog_at(log, k)))
            return k;
    }
    return RLOG_NONE;
}

/* ---- retransmissions ----
 * A segment sent again: the same sending host and ports, sequence number,
 * length and flags (PSH aside), carrying data, SYN or FIN, as the stepper
 * page numbers them (RTX #N). Found by sorting the sends on that key, so
 * O(sends log sends) whatever the run. */
typedef struct seg_key {
    uint32_t host, seq, len;
    uint16_t sport, dport;
    uint8_t flags;
    size_t index;
} seg_key;

static int seg_key_cmp(const void *a, const void *b)
{
    const seg_key *x = a, *y = b;
    const uint64_t kx[] = {x->host, x->sport, x->dport, x->seq, x->len, x->flags, x->index};
    const uint64_t ky[] = {y->host, y->sport, y->dport, y->seq, y->len, y->flags, y->index};
    for (size_t k = 0; k < sizeof kx / sizeof kx[0]; k++)
        if (kx[k] != ky[k])
            return kx[k] < ky[k] ? -1 : 1;
    return 0;
}

static bool same_segment(const seg_key *x, const seg_key *y)
{
    return x->host == y->host && x->sport == y->sport && x->dport == y->dport && x->seq == y->seq &&
           x->len == y->len && x->flags == y->flags;
}

/* The sends that carry something, as keys sorted so that the sendings of
 * one segment are together, in log order. */
static seg_key *sorted_sends(const rlog *log, size_t *count)
{
    seg_key *keys = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        const tcp_seg *s = e->seg;
        if (e->kind != RLOG_SEND || !e->seg_ok ||
            (s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN))))
            continue;
        render_grow((void **)&keys, &cap, n + 1, sizeof *keys);
        keys[n++] = (seg_key){e->src_host,
                              s->seq,
                              s->len,
                              s->src_port,
                              s->dst_port,
                              (uint8_t)(s->flags & ~TCP_PSH),
                              i};
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, seg_key_cmp);
    *count = n;
    return keys;
}

static void add_note(note_ref **refs, size_t *n, size_t *cap, note_ref r)
{
    render_grow((void **)refs, cap, *n + 1, sizeof **refs);
    (*refs)[(*n)++] = r;
}

/* A note for each retransmission this capture holds (on its sending, or
 * where it arrived at the receiving ends). */
static void retransmission_notes(capture *c, note_ref **refs, size_t *n, size_t *cap)
{
    size_t nkeys;
    seg_key *keys = sorted_sends(c->log, &nkeys);
    uint32_t rtx = 0;
    for (size_t k = 1; k < nkeys; k++) {
        rtx = same_segment(&keys[k], &keys[k - 1]) ? rtx + 1 : 0;
        size_t target = rtx ? captured_of(c, keys[k].index) : RLOG_NONE;
        if (target != RLOG_NONE)
            add_note(refs, n, cap, (note_ref){target, keys[k].index, rtx, keys[k - rtx].index});
    }
    free(keys);
}

/* Every comment, sorted by the packet it goes on, then in log order. */
static note_ref *collect_notes(capture *c, size_t *count)
{
    const rlog *log = c->log;
    note_ref *refs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        size_t target = RLOG_NONE;
        if ((e->kind == RLOG_STATE || e->kind == RLOG_RESTART) &&
            rlog_state_cause(log, i) != RLOG_NONE)
            target = captured_of(c, rlog_state_cause(log, i));
        else if (e->kind == RLOG_DROP || e->kind == RLOG_DUP)
            target = captured_of(c, i);
        if (target != RLOG_NONE)
            add_note(&refs, &n, &cap, (note_ref){target, i, 0, RLOG_NONE});
    }
    retransmission_notes(c, &refs, &n, &cap);
    if (n > 1)
        qsort(refs, n, sizeof *refs, note_cmp);
    *count = n;
    return refs;
}

static void note_text(const rlog *log, const note_ref *r, char *buf, size_t len)
{
    const rlog_entry *e = rlog_at(log, r->source);
    if (e->kind == RLOG_SEND) {
        char ms[32];
        rlog_format_ms(rlog_at(log, r->first)->time_ns, ms, sizeof ms);
        snprintf(buf, len, "retransmission #%" PRIu32 " of this segment (first sent at %s ms)",
                 r->rtx, ms);
    } else if (e->kind == RLOG_STATE) {
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
        note_text(log, &refs[*k], text, sizeof text);
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

/* The interface the capture is named after: "sim" for the links' sending
 * ends, the host, or "A (link to B)". */
static void interface_name(const capture *c, char *buf, size_t len)
{
    const rlog_capture_point *at = &c->at;
    switch (at->kind) {
    case RLOG_CAPTURE_SENDERS:
        snprintf(buf, len, "sim");
        break;
    case RLOG_CAPTURE_RECEIVERS:
        snprintf(buf, len, "sim (receiving ends)");
        break;
    case RLOG_CAPTURE_HOST:
        snprintf(buf, len, "%s", rlog_host_name(c->log, at->host));
        break;
    case RLOG_CAPTURE_LINK_END:
        snprintf(buf, len, "%s (link to %s)", rlog_host_name(c->log, at->host),
                 rlog_host_name(c->log, at->peer));
        break;
    }
}

static int write_pcapng(capture *c, FILE *out);

int rlog_write_pcapng_at(const rlog *log, FILE *out, uint32_t at)
{
    capture c = capture_of(log, at);
    return write_pcapng(&c, out);
}

int rlog_write_pcapng_point(const rlog *log, FILE *out, const rlog_capture_point *at)
{
    capture c = {.at = *at, .log = log};
    return write_pcapng(&c, out);
}

static int write_pcapng(capture *c, FILE *out)
{
    const rlog *log = c->log;
    size_t nrefs, k = 0;
    note_ref *refs = collect_notes(c, &nrefs);
    bytes b = {0};
    char ifname[80];
    interface_name(c, ifname, sizeof ifname);
    header_blocks(&b, ifname);
    int rc = fwrite(b.p, 1, b.n, out) == b.n ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < rlog_count(log); i++) {
        if (!is_captured(c, rlog_at(log, i)))
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
