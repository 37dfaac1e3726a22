/*
 * net_peer — a raw peer: a simulated host with no stack. Every datagram
 * reaching it is copied into its queue with its arrival time (none is lost,
 * none is parsed here); it sends the bytes its caller crafts, through the
 * link and its rules as any host's would. net_peer_encode builds such bytes
 * from a tcp_seg and raw option bytes, so options keep their order and
 * padding and any combination can be sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

typedef struct peer_rec {
    uint64_t time_ns;
    uint32_t off, len;
} peer_rec;

struct net_peer {
    net *net;
    sim_host *host;
    peer_rec *rec; /* queued datagrams, oldest first from `head` */
    uint32_t nrec, caprec, head;
    uint8_t *bytes; /* their contents, back to back */
    uint32_t nbytes, capbytes;
    uint8_t *cur; /* the datagram handed out last */
    uint32_t capcur;
};

static void peer_receive(void *ctx, sim_host *host, sim_packet *pk)
{
    (void)host;
    net_peer *p = ctx;
    if (p->head == p->nrec) /* everything taken: start over */
        p->head = p->nrec = p->nbytes = 0;
    p->rec = net_grow(p->rec, &p->caprec, p->nrec + 1, sizeof *p->rec);
    p->bytes = net_grow(p->bytes, &p->capbytes, p->nbytes + pk->len, 1);
    sim_packet_copy_out(pk, 0, p->bytes + p->nbytes, pk->len);
    p->rec[p->nrec++] = (peer_rec){sim_world_now(p->net->world), p->nbytes, pk->len};
    p->nbytes += pk->len;
    sim_packet_free(p->net->world, pk);
}

net_peer *net_peer_new(net *n, const char *name, uint32_t addr)
{
    sim_host *sh;
    if (sim_host_add(n->world, name, addr, &sh) != 0)
        return NULL;
    net_peer *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory\n");
        abort();
    }
    p->net = n;
    p->host = sh;
    sim_host_set_receiver(sh, peer_receive, p);
    return p;
}

void net_peer_free(net_peer *p)
{
    if (!p)
        return;
    free(p->rec);
    free(p->bytes);
    free(p->cur);
    free(p);
}

sim_host *net_peer_sim(const net_peer *p)
{
    return p->host;
}

int net_peer_link(net *n, net_peer *p, uint32_t host, const sim_link_params *to_host,
                  const sim_link_params *from_host, uint32_t *link)
{
    sim_link *l;
    if (sim_link_add(n->world, p->host, sim_host_by_id(n->world, host), to_host, from_host, &l) !=
        0)
        return -1;
    net_link_install(n, l);
    *link = sim_link_id(l);
    net_host_note_link(n, host, *link);
    return 0;
}

int net_peer_send(net_peer *p, const uint8_t *dgram, size_t len)
{
    if (len > NET_PEER_DGRAM_MAX)
        return NET_ETOOBIG;
    sim_packet *pk = sim_packet_new(p->net->world, len);
    if (!pk) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    memcpy(pk->data, dgram, len);
    sim_host_send(p->host, pk);
    return 0;
}

static void put16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b + 2, v);
}

/* The TCP checksum over the pseudo-header (RFC 9293 §3.1) and tcp[0..len). */
static uint16_t tcp_checksum(const tcp_seg *seg, const uint8_t *tcp, size_t len)
{
    uint8_t ph[12];
    put32(ph, seg->src_addr);
    put32(ph + 4, seg->dst_addr);
    ph[8] = 0;
    ph[9] = 6;
    put16(ph + 10, (uint32_t)len);
    uint16_t sum = tcp_wire_sum(ph, sizeof ph, 0);
    return (uint16_t)~tcp_wire_sum(tcp, len, sum);
}

size_t net_peer_encode(const tcp_seg *seg, const uint8_t *opts, size_t optlen, uint8_t *buf,
                       size_t cap)
{
    if (optlen % 4 || optlen > TCP_OPT_MAX)
        return 0;
    size_t tcplen = TCP_HDR_MIN + optlen + seg->len;
    size_t total = TCP_IPV4_HDR + tcplen;
    if (total > cap || total > NET_PEER_DGRAM_MAX)
        return 0;
    memset(buf, 0, TCP_IPV4_HDR + TCP_HDR_MIN);
    buf[0] = 0x45;
    put16(buf + 2, (uint32_t)total);
    put16(buf + 4, seg->ip_id);
    /* DF, as the stack's own header (tcp_wire_encode) and a kernel's TCP:
     * Linux ip_dont_fragment under path MTU discovery (on by default),
     * FreeBSD tcp_output with path_mtu_discovery. */
    buf[6] = 0x40;
    buf[8] = seg->ttl ? seg->ttl : 64;
    buf[9] = 6;
    put32(buf + 12, seg->src_addr);
    put32(buf + 16, seg->dst_addr);
    put16(buf + 10, (uint16_t)~tcp_wire_sum(buf, TCP_IPV4_HDR, 0));
    uint8_t *t = buf + TCP_IPV4_HDR;
    put16(t, seg->src_port);
    put16(t + 2, seg->dst_port);
    put32(t + 4, seg->seq);
    put32(t + 8, seg->ack);
    t[12] = (uint8_t)(((TCP_HDR_MIN + optlen) / 4) << 4);
    t[13] = seg->flags;
    put16(t + 14, seg->wnd);
    put16(t + 18, seg->urg);
    if (optlen)
        memcpy(t + TCP_HDR_MIN, opts, optlen);
    uint8_t *data = t + TCP_HDR_MIN + optlen;
    if (seg->payload)
        memcpy(data, seg->payload, seg->len);
    else
        memset(data, 0, seg->len);
    put16(t + 16, tcp_checksum(seg, t, tcplen));
    return total;
}

uint32_t net_peer_queued(const net_peer *p)
{
    return p->nrec - p->head;
}

bool net_peer_take(net_peer *p, net_peer_dgram *out)
{
    if (p->head == p->nrec)
        return false;
    peer_rec r = p->rec[p->head++];
    p->cur = net_grow(p->cur, &p->capcur, r.len ? r.len : 1, 1);
    memcpy(p->cur, p->bytes + r.off, r.len);
    *out = (net_peer_dgram){r.time_ns, p->cur, r.len};
    return true;
}

bool net_peer_peek(const net_peer *p, uint32_t i, net_peer_dgram *out)
{
    if (i >= p->nrec - p->head)
        return false;
    peer_rec r = p->rec[p->head + i];
    *out = (net_peer_dgram){r.time_ns, p->bytes + r.off, r.len};
    return true;
}
