/*
 * rlog_dot — the RFC 9293 §3.3.2 connection state diagram (Figure 5) as
 * Graphviz DOT, one cluster per endpoint (host + socket) that changed state
 * in the run.
 *
 * Each cluster holds all eleven states and the figure's edges, labelled as
 * the figure labels them ("event / action"), in grey. The transitions the
 * endpoint took are drawn over them in colour and numbered in the order
 * they happened across the whole run, so "3" on A and "4" on B says which
 * came first. A transition the figure does not show (an abort, a reset, a
 * timeout) gets its own dashed edge labelled with the stack's reason, and a
 * TIME-WAIT timer restarted by a repeated FIN a dashed loop on TIME_WAIT.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_int.h"
#include "rlog_why.h"

/* More clusters than this would not be read by anyone; the rest are named
 * in a comment. */
#define DOT_MAX_ENDPOINTS 64

typedef struct std_edge {
    tcp_state from, to;
    const char *label;
    bool omitted; /* in the RFC's notes, not drawn in the figure */
} std_edge;

/* RFC 9293 Figure 5, plus the transition its note 2 says is left out. */
static const std_edge STD_EDGES[] = {
    {TCP_CLOSED, TCP_LISTEN, "passive OPEN / create TCB", false},
    {TCP_CLOSED, TCP_SYN_SENT, "active OPEN / create TCB, snd SYN", false},
    {TCP_LISTEN, TCP_CLOSED, "CLOSE / delete TCB", false},
    {TCP_LISTEN, TCP_SYN_RECEIVED, "rcv SYN / snd SYN,ACK", false},
    {TCP_LISTEN, TCP_SYN_SENT, "SEND / snd SYN", false},
    {TCP_SYN_SENT, TCP_CLOSED, "CLOSE / delete TCB", false},
    {TCP_SYN_SENT, TCP_SYN_RECEIVED, "rcv SYN / snd SYN,ACK", false},
    {TCP_SYN_SENT, TCP_ESTABLISHED, "rcv SYN,ACK / snd ACK", false},
    {TCP_SYN_RECEIVED, TCP_LISTEN, "rcv RST (note 1)", false},
    {TCP_SYN_RECEIVED, TCP_ESTABLISHED, "rcv ACK of SYN / x", false},
    {TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, "CLOSE / snd FIN", false},
    {TCP_ESTABLISHED, TCP_FIN_WAIT_1, "CLOSE / snd FIN", false},
    {TCP_ESTABLISHED, TCP_CLOSE_WAIT, "rcv FIN / snd ACK", false},
    {TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "rcv ACK of FIN / x", false},
    {TCP_FIN_WAIT_1, TCP_CLOSING, "rcv FIN / snd ACK", false},
    {TCP_FIN_WAIT_1, TCP_TIME_WAIT, "rcv FIN + ACK of FIN / snd ACK (note 2)", true},
    {TCP_FIN_WAIT_2, TCP_TIME_WAIT, "rcv FIN / snd ACK", false},
    {TCP_CLOSE_WAIT, TCP_LAST_ACK, "CLOSE / snd FIN", false},
    {TCP_CLOSING, TCP_TIME_WAIT, "rcv ACK of FIN / x", false},
    {TCP_LAST_ACK, TCP_CLOSED, "rcv ACK of FIN / x", false},
    {TCP_TIME_WAIT, TCP_CLOSED, "Timeout=2MSL / delete TCB", false},
};
#define STD_EDGE_COUNT (sizeof STD_EDGES / sizeof STD_EDGES[0])

/* One transition an endpoint took, with every step number it was taken at. */
typedef struct taken {
    tcp_state from, to;
    char steps[64];
    char note[64];
    char rule[64]; /* rlog_why_short of its first taking */
    uint64_t first_ns;
} taken;

typedef struct endpoint {
    uint32_t host, sock;
    bool visited[TCP_STATE_COUNT];
    taken *edges;
    size_t nedges, capedges;
} endpoint;

static endpoint *endpoint_of(endpoint **eps, size_t *n, size_t *cap, uint32_t host, uint32_t sock)
{
    for (size_t i = 0; i < *n; i++)
        if ((*eps)[i].host == host && (*eps)[i].sock == sock)
            return &(*eps)[i];
    if (*n == DOT_MAX_ENDPOINTS)
        return NULL;
    render_grow((void **)eps, cap, *n + 1, sizeof **eps);
    endpoint *ep = &(*eps)[(*n)++];
    memset(ep, 0, sizeof *ep);
    ep->host = host;
    ep->sock = sock;
    return ep;
}

