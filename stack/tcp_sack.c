/*
 * tcp_sack — the SACK blocks a receiver reports (RFC 2018 §4) on a
 * connection that agreed SACK (tcp_sack_agreed), kept most recent first in
 * the record of the out-of-order ranges they describe (tcp_ooo), so a
 * connection that never held data out of order pays nothing for them.
 *
 * The list follows Linux's receive side, whose rules FreeBSD's give too
 * where the stack models them:
 *  - a segment held out of order extends the first block it touches or
 *    overlaps and moves it to the front, merging every other block it now
 *    reaches (Linux tcp_sack_new_ofo_skb, tcp_sack_extend,
 *    tcp_sack_maybe_coalesce; FreeBSD tcp_update_sack_list merges them
 *    into head_blk); one that touches none becomes the first block, the
 *    others shifted back (RFC 2018 §4: "the first SACK block ... MUST
 *    specify the contiguous block of data containing the segment which
 *    triggered this ACK", the rest "the most recently reported SACK
 *    blocks"). Data held already counts too: Linux's tcp_data_queue_ofo
 *    drops the copy and goes to add_sack;
 *  - a block whose start RCV.NXT reaches is gone, and with nothing held
 *    out of order none is left (Linux tcp_sack_remove; FreeBSD discards a
 *    block at or below rcv_nxt, and tcp_clean_sackreport clears them);
 *  - a segment carries as many as fit in the 40 bytes of options beside
 *    its timestamps (RFC 2018 §3; Linux tcp_established_options, FreeBSD
 *    tcp_addoptions): 4, or 3 with timestamps.
 *  - with profile dsack (RFC 2883), octets received twice (below RCV.NXT,
 *    or held already) wait as a D-SACK block that the next segment
 *    carries first, once (Linux tcp_dsack_set, tcp_dsack_extend,
 *    tcp_options_write; FreeBSD tcp_update_dsack_list,
 *    tcp_clean_dsack_blocks).
 * The list holds TCP_SACK_BLOCKS blocks, Linux's TCP_NUM_SACKS (FreeBSD
 * keeps MAX_SACK_BLKS = 6), each inside a range held; the stack holds up
 * to TCP_OOO_MAX ranges, so a fifth range's block goes first and the
 * oldest is forgotten ("If the sack array is full, forget about the last
 * one"), its range still held. With profile sack_fin a block may end one
 * past the data, at a FIN held out of order (Linux end_seq counts it).
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

_Static_assert(TCP_SACK_BLOCKS == 4, "Linux TCP_NUM_SACKS");

/* Linux tcp_sack_extend: [seq, end) touches or overlaps the block; it
 * grows to cover both. */
static bool extend(uint32_t *start, uint32_t *end, uint32_t seq, uint32_t end_seq)
{
    if (tcp_seq_gt(seq, *end) || tcp_seq_gt(*start, end_seq))
        return false;
    if (tcp_seq_lt(seq, *start))
        *start = seq;
    if (tcp_seq_gt(end_seq, *end))
        *end = end_seq;
    return true;
}

static void block_remove(tcp_ooo *o, unsigned i)
{
    o->nsack--;
    memmove(&o->sack_start[i], &o->sack_start[i + 1], (o->nsack - i) * sizeof(uint32_t));
    memmove(&o->sack_end[i], &o->sack_end[i + 1], (o->nsack - i) * sizeof(uint32_t));
}

/* Block i moves to the front, the blocks before it one place back. */
static void block_to_front(tcp_ooo *o, unsigned i, uint32_t start, uint32_t end)
{
    memmove(&o->sack_start[1], &o->sack_start[0], i * sizeof(uint32_t));
    memmove(&o->sack_end[1], &o->sack_end[0], i * sizeof(uint32_t));
    o->sack_start[0] = start;
    o->sack_end[0] = end;
}

/* Linux tcp_sack_maybe_coalesce: the first block swallows every other it
 * now touches; the rest keep their order. */
