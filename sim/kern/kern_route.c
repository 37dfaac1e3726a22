/*
 * kern_route — the peers' host routes inside a run's namespace, made through
 * NETLINK_ROUTE (RTM_NEWROUTE, as `ip route add` does) so they can carry the
 * route metrics that stand for profile knobs with no sysctl: rto_min
 * (RTAX_RTO_MIN, locked: Linux's tcp_rto_min reads it only when locked),
 * initcwnd (RTAX_INITCWND) and advmss (RTAX_ADVMSS); and the TUN device's
 * MTU (SIOCSIFMTU), from which the kernel derives the MSS it advertises.
 *
 * Called by kern_ns.c with the calling thread inside the namespace: the
 * sockets made here, and so the routes, belong to it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kern_internal.h"

typedef struct route_req {
    struct nlmsghdr nh;
    struct rtmsg rt;
    uint8_t attrs[256];
} route_req;

/* Appends one attribute to the message (or inside the nest `in`). */
static struct rtattr *attr_put(route_req *r, struct rtattr *in, int type, const void *data,
                               size_t len)
{
    struct rtattr *a = (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->nh.nlmsg_len));
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
    if (in)
        in->rta_len = (unsigned short)((uint8_t *)r + r->nh.nlmsg_len - (uint8_t *)in);
    return a;
}

static void put_metrics(route_req *r, const kern_config *c)
{
    struct rtattr *m = attr_put(r, NULL, RTA_METRICS, NULL, 0);
    uint32_t lock = 0;
    if (c->rto_min_ms) {
        attr_put(r, m, RTAX_RTO_MIN, &c->rto_min_ms, sizeof c->rto_min_ms);
        lock |= 1u << RTAX_RTO_MIN;
    }
    if (c->initcwnd)
        attr_put(r, m, RTAX_INITCWND, &c->initcwnd, sizeof c->initcwnd);
    if (c->advmss)
        attr_put(r, m, RTAX_ADVMSS, &c->advmss, sizeof c->advmss);
    if (lock)
        attr_put(r, m, RTAX_LOCK, &lock, sizeof lock);
}

/* Sends one request and reads its acknowledgement: 0 or -errno. */
static int rtnl_talk(int s, route_req *r)
{
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (sendto(s, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -errno;
    union {
        struct nlmsghdr nh;
        uint8_t buf[1024];
    } ans;
    ssize_t n = recv(s, ans.buf, sizeof ans.buf, 0);
    if (n < 0)
        return -errno;
    if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ans.nh.nlmsg_type != NLMSG_ERROR)
        return -EPROTO;
    const struct nlmsgerr *e = NLMSG_DATA(&ans.nh);
    return e->error; /* 0 or -errno */
}

static int add_route(int s, int ifindex, uint32_t dst, const kern_config *c, uint32_t seq)
{
    route_req r;
    memset(&r, 0, sizeof r);
    r.nh.nlmsg_len = NLMSG_LENGTH(sizeof r.rt);
    r.nh.nlmsg_type = RTM_NEWROUTE;
    r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    r.nh.nlmsg_seq = seq;
    r.rt.rtm_family = AF_INET;
    r.rt.rtm_dst_len = 32;
    r.rt.rtm_table = RT_TABLE_MAIN;
    r.rt.rtm_protocol = RTPROT_BOOT;
    r.rt.rtm_scope = RT_SCOPE_LINK;
    r.rt.rtm_type = RTN_UNICAST;
    uint32_t be = htonl(dst);
    uint32_t oif = (uint32_t)ifindex;
    attr_put(&r, NULL, RTA_DST, &be, sizeof be);
    attr_put(&r, NULL, RTA_OIF, &oif, sizeof oif);
    if (c->rto_min_ms || c->initcwnd || c->advmss)
        put_metrics(&r, c);
    return rtnl_talk(s, &r);
}

int kern_route_add_peers(const kern_config *c, char *err, size_t err_len)
{
    int ifindex = (int)if_nametoindex(KERN_TUN_NAME);
    if (ifindex == 0)
        return kern_fail(err, err_len, "%s: %s", KERN_TUN_NAME, strerror(errno));
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return kern_fail(err, err_len, "NETLINK_ROUTE: %s", strerror(errno));
    struct timeval tv = {.tv_sec = 1}; /* an answer comes at once; never hang */
    int rc = setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 ? 0 : -errno;
    for (size_t i = 0; rc == 0 && i < c->npeers; i++)
        rc = add_route(s, ifindex, c->peer_addrs[i], c, (uint32_t)i + 1);
    close(s);
    if (rc != 0)
        return kern_fail(err, err_len, "%s route: %s", KERN_TUN_NAME, strerror(-rc));
    return 0;
}

int kern_route_set_mtu(int s, uint32_t mtu)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", KERN_TUN_NAME);
    ifr.ifr_mtu = (int)mtu;
    return ioctl(s, SIOCSIFMTU, &ifr) == 0 ? 0 : -errno;
}
