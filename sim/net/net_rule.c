/*
 * net_rule — links and segment rules: one fault hook per link direction
 * walks the rules in the order they were added (net.h rule 6); a rule acts
 * on the segments its filter and predicates match (drop, duplicate, delay
 * or hold the next one, or let a hook decide for each), and crafted
 * segments enter a link as their sender's own would.
 *
 * Each link lists its own rules' indices in the order added (net_int.h,
 * net_link_rules), so a segment walks its link's rules and no other: the
 * walk costs what its link holds, not what the net holds, and a link
 * without rules (in a net without a probe) lets its segments pass before
 * their bytes are flattened or parsed. A rule whose count is used up
 * leaves its link's list the next time a segment enters the link outside
 * every walk; its index stays what it was.
 *
 * A callback may add rules while a walk is under way (a hook that adds a
 * hook, a when() that adds a hundred): the walk holds indices and list
 * positions, never pointers into the arrays (which may move), and sees
 * only the rules that existed when the segment entered, so one segment's
 * walk always ends; the new rules act from the next segment on. A net
 * holds at most NET_RULES_MAX rules: past that net_rule_add says
 * NET_ELIMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

bool net_filter_matches(const net_filter *f, int dir, const tcp_seg *seg, uint64_t sent_ns)
{
    if (f->dir >= 0 && f->dir != dir)
        return false;
    uint8_t fl = seg->flags & (uint8_t)~TCP_PSH;
    if (f->exact ? fl != (f->flags & (uint8_t)~TCP_PSH) : (seg->flags & f->flags) != f->flags)
        return false;
    if (f->len >= 0 && (int64_t)seg->len != f->len)
        return false;
    if (f->has_seq && seg->seq != f->seq)
        return false;
    /* RFC 9293 §3.1: the acknowledgment field counts only with ACK set. */
    if (f->has_ack && (!(seg->flags & TCP_ACK) || seg->ack != f->ack))
        return false;
    return sent_ns >= f->after_ns && (f->before_ns == 0 || sent_ns < f->before_ns);
}

static void rule_hold(net_rule *r, uint32_t id)
{
    r->held = net_grow(r->held, &r->capheld, r->nheld + 1, sizeof *r->held);
    r->held[r->nheld++] = id;
}

/* What a spent-once rule does to the segment it fired on. */
static sim_fault_verdict rule_verdict(net_rule *r, uint32_t packet_id)
{
    switch (r->o.action) {
    case NET_RULE_DROP:
        return (sim_fault_verdict){SIM_FAULT_DROP, 0, 0};
    case NET_RULE_DUPLICATE:
        return (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, r->o.copies};
    case NET_RULE_DELAY:
        return (sim_fault_verdict){SIM_FAULT_DELAY, r->o.delay_ns, 0};
    case NET_RULE_HOLD:
        rule_hold(r, packet_id);
        return (sim_fault_verdict){SIM_FAULT_HOLD, 0, 0};
    case NET_RULE_HOOK:
        break;
    }
    /* hooks decide in fault_hook and never fire here */
    abort();
}

/* Whether rule i (of a plain action) fires on v: its predicates hold and
 * its skip count is used up. */
static bool rule_fires(net *n, uint32_t i, const net_seg_view *v)
{
    const net_rule_opts *o = &n->rules[i].o;
    if (o->when && (!o->when(o->ctx, i) || n->halted))
        return false;
    o = &n->rules[i].o; /* the callback may have added rules */
    if (o->match && (!o->match(o->ctx, i, v) || n->halted))
        return false;
    net_rule *r = &n->rules[i];
    if (r->o.skip) {
        r->o.skip--;
        return false;
    }
    return true;
}

/* Walks the rules of v's link without `last` (or with it, `last`) that
 * are among the net's first `nrules`; true with *out set when one acts.
 * Positions and indices, never pointers: a callback may add a rule to this
 * link (its list may move) or to a link of a higher id (the table may
 * move). No rule leaves a list while a walk is under way (net_rules_decide),
 * so a position stays the same rule, and the rules added since the walk
 * began sit past the bound at the list's end. */
static bool rules_walk(net *n, const net_seg_view *v, uint32_t nrules, bool last,
                       sim_fault_verdict *out)
{
    for (uint32_t k = 0; !n->halted; k++) {
        const net_link_rules *lr = &n->link_rules[v->link];
        const net_rule_list *l = last ? &lr->last : &lr->plain;
        if (k >= l->n || l->idx[k] >= nrules)
            return false;
        uint32_t i = l->idx[k];
        net_rule *r = &n->rules[i];
        if (r->o.count == 0 ||
            !net_filter_matches(&r->o.filter, v->dir, v->seg, sim_world_now(n->world)))
            continue;
        if (r->o.action == NET_RULE_HOOK) {
            sim_fault_verdict hv = r->o.hook(r->o.ctx, i, v);
            if (hv.action != SIM_FAULT_PASS && !n->halted) {
                *out = hv;
                return true;
            }
            continue;
        }
        if (!rule_fires(n, i, v))
            continue;
        r = &n->rules[i];
        if (--r->o.count == 0)
            n->link_rules[v->link].spent++;
        r->fired++;
        *out = rule_verdict(r, v->packet->id);
        return true;
    }
    return false;
}