static void coalesce(tcp_ooo *o)
{
    for (unsigned j = 1; j < o->nsack;) {
        if (extend(&o->sack_start[0], &o->sack_end[0], o->sack_start[j], o->sack_end[j]))
            block_remove(o, j);
        else
            j++;
    }
}

unsigned tcp_sack_slot(const tcp_conn *c, uint32_t seq, uint32_t end)
{
    const tcp_ooo *o = c->ooo;
    unsigned n = o ? o->nsack : 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t s = o->sack_start[i], e = o->sack_end[i];
        if (extend(&s, &e, seq, end))
            return i;
    }
    return n;
}

/* Linux tcp_sack_compress_send_ack (profile comp_sack_*): while SACK
 * compression holds an ACK (tp->compressed_ack), a segment that lands
 * beyond the second most recent block (TCP_SACK_BLOCKS_EXPECTED = 2:
 * "Given that SACK packets might be lost, be conservative and use 2")
 * sends the held ACK now, with the blocks as they stand, before the list
 * moves its block to the front; sending it ends the hold
 * (tcp_event_ack_sent). */
static void comp_ack_kick(tcp_conn *c, unsigned slot)
{
    if (slot < 2 || !c->stack->profile->comp_sack_delay_ns || !tcp_tune(c)->comp_acks)
        return;
    tcp_out_ack(c);
}

void tcp_sack_note(tcp_conn *c, uint32_t seq, uint32_t end)
{
    tcp_ooo *o = c->ooo;
    assert(o && tcp_seq_lt(seq, end));
    o->last_start = seq;
    o->last_end = end;
    unsigned i = tcp_sack_slot(c, seq, end);
    if (i < o->nsack) {
        extend(&o->sack_start[i], &o->sack_end[i], seq, end);
        comp_ack_kick(c, i);
        block_to_front(o, i, o->sack_start[i], o->sack_end[i]);
        coalesce(o);
        return;
    }
    comp_ack_kick(c, i);
    if (o->nsack == TCP_SACK_BLOCKS)
        o->nsack--; /* "If the sack array is full, forget about the last one" */
    block_to_front(o, o->nsack, seq, end);
    o->nsack++;
}

void tcp_sack_note_fin(tcp_conn *c, uint32_t fin_seq)
{
    if (!c->stack->profile->sack_fin || !tcp_sack_agreed(c))
        return;
    if (!c->ooo && !(c->ooo = calloc(1, sizeof *c->ooo)))
        return; /* no block: the ACK goes without it */
    tcp_sack_note(c, fin_seq, fin_seq + 1u);
}

void tcp_sack_prune(tcp_conn *c)
{
    tcp_ooo *o = c->ooo;
    if (!o)
        return;
    if (c->ooo_n == 0 && !tcp_sack_fin_held(c)) {
        o->nsack = 0;
        return;
    }
    for (unsigned i = 0; i < o->nsack;) {
        if (tcp_seq_le(o->sack_start[i], c->rcv_nxt))
            block_remove(o, i);
        else
            i++;
    }
}

/* RFC 2018 §3: 2 bytes of kind and length, 8 a block, after two NOPs
 * (Linux TCPOLEN_SACK_BASE_ALIGNED 4, TCPOLEN_SACK_PERBLOCK 8); beside the
 * timestamps' 12 bytes (every segment of a connection that agreed them).
 * A D-SACK block counts as one more (Linux tcp_established_options:
 * eff_sacks = num_sacks + dsack; FreeBSD keeps it in sackblks). */
unsigned tcp_sack_count(const tcp_conn *c)
{
    if (!c->ooo || !tcp_sack_agreed(c))
        return 0;
    unsigned room = (TCP_OPT_MAX - (c->ts_ok ? TCP_TS_OPT_LEN : 0u) - 4u) / 8u;
    unsigned n = c->ooo->nsack + (c->ooo->dsack ? 1u : 0u);
    return n < room ? n : room;
}

uint32_t tcp_sack_opt_len(const tcp_conn *c)
{
    unsigned n = tcp_sack_count(c);
    return n ? 4u + 8u * n : 0u;
}

