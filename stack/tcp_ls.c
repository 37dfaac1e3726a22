/*
 * tcp_ls — the listener record: which connections become one, and the copy
 * of values between a connection and its record.
 *
 * A listener (RFC 9293 §3.10.7.2) sends nothing of its own but RSTs, runs
 * no timer, and has no sequence space, window or buffer: what it holds is
 * its port, its backlog and queues (tcp_lq), the options its children
 * inherit (spawn_child, tcp_input.c), its counters and its user's flags.
 * Linux keeps a listener in the same struct as a connection; this stack
 * keeps it in a record of those values, a third of a connection slot. The
 * LISTEN rules (tcp_input.c) and the frequent calls (accept, listen again,
 * send, recv: tcp_user.c) work on the record; the rarer calls on a
 * connection rebuilt from it (tcp_stack.c, tcp_frame), so their code is
 * the connection's. The record holds every field a listener can set;
 * tcp_ls_fits checks that on a copy before a connection becomes a record
 * and when a rebuilt one goes back, so nothing is lost.
 */
#include <string.h>

#include "tcp_conn.h"

/* The values a record keeps, each under its tcp_conn name: the one list
 * that saving and restoring both copy. */
#define LS_FIELDS(X)                                                                               \
    X(lq)                                                                                          \
    X(opts)                                                                                        \
    X(id)                                                                                          \
    X(sndbuf)                                                                                      \
    X(rcvbuf)                                                                                      \
    X(lport)                                                                                       \
    X(mss)                                                                                         \
    X(user_held)                                                                                   \
    X(released)                                                                                    \
    X(ever_used)                                                                                   \
    X(port_bound)                                                                                  \
    X(msl_set)                                                                                     \
    X(isn_set)                                                                                     \
    X(linger_zero)                                                                                 \
    X(keepalive)                                                                                   \
    X(nodelay)                                                                                     \
    X(cork)                                                                                        \
    X(rd_shut)                                                                                     \
    X(acc_abort)                                                                                   \
    X(sndbuf_set)                                                                                  \
    X(rcvbuf_set)                                                                                  \
    X(state)                                                                                       \
    X(err)

void tcp_ls_save(tcp_ls *ls, const tcp_conn *c)
{
    assert(!c->passive); /* its lq word is its own, not q_next */
#define LS_SAVE(f) ls->f = c->f;
    LS_FIELDS(LS_SAVE)
#undef LS_SAVE
    memcpy(&ls->stats, &c->stats,
           sizeof ls->stats); /* the padding too: tcp_ls_fits compares bytes */
}

void tcp_ls_restore(tcp_conn *c, const tcp_ls *ls)
{
#define LS_RESTORE(f) c->f = ls->f;
    LS_FIELDS(LS_RESTORE)
#undef LS_RESTORE
    memcpy(&c->stats, &ls->stats, sizeof c->stats);
}

bool tcp_ls_shaped(const tcp_conn *c)
{
    if (c->passive || c->sk.heap_idx != TCP_HEAP_NONE || !tcp_conn_lq(c))
        return false;
    return c->state == TCP_LISTEN || (c->state == TCP_CLOSED && c->ever_used && c->user_held);
}

bool tcp_ls_fits(const tcp_conn *c)
{
    if (!tcp_ls_shaped(c))
        return false;
    /* Rebuild c from what a record would keep and compare every byte
     * past the table links (sk): a field the record lost would differ. */
    tcp_frame copy, back;
    tcp_ls ls;
    memset(&ls, 0, sizeof ls);
    tcp_ls_save(&ls, c);
    size_t slot = tcp_conn_slot_size(c->stack);
    memcpy(&copy, c, slot);
    copy.c.framed = false;
    tcp_conn_blank(c->stack, &back.c);
    tcp_ls_restore(&back.c, &ls);
    size_t from = offsetof(tcp_conn, stack);
    return memcmp((const char *)&copy.c + from, (const char *)&back.c + from, slot - from) == 0;
}