/* Drops the rules whose count is used up from l, keeping the others'
 * order. */
static void list_drop_spent(const net *n, net_rule_list *l)
{
    uint32_t kept = 0;
    for (uint32_t k = 0; k < l->n; k++)
        if (n->rules[l->idx[k]].o.count != 0)
            l->idx[kept++] = l->idx[k];
    l->n = kept;
}

/* The flat buffer for the current nesting depth of net_rules_decide (a
 * callback may send, and so decide, again while an outer segment's bytes
 * are still read): one per depth ever reached, each reused. */
static sim_flat *rule_flat(net *n)
{
    if (n->rule_depth == n->caprule_flats) {
        uint32_t cap = n->caprule_flats;
        n->rule_flats = net_grow(n->rule_flats, &cap, n->rule_depth + 1, sizeof *n->rule_flats);
        memset(n->rule_flats + n->caprule_flats, 0,
               (cap - n->caprule_flats) * sizeof *n->rule_flats);
        n->caprule_flats = cap;
    }
    return &n->rule_flats[n->rule_depth];
}

static sim_fault_verdict decide(net *n, net_seg_view *v)
{
    sim_fault_verdict out;
    /* A callback may add rules (the arrays may move): index, never pointer;
     * the rules added during this walk wait for the next segment. */
    uint32_t nrules = n->nrules;
    if (v->link < n->nlink_rules &&
        (rules_walk(n, v, nrules, false, &out) || rules_walk(n, v, nrules, true, &out)))
        return out;
    if (n->probe.decide && !n->halted) /* net.h rule 9 */
        return n->probe.decide(n->probe.ctx, v);
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

/* The walk and the probe for a segment something asks about: its bytes
 * flattened and parsed first. Apart from net_rules_decide, whose test for
 * "nothing to ask" is then small enough to sit inside the link's hook. */
__attribute__((noinline)) static sim_fault_verdict parse_and_decide(net *n, uint32_t link, int dir,
                                                                    const sim_packet *p)
{
    sim_fault_verdict pass = {SIM_FAULT_PASS, 0, 0};
    tcp_seg seg;
    const uint8_t *bytes = sim_flat_bytes(rule_flat(n), p);
    if (!bytes)
        net_oom();
    n->rule_parses++;
    if (tcp_wire_parse(bytes, p->len, &seg) != TCP_WIRE_OK)
        return pass;
    net_seg_view v = {link, dir, p, &seg, bytes};
    n->rule_depth++;
    sim_fault_verdict out = decide(n, &v);
    n->rule_depth--;
    return out;
}

/* Drops the link's used-up rules from its lists. */
__attribute__((noinline)) static void link_drop_spent(net *n, net_link_rules *lr)
{
    list_drop_spent(n, &lr->plain);
    list_drop_spent(n, &lr->last);
    lr->spent = 0;
}

sim_fault_verdict net_rules_decide(net *n, uint32_t link, int dir, const sim_packet *p)
{
    sim_fault_verdict pass = {SIM_FAULT_PASS, 0, 0};
    net_link_rules *lr = link < n->nlink_rules ? &n->link_rules[link] : NULL;
    /* Outside every walk (no position is held in a list), the rules used
     * up since the last time leave: a link whose rules are all used up
     * walks nothing. */
    if (lr && lr->spent && n->rule_depth == 0)
        link_drop_spent(n, lr);
    /* Nothing to ask: no rule on this link and no probe. The parse is only
     * for them (it reads the whole datagram for its checksum), and it has
     * no effect. */
    if ((!lr || (lr->plain.n == 0 && lr->last.n == 0)) && !n->probe.decide)
        return pass;
    if (n->halted)
        return pass;
    return parse_and_decide(n, link, dir, p);
}

static sim_fault_verdict fault_hook(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    return net_rules_decide(ctx, sim_link_id(l), dir, p);
}

void net_link_install(net *n, sim_link *l)
{
    sim_link_set_fault_hook(l, 0, fault_hook, n);
    sim_link_set_fault_hook(l, 1, fault_hook, n);
}

int net_link_add(net *n, uint32_t a, uint32_t b, const sim_link_params *ab,
                 const sim_link_params *ba, uint32_t *out)
{
    sim_link *l;
    if (a >= n->nhosts || b >= n->nhosts)
        return sim_world_fail(n->world, "no host %u in this simulation (it has %u)",
                              a >= n->nhosts ? a : b, n->nhosts);
    if (sim_link_add(n->world, sim_host_by_id(n->world, a), sim_host_by_id(n->world, b), ab, ba,
                     &l) != 0)
        return -1;
    net_link_install(n, l);
    *out = sim_link_id(l);
    net_host_note_link(n, a, *out);
    if (b != a)
        net_host_note_link(n, b, *out);
    return 0;
}

void net_rules_free(net *n)
{
    for (uint32_t i = 0; i < n->nrules; i++)
        free(n->rules[i].held);
    free(n->rules);
    n->rules = NULL;
    n->nrules = 0;
    for (uint32_t i = 0; i < n->nlink_rules; i++) {
        free(n->link_rules[i].plain.idx);
        free(n->link_rules[i].last.idx);
    }
    free(n->link_rules);
    n->link_rules = NULL;
    n->nlink_rules = n->caplink_rules = 0;
}

/* Lists rule `rule` (the newest) on its link, after the link's others. A
 * rule with no count left never acts and is not listed. */
static void link_rules_add(net *n, uint32_t rule)
{
    const net_rule *r = &n->rules[rule];
    if (r->o.count == 0)
        return;
    if (r->link >= n->nlink_rules) {
        uint32_t cap = n->caplink_rules;
        n->link_rules = net_grow(n->link_rules, &cap, r->link + 1, sizeof *n->link_rules);
        memset(n->link_rules + n->nlink_rules, 0,
               (r->link + 1 - n->nlink_rules) * sizeof *n->link_rules);
        n->caplink_rules = cap;
        n->nlink_rules = r->link + 1;
    }
    net_link_rules *lr = &n->link_rules[r->link];
    net_rule_list *l = r->o.last ? &lr->last : &lr->plain;
    l->idx = net_grow(l->idx, &l->cap, l->n + 1, sizeof *l->idx);
    l->idx[l->n++] = rule;
}

int net_rule_add(net *n, uint32_t link, const net_rule_opts *o, uint32_t *out)
{
    if (o->action == NET_RULE_HOOK && !o->hook)
        return TCP_EINVAL;
    if (n->nrules >= NET_RULES_MAX)
        return NET_ELIMIT;
    /* A link the world never made is a programmer error. */
    assert(link < sim_link_count(n->world));
    n->rules = net_grow(n->rules, &n->caprules, n->nrules + 1, sizeof *n->rules);
    net_rule *r = &n->rules[n->nrules];
    memset(r, 0, sizeof *r);
    r->link = link;
    r->o = *o;
    if (out)
        *out = n->nrules;
    n->nrules++;
    link_rules_add(n, n->nrules - 1);
    return 0;
}

uint32_t net_rule_fired(const net *n, uint32_t rule)
{
    return rule < n->nrules ? n->rules[rule].fired : 0;
}

uint32_t net_rule_held(const net *n, uint32_t rule)
{
    return rule < n->nrules ? n->rules[rule].nheld : 0;
}

uint32_t net_rule_release(net *n, uint32_t rule)
{
    if (rule >= n->nrules)
        return 0;
    net_rule *r = &n->rules[rule];
    sim_link *l = sim_link_by_id(n->world, r->link);
    uint32_t released = 0;
    for (uint32_t i = 0; i < r->nheld; i++) {
        for (int d = 0; d < 2; d++)
            released += sim_link_release(l, d, r->held[i]);
        released += net_wire_release_held(n, r->held[i]); /* rule 10 */
    }
    r->nheld = 0;
    return released;
}

uint32_t net_link_release(net *n, uint32_t link)
{
    sim_link *l = sim_link_by_id(n->world, link);
    uint32_t released = sim_link_release(l, 0, 0) + sim_link_release(l, 1, 0);
    for (uint32_t i = 0; i < n->nrules; i++)
        if (n->rules[i].link == link)
            n->rules[i].nheld = 0;
    return released;
}

int net_inject(net *n, uint32_t link, int dir, const tcp_seg *seg)
{
    if (seg->len > NET_INJECT_DATA_MAX)
        return NET_ETOOBIG;
    if (!seg->src_port || !seg->dst_port)
        return NET_ENOPORTS;
    sim_link *l = sim_link_by_id(n->world, link);
    uint8_t buf[NET_INJECT_DGRAM_MAX];
    size_t len = tcp_wire_encode(seg, buf, sizeof buf);
    if (len == 0)
        return NET_ETOOBIG;
    sim_packet *p = sim_packet_new(n->world, len);
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    memcpy(p->data, buf, len);
    sim_host_send(sim_link_host(l, dir), p);
    return 0;
}

int net_inject_opts(net *n, uint32_t link, int dir, const tcp_seg *seg, const uint8_t *opts,
                    size_t optlen)
{
    if (optlen > TCP_OPT_MAX)
        return NET_ETOOBIG;
    if (!seg->src_port || !seg->dst_port)
        return NET_ENOPORTS;
    uint8_t padded[TCP_OPT_MAX] = {0};
    if (optlen)
        memcpy(padded, opts, optlen);
    size_t plen = (optlen + 3) / 4 * 4;
    size_t total = TCP_IPV4_HDR + TCP_HDR_MIN + plen + (size_t)seg->len;
    if (total > NET_INJECT_OPTS_DGRAM_MAX)
        return NET_ETOOBIG;
    sim_packet *p = sim_packet_new(n->world, total);
    if (!p) {
        fprintf(stderr, "tcpsim: out of memory for a packet\n");
        abort();
    }
    size_t len = net_peer_encode(seg, padded, plen, p->data, total);
    assert(len == total); /* DF set, as tcp_wire_encode: the sender's own header */
    sim_host_send(sim_link_host(sim_link_by_id(n->world, link), dir), p);
    return 0;
}