/* RFC 2883 §4: "the first block of the SACK option" is the D-SACK block,
 * then the SACK blocks (Linux tcp_options_write writes duplicate_sack
 * before selective_acks; FreeBSD keeps it at sackblks[0]). */
unsigned tcp_sack_write(const tcp_conn *c, uint8_t *out)
{
    unsigned n = tcp_sack_count(c);
    unsigned d = n && c->ooo->dsack ? 1u : 0u;
    if (d)
        tcp_sack_put(out, c->ooo->dsack_start, c->ooo->dsack_end);
    for (unsigned i = d; i < n; i++)
        tcp_sack_put(out + 8u * i, c->ooo->sack_start[i - d], c->ooo->sack_end[i - d]);
    return n;
}

void tcp_sack_sent(tcp_conn *c)
{
    if (c->ooo)
        c->ooo->dsack = false;
}

void tcp_sack_reset(tcp_conn *c)
{
    tcp_ooo *o = c->ooo;
    if (!o)
        return;
    o->nsack = 0;
    o->dsack = false;
    o->last_start = o->last_end = c->rcv_nxt; /* no segment held to report first */
}

void tcp_dsack_set(tcp_conn *c, uint32_t seq, uint32_t end)
{
    if (c->stack->profile->dsack == TCP_DSACK_NONE || !tcp_sack_agreed(c) || !tcp_seq_lt(seq, end))
        return;
    if (!c->ooo && !(c->ooo = calloc(1, sizeof *c->ooo)))
        return; /* no D-SACK block: the ACK goes without it */
    c->ooo->dsack = true;
    c->ooo->dsack_start = seq;
    c->ooo->dsack_end = end;
}

void tcp_dsack_extend(tcp_conn *c, uint32_t seq, uint32_t end)
{
    if (!c->ooo || !c->ooo->dsack) {
        tcp_dsack_set(c, seq, end);
        return;
    }
    if (tcp_seq_lt(seq, end))
        extend(&c->ooo->dsack_start, &c->ooo->dsack_end, seq, end);
}

/* The ranges held are disjoint and never touch, so the block is the
 * overlap with the first range met: a later one cannot touch it.
 * Out of order (ofo), Linux tcp_data_queue_ofo: a segment that starts
 * inside held data sets the block, replacing one that waits ("All the bits
 * are present", "Partial overlap": tcp_dsack_set), unless it starts where
 * the held data starts and reaches past it (rb_replace_node:
 * tcp_dsack_extend); one that starts in a hole extends (merge_right:
 * tcp_dsack_extend). FreeBSD tcp_update_dsack_list builds the block from
 * the segment afresh. In order, Linux tcp_ofo_queue: tcp_dsack_extend for
 * the skbs below the new rcv_nxt. */
void tcp_dsack_held(tcp_conn *c, uint32_t seq, uint32_t end, bool ofo)
{
    for (unsigned i = 0; i < c->ooo_n; i++) {
        uint32_t s = c->ooo->start[i], e = c->ooo->end[i];
        if (tcp_seq_lt(s, end) && tcp_seq_lt(seq, e)) {
            uint32_t ds = tcp_seq_max(s, seq), de = tcp_seq_lt(e, end) ? e : end;
            bool inside = tcp_seq_le(s, seq) && (s != seq || tcp_seq_le(end, e));
            if (ofo && (inside || c->stack->profile->dsack == TCP_DSACK_BSD))
                tcp_dsack_set(c, ds, de);
            else
                tcp_dsack_extend(c, ds, de);
            return;
        }
    }
}

bool tcp_sack_highest_edge(const tcp_conn *c, uint32_t *edge)
{
    if (!c->ooo || !c->ooo->nsack || !tcp_sack_agreed(c))
        return false;
    uint32_t top = c->ooo->sack_end[0];
    for (unsigned i = 1; i < c->ooo->nsack; i++)
        top = tcp_seq_max(top, c->ooo->sack_end[i]);
    *edge = top;
    return true;
}
