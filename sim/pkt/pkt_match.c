/*
 * pkt_match — one segment compared with another, packetdrill's way: flags
 * (PSH included), seq, length, ack when the ACK flag is set, window when
 * the expected one names it, urgent pointer, and options kind by kind in
 * order with their values (a timestamp's values excepted: only its place
 * is checked). And a datagram read back into the notation's fields, with
 * its sequence numbers as they are on the wire. The callers map sequence
 * numbers into their own space before they compare.
 */
#include <string.h>

#include "pkt.h"
#include "tcp_wire.h"

/* Option by option; NULL when they agree. */
static const char *opts_differ(const pkt_seg *want, const pkt_seg *got)
{
    if (!want->has_opts)
        return got->has_opts ? "options" : NULL;
    if (want->opts.any)
        return NULL;
    const uint8_t *a = want->opts.bytes, *b = got->opts.bytes;
    size_t na = want->opts.len, nb = got->has_opts ? got->opts.len : 0, i = 0, j = 0;
    while (i < na || j < nb) {
        if (i >= na || j >= nb || a[i] != b[j])
            return "options";
        uint8_t k = a[i];
        size_t la = (k <= 1) ? 1 : a[i + 1], lb = (k <= 1) ? 1 : b[j + 1];
        if (k > 1 && k != 8 && (la != lb || memcmp(a + i + 2, b + j + 2, la - 2) != 0))
            return "options";
        if (k == 0)
            break;
        i += la;
        j += lb;
    }
    return NULL;
}

const char *pkt_seg_mismatch(const pkt_seg *want, const pkt_seg *got)
{
    if (want->flags != got->flags)
        return "flags";
    if (want->seq != got->seq)
        return "seq";
    if (want->len != got->len)
        return "length";
    if ((want->flags & TCP_ACK) && want->ack != got->ack)
        return "ack";
    if (want->has_win && want->win != got->win)
        return "win";
    if (want->urg != got->urg)
        return "urg";
    return opts_differ(want, got);
}

int pkt_seg_from_dgram(const uint8_t *dgram, size_t len, tcp_seg *seg, pkt_seg *out)
{
    if (tcp_wire_parse(dgram, len, seg) != TCP_WIRE_OK)
        return -1;
    memset(out, 0, sizeof *out);
    out->outbound = true;
    out->flags = seg->flags;
    out->src_port = seg->src_port;
    out->dst_port = seg->dst_port;
    out->seq = seg->seq;
    out->len = seg->len;
    out->ack = (seg->flags & TCP_ACK) ? seg->ack : 0;
    out->has_win = true;
    out->win = seg->wnd;
    out->urg = seg->urg;
    size_t ihl = (size_t)(dgram[0] & 0x0f) * 4;
    size_t doff = (size_t)(dgram[ihl + 12] >> 4) * 4;
    out->has_opts = doff > TCP_HDR_MIN;
    if (out->has_opts &&
        pkt_opts_from_wire(dgram + ihl + TCP_HDR_MIN, doff - TCP_HDR_MIN, &out->opts) != 0)
        return -1;
    return 0;
}
