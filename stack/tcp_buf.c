/*
 * tcp_buf — byte rings for the send and receive buffers, and the list of
 * out-of-order ranges held in the receive ring.
 *
 * A ring's memory is allocated on its first use (buffers are lazy) and has a
 * fixed capacity afterwards. The receive ring holds the in-order unread
 * bytes [head, head+len) followed, at their offsets from RCV.NXT, by
 * out-of-order bytes: the window never exceeds cap - len, so they fit.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

int tcp_ring_alloc(tcp_ring *r, uint32_t cap)
{
    if (r->data)
        return 0;
    assert(cap > 0);
    r->data = malloc(cap);
    if (!r->data)
        return TCP_ENOMEM;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
    return 0;
}

void tcp_ring_free(tcp_ring *r)
{
    free(r->data);
    r->data = NULL;
    r->head = r->len = 0;
}

/* Copies n bytes to ring offset off (from head), wrapping. */
void tcp_ring_write_at(tcp_ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
    assert(r->data && (uint64_t)off + n <= r->cap);
    uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(r->data + pos, src, first);
    memcpy(r->data, src + first, n - first);
}

/* Appends up to n bytes; returns how many fit. */
uint32_t tcp_ring_push(tcp_ring *r, const uint8_t *src, uint32_t n)
{
    uint32_t room = r->cap - r->len;
    if (n > room)
        n = room;
    if (n) {
        tcp_ring_write_at(r, r->len, src, n);
        r->len += n;
    }
    return n;
}

void tcp_ring_copy_out(const tcp_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
    assert(r->data && (uint64_t)off + n <= r->cap);
    uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(dst, r->data + pos, first);
    memcpy(dst + first, r->data, n - first);
}

void tcp_ring_consume(tcp_ring *r, uint32_t n)
{
    assert(n <= r->len);
    if (!n)
        return;
    r->head = (uint32_t)(((uint64_t)r->head + n) % r->cap);
    r->len -= n;
}

/* Ranges are kept sorted and disjoint (touching ranges are merged). */
bool tcp_ooo_add(tcp_conn *c, uint32_t start, uint32_t end)
{
    uint32_t n = c->ooo_n;
    uint32_t i = 0;
    while (i < n && tcp_seq_lt(c->ooo_end[i], start))
        i++;
    /* Merge with every range that overlaps or touches [start, end). */
    uint32_t j = i;
    while (j < n && tcp_seq_le(c->ooo_start[j], end)) {
        if (tcp_seq_lt(c->ooo_start[j], start))
            start = c->ooo_start[j];
        end = tcp_seq_max(end, c->ooo_end[j]);
        j++;
    }
    uint32_t merged = j - i;
    if (merged == 0 && n == TCP_OOO_MAX)
        return false;
    /* Replace ranges [i, j) by one range at i. */
    uint32_t tail = n - j;
    uint32_t dst = i + 1;
    if (merged != 1) {
        memmove(&c->ooo_start[dst], &c->ooo_start[j], tail * sizeof(uint32_t));
        memmove(&c->ooo_end[dst], &c->ooo_end[j], tail * sizeof(uint32_t));
    }
    c->ooo_start[i] = start;
    c->ooo_end[i] = end;
    c->ooo_n = (uint8_t)(n - merged + 1);
    return true;
}

uint32_t tcp_ooo_advance(tcp_conn *c)
{
    uint32_t gained = 0;
    while (c->ooo_n && tcp_seq_le(c->ooo_start[0], c->rcv_nxt)) {
        if (tcp_seq_gt(c->ooo_end[0], c->rcv_nxt)) {
            uint32_t d = c->ooo_end[0] - c->rcv_nxt;
            c->rcv_nxt += d;
            gained += d;
        }
        c->ooo_n--;
        memmove(&c->ooo_start[0], &c->ooo_start[1], c->ooo_n * sizeof(uint32_t));
        memmove(&c->ooo_end[0], &c->ooo_end[1], c->ooo_n * sizeof(uint32_t));
    }
    return gained;
}