static void add_step(endpoint *ep, const rlog_entry *e, unsigned step)
{
    ep->visited[e->from] = ep->visited[e->to] = true;
    taken *t = NULL;
    for (size_t i = 0; i < ep->nedges && !t; i++)
        if (ep->edges[i].from == e->from && ep->edges[i].to == e->to)
            t = &ep->edges[i];
    if (!t) {
        render_grow((void **)&ep->edges, &ep->capedges, ep->nedges + 1, sizeof *ep->edges);
        t = &ep->edges[ep->nedges++];
        memset(t, 0, sizeof *t);
        t->from = e->from;
        t->to = e->to;
        t->first_ns = e->time_ns;
        snprintf(t->note, sizeof t->note, "%s", e->note);
        rlog_why_short(e, t->rule, sizeof t->rule);
    }
    size_t n = strlen(t->steps);
    if (n + 12 < sizeof t->steps)
        snprintf(t->steps + n, sizeof t->steps - n, "%s%u", n ? ", " : "", step);
    else if (n + 4 < sizeof t->steps && t->steps[n - 1] != '.')
        snprintf(t->steps + n, sizeof t->steps - n, ", ...");
}

static const std_edge *std_find(tcp_state from, tcp_state to)
{
    for (size_t i = 0; i < STD_EDGE_COUNT; i++)
        if (STD_EDGES[i].from == from && STD_EDGES[i].to == to)
            return &STD_EDGES[i];
    return NULL;
}

/* A DOT double-quoted string: quotes and backslashes escaped, control
 * characters dropped. */
static void dot_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('"', out);
}

static void cluster_label(const rlog *log, const endpoint *ep, char *buf, size_t n)
{
    uint16_t lport, rport;
    int k = snprintf(buf, n, "%s socket %" PRIu32, rlog_host_name(log, ep->host), ep->sock);
    if (k > 0 && (size_t)k < n && rlog_sock_ports(log, ep->host, ep->sock, &lport, &rport) == 0)
        snprintf(buf + k, n - (size_t)k, " (port %u, peer port %u)", (unsigned)lport,
                 (unsigned)rport);
}

static void write_nodes(FILE *out, size_t k, const endpoint *ep)
{
    for (int s = 0; s < TCP_STATE_COUNT; s++) {
        fprintf(out, "    e%zu_%s [label=", k, tcp_state_name((tcp_state)s));
        dot_str(out, tcp_state_name((tcp_state)s));
        if (ep && ep->visited[s])
            fputs(", style=\"rounded,filled,bold\", fillcolor=\"#fde2e2\", color=\"#d62728\"", out);
        fputs("];\n", out);
    }
}

static void write_taken(FILE *out, size_t k, const taken *t)
{
    const std_edge *se = std_find(t->from, t->to);
    char label[260], ms[32];
    /* A loop is a timer restart (RFC 9293 §3.10.7.4, TIME-WAIT). */
    const char *restart = !strstr(t->note, "FIN") ? "rcv ACK / restart 2MSL"
                                                  : "rcv FIN again / snd ACK, restart 2MSL";
    rlog_format_ms(t->first_ns, ms, sizeof ms);
    snprintf(label, sizeof label, "%s: %s [%s]", t->steps,
             se                 ? se->label
             : t->from == t->to ? restart
             : t->note[0]       ? t->note
                                : "?",
             t->rule);
    fprintf(out, "    e%zu_%s -> e%zu_%s [label=", k, tcp_state_name(t->from), k,
            tcp_state_name(t->to));
    dot_str(out, label);
    fprintf(out,
            ", tooltip=\"first at %s ms\", color=\"#d62728\", fontcolor=\"#d62728\", "
            "penwidth=2.5%s];\n",
            ms, se ? "" : ", style=\"bold,dashed\"");
}

static void write_cluster(FILE *out, const rlog *log, size_t k, const endpoint *ep)
{
    char label[160];
    if (ep)
        cluster_label(log, ep, label, sizeof label);
    else
        snprintf(label, sizeof label, "RFC 9293 (no state changes recorded)");
    fprintf(out, "  subgraph cluster_%zu {\n    label=", k);
    dot_str(out, label);
    fputs(";\n    fontname=\"Helvetica-Bold\";\n    color=\"#888888\";\n", out);
    write_nodes(out, k, ep);
    for (size_t i = 0; i < STD_EDGE_COUNT; i++) {
        const std_edge *se = &STD_EDGES[i];
        bool done = false;
        for (size_t j = 0; ep && j < ep->nedges; j++)
            done |= ep->edges[j].from == se->from && ep->edges[j].to == se->to;
        if (done)
            continue;
        fprintf(out, "    e%zu_%s -> e%zu_%s [label=", k, tcp_state_name(se->from), k,
                tcp_state_name(se->to));
        dot_str(out, se->label);
        fputs(se->omitted ? ", style=dashed];\n" : "];\n", out);
    }
    for (size_t j = 0; ep && j < ep->nedges; j++)
        write_taken(out, k, &ep->edges[j]);
    fputs("  }\n", out);
}

/* Whether endpoint (host, sock) is the one `want` names: "HOST" (every
 * socket of that host) or "HOST#SOCK"; NULL names every endpoint. */
static bool ep_named(const rlog *log, uint32_t host, uint32_t sock, const char *want)
{
    if (!want)
        return true;
    const char *name = rlog_host_name(log, host), *hash = strrchr(want, '#');
    size_t n = hash ? (size_t)(hash - want) : strlen(want);
    if (strlen(name) != n || strncmp(name, want, n) != 0)
        return false;
    char num[16];
    snprintf(num, sizeof num, "%" PRIu32, sock);
    return !hash || strcmp(hash + 1, num) == 0;
}

size_t rlog_dot_endpoints(const rlog *log, const char *want, char *names, size_t len)
{
    size_t matches = 0, at = 0;
    uint64_t *seen = NULL;
    size_t n = 0, cap = 0;
    if (len)
        names[0] = '\0';
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        uint64_t key = (uint64_t)e->host << 32 | e->sock;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++) /* O(changes x endpoints): few endpoints */
            dup = seen[k] == key;
        if (e->kind != RLOG_STATE || dup)
            continue;
        render_grow((void **)&seen, &cap, n + 1, sizeof *seen);
        seen[n++] = key;
        matches += ep_named(log, e->host, e->sock, want);
        render_cat(names, len, &at, "%s%s#%" PRIu32, n > 1 ? ", " : "",
                   rlog_host_name(log, e->host), e->sock);
    }
    free(seen);
    return matches;
}

int rlog_write_dot(const rlog *log, FILE *out)
{
    return rlog_write_dot_opts(log, out, NULL);
}

int rlog_write_dot_opts(const rlog *log, FILE *out, const char *only)
{
    endpoint *eps = NULL;
    size_t n = 0, cap = 0, left_out = 0;
    unsigned step = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        bool loop = e->kind == RLOG_RESTART; /* drawn as a loop on its state */
        if ((e->kind != RLOG_STATE && !loop) || e->from >= TCP_STATE_COUNT ||
            e->to >= TCP_STATE_COUNT)
            continue;
        step++;
        if (!ep_named(log, e->host, e->sock, only))
            continue;
        endpoint *ep = endpoint_of(&eps, &n, &cap, e->host, e->sock);
        if (ep)
            add_step(ep, e, step);
        else
            left_out++;
    }
    fputs("digraph tcp_states {\n  graph [label=\"RFC 9293 connection states", out);
    if (only) {
        fputs(" of ", out);
        for (const char *c = only; *c; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
                fputc(*c, out);
    }
    fputs(": transitions taken in this run in red, numbered in the order they happened\", "
          "labelloc=t, fontname=\"Helvetica\", compound=true];\n"
          "  node [shape=box, style=rounded, fontname=\"Helvetica\", color=\"#999999\"];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#bbbbbb\", "
          "fontcolor=\"#888888\"];\n",
          out);
    if (left_out)
        fprintf(out, "  /* %zu more transitions on endpoints past the first %d are not drawn */\n",
                left_out, DOT_MAX_ENDPOINTS);
    for (size_t k = 0; k < n; k++)
        write_cluster(out, log, k, &eps[k]);
    if (n == 0)
        write_cluster(out, log, 0, NULL);
    fputs("}\n", out);
    for (size_t k = 0; k < n; k++)
        free(eps[k].edges);
    free(eps);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
