/*
 * pkt_shell — the shell lines of a script, read and never run. Two forms are
 * understood: packetdrill's defaults.sh (expanded to its named defaults, in
 * its order) and "sysctl -q net.ipv4.tcp_X=V ..." (one setting per
 * assignment). Every other command, shell expansion or sysctl outside
 * net.ipv4.tcp_* is PKT_UNSUPPORTED. Also checks the --options at the top of
 * a script.
 *
 * The defaults are those of packetdrill's public gtests/net/common/defaults.sh;
 * the knobs are fields of tcp_profile (stack/tcp.h) as they exist today.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pkt_internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const pkt_default DEFAULTS[] = {
    {"tcp_metrics_flush", "ip tcp_metrics flush all", NULL,
     "no-op: a simulated host starts with no cached metrics"},
    {"tcp_rmem", "4096 540000 15728640", "rcvbuf",
     "rcvbuf takes the default (middle) value, rcvbuf_max the maximum (wscale 8)"},
    {"tcp_wmem", "4096 262144 4194304", "sndbuf", "sndbuf takes the default (middle) value"},
    {"tcp_timestamps", "1", "send_timestamps", "timestamps offered on SYNs"},
    {"tcp_syn_retries", "5", "syn_retries", "connect() gives up after 5 SYN retransmissions"},
    {"tcp_synack_retries", "5", "synack_retries", "5 SYN-ACK retransmissions"},
    {"tcp_frto", "2", NULL, "F-RTO (RFC 5682) is not modelled"},
    {"tcp_sack", "1", "send_sack_perm", "SACK-permitted offered on SYNs"},
    {"tcp_dsack", "1", NULL, "D-SACK (RFC 2883) is not modelled"},
    {"tcp_fack", "0", NULL, "off; Linux removed FACK in 4.15"},
    {"tcp_reordering", "3", NULL, "duplicate-ACK threshold: no knob"},
    {"tcp_congestion_control", "cubic", NULL, "CUBIC is not modelled"},
    {"tcp_slow_start_after_idle", "0", NULL, "no knob"},
    {"tcp_early_retrans", "4", "tlp", "tail loss probes on (3 and 4 turn them on)"},
    {"tcp_recovery", "1", NULL, "RACK loss detection is not modelled"},
    {"tcp_tso_win_divisor", "3", NULL, "no effect: simulated hosts have no TSO"},
    {"tcp_ecn", "0", NULL, "off, as tcpsim has no ECN"},
    {"tcp_pacing_ss_ratio", "200", NULL, "pacing is not modelled"},
    {"tcp_pacing_ca_ratio", "120", NULL, "pacing is not modelled"},
    {"tcp_notsent_lowat", "4294967295", NULL, "no limit, the same as having none"},
    {"tcp_fastopen", "0x70403", NULL,
     "matters only for SYNs carrying Fast Open, which is unsupported"},
    {"tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4", NULL, "Fast Open is unsupported"},
    {"tcp_syncookies", "1", NULL, "cookies only when the SYN queue overflows: not modelled"},
    {"net.mptcp.enabled", "1", NULL, "no effect on IPPROTO_TCP sockets"},
    {"qdisc", "tc qdisc add dev tun0 root pfifo", NULL, "no-op: a simulated link queue is a FIFO"},
};

/* net.ipv4 sysctls that a tcp_profile field carries today. */
static const struct {
    const char *sysctl, *knob;
} KNOBS[] = {
    {"tcp_syn_retries", "syn_retries"},
    {"tcp_synack_retries", "synack_retries"},
    {"tcp_retries2", "data_retries"},
    {"tcp_keepalive_time", "keepalive_idle_ns"},
    {"tcp_keepalive_intvl", "keepalive_intvl_ns"},
    {"tcp_keepalive_probes", "keepalive_probes"},
    {"tcp_fin_timeout", "fin_wait_2_timeout_ns"},
    {"tcp_timestamps", "send_timestamps"},
    {"tcp_window_scaling", "send_wscale"},
    {"tcp_sack", "send_sack_perm"},
    {"tcp_rmem", "rcvbuf"},
    {"tcp_wmem", "sndbuf"},
    {"tcp_rfc1337", "tw_rst"},
    {"tcp_abort_on_overflow", "backlog_full"},
    {"tcp_rto_min_us", "rto_min_ns"},
    {"tcp_rto_max_ms", "rto_max_ns"},
    {"tcp_syn_linear_timeouts", "syn_linear_timeouts"},
    {"tcp_early_retrans", "tlp"},
    {"tcp_comp_sack_delay_ns", "comp_sack_delay_ns"},
    {"tcp_comp_sack_slack_ns", "comp_sack_slack_ns"},
    {"tcp_comp_sack_nr", "comp_sack_nr"},
};

const pkt_default *pkt_defaults(size_t *count)
{
    *count = COUNT(DEFAULTS);
    return DEFAULTS;
}

const char *pkt_sysctl_knob(const char *name)
{
    for (size_t i = 0; i < COUNT(KNOBS); i++)
        if (!strcmp(KNOBS[i].sysctl, name))
            return KNOBS[i].knob;
    return NULL;
}

/* ---- Words of one command -------------------------------------------- */

#define WORDS_MAX 32

typedef struct cmd_words {
    size_t n;
    const char *w[WORDS_MAX];
    bool expands; /* a '$' or '`' outside single quotes */
} cmd_words;

/* Splits text[0..len) into words, quotes removed, copied to the arena. */
static int split_words(pkt_parser *p, const char *text, size_t len, uint32_t line, cmd_words *cw)
{
    char buf[1024];
    size_t i = 0;
    memset(cw, 0, sizeof *cw);
    if (len >= sizeof buf)
        return pkt_unsupported(p, line, "shell command longer than 1023 characters");
    while (i < len) {
        size_t n = 0;
        char quote = 0;
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        if (i >= len)
            break;
        for (; i < len && (quote || !isspace((unsigned char)text[i])); i++) {
            char c = text[i];
            if (quote && c == quote)
                quote = 0;
            else if (!quote && (c == '"' || c == '\''))
                quote = c;
            else
                buf[n++] = c;
            cw->expands |= (c == '$' || c == '`') && quote != '\'';
        }
        if (quote)
            return pkt_fail(p, line, "unterminated quote in shell command");
        if (cw->n == WORDS_MAX)
            return pkt_unsupported(p, line, "shell command with more than 32 words");
        if (!(cw->w[cw->n++] = pkt_strdup(p, buf, n)))
            return -1;
    }
    return 0;
}

/* Drops "> /dev/null", "2>&1", ">file": output goes nowhere anyway. */
static void drop_redirections(cmd_words *cw)
{
    size_t k = 0;
    for (size_t i = 0; i < cw->n; i++) {
        const char *w = cw->w[i];
        const char *gt = strchr(w, '>');
        if (gt && (gt == w || (gt == w + 1 && (w[0] == '1' || w[0] == '2' || w[0] == '&')))) {
            if (gt[1] == '\0' && i + 1 < cw->n)
                i++; /* the target is the next word */
            continue;
        }
        cw->w[k++] = w;
    }
    cw->n = k;
}

static bool is_defaults(const char *w)
{
    const char *base = strrchr(w, '/');
    return !strcmp(base ? base + 1 : w, "defaults.sh");
}

static int add_defaults(pkt_parser *p)
{
    for (size_t i = 0; i < COUNT(DEFAULTS); i++) {
        pkt_setting set = {DEFAULTS[i].name, DEFAULTS[i].value, true};
        if (pkt_new_setting(p, &set))
            return -1;
    }
    return 0;
}

static int sysctl_assignment(pkt_parser *p, const char *w, uint32_t line)
{
    char what[160];
    const char *eq = strchr(w, '=');
    if (!eq || eq == w)
        return pkt_fail(p, line, "expected name=value after sysctl, got '%s'", w);
    size_t n = (size_t)(eq - w);
    if (n < 13 || memcmp(w, "net.ipv4.tcp_", 13)) {
        snprintf(what, sizeof what, "sysctl %.*s (only net.ipv4.tcp_* are read)", (int)n, w);
        return pkt_unsupported(p, line, what);
    }
    if (n == 16 && !memcmp(w, "net.ipv4.tcp_ecn", 16) && strcmp(eq + 1, "0")) {
        snprintf(what, sizeof what, "ECN (%s)", w);
        return pkt_unsupported(p, line, what);
    }
    pkt_setting set = {pkt_strdup(p, w + 9, n - 9), eq + 1, false};
    if (!set.name)
        return -1;
    return pkt_new_setting(p, &set);
}

static int parse_sysctl(pkt_parser *p, const cmd_words *cw, uint32_t line)
{
    size_t i = 1;
    char what[96];
    for (; i < cw->n && cw->w[i][0] == '-'; i++) {
        const char *f = cw->w[i];
        if (strcmp(f, "-q") && strcmp(f, "-w") && strcmp(f, "-qw") && strcmp(f, "-wq")) {
            snprintf(what, sizeof what, "sysctl option %.40s", f);
            return pkt_unsupported(p, line, what);
        }
    }
    if (i == cw->n)
        return pkt_fail(p, line, "expected name=value after sysctl");
    for (; i < cw->n; i++)
        if (sysctl_assignment(p, cw->w[i], line))
            return -1;
    return 0;
}

static int one_command(pkt_parser *p, const char *text, size_t len, uint32_t line)
{
    cmd_words cw;
    char what[96];
    if (split_words(p, text, len, line, &cw))
        return -1;
    drop_redirections(&cw);
    if (cw.n == 0 || cw.w[0][0] == '#')
        return 0;
    if (is_defaults(cw.w[0])) {
        if (cw.n > 1)
            return pkt_unsupported(p, line, "arguments to defaults.sh");
        return add_defaults(p);
    }
    if (cw.expands) {
        snprintf(what, sizeof what, "shell expansion ($ or `) in '%.40s'", cw.w[0]);
        return pkt_unsupported(p, line, what);
    }
    if (!strcmp(cw.w[0], "sysctl"))
        return parse_sysctl(p, &cw, line);
    snprintf(what, sizeof what, "shell command '%.40s'", cw.w[0]);
    return pkt_unsupported(p, line, what);
}

int pkt_parse_command(pkt_parser *p, pkt_cmd *cmd)
{
    const pkt_tok t = p->tok;
    uint32_t line = t.line, start_line = t.line;
    size_t start = 0;
    char quote = 0;
    cmd->first = (uint32_t)p->s->nset;
    if (!(cmd->text = pkt_strdup(p, t.p, t.n)))
        return -1;
    /* Commands end at a newline, ';' or "&&" outside quotes, and at the end. */
    for (size_t i = 0; i <= t.n; i++) {
        char c = i < t.n ? t.p[i] : '\n';
        bool sep = i == t.n;
        if (quote)
            quote = c == quote ? 0 : quote;
        else if (c == '"' || c == '\'')
            quote = c;
        else if (c == '\n' || c == ';' || (c == '&' && i + 1 < t.n && t.p[i + 1] == '&'))
            sep = true;
        if (sep) {
            if (one_command(p, t.p + start, i - start, start_line))
                return -1;
            i += c == '&';
            start = i + 1;
        }
        line += c == '\n' && i < t.n;
        if (sep)
            start_line = line;
    }
    cmd->count = (uint32_t)p->s->nset - cmd->first;
    return pkt_advance(p);
}

/* ---- --options ------------------------------------------------------------- */

static bool all_digits(const char *s, bool fraction)
{
    bool dot = false;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s == '.' && fraction && !dot)
            dot = true;
        else if (!isdigit((unsigned char)*s))
            return false;
    }
    return true;
}

static bool is_ipv4(const char *s)
{
    unsigned a, b, c, d;
    char end;
    return sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &end) == 4 && a < 256 && b < 256 &&
           c < 256 && d < 256;
}

int pkt_check_option(pkt_parser *p, const pkt_option *o)
{
    static const char *const numbers[] = {"tolerance_usecs",   "bind_port", "connect_port", "mtu",
                                          "tcp_ts_tick_usecs", "mss"};
    static const char *const addresses[] = {"local_ip", "remote_ip", "gateway_ip", "netmask_ip"};
    char what[96];
    for (size_t i = 0; i < COUNT(numbers); i++)
        if (!strcmp(o->name, numbers[i]))
            return all_digits(o->value, false)
                       ? 0
                       : pkt_fail(p, o->line, "expected a number after --%s=", o->name);
    if (!strcmp(o->name, "tolerance_percent"))
        return all_digits(o->value, true)
                   ? 0
                   : pkt_fail(p, o->line, "expected a number after --%s=", o->name);
    for (size_t i = 0; i < COUNT(addresses); i++)
        if (!strcmp(o->name, addresses[i])) {
            if (strchr(o->value, ':'))
                return pkt_unsupported(p, o->line, "IPv6 addresses");
            return is_ipv4(o->value)
                       ? 0
                       : pkt_fail(p, o->line, "expected an IPv4 address after --%s=", o->name);
        }
    if (!strcmp(o->name, "ip_version")) {
        if (!strcmp(o->value, "ipv4"))
            return 0;
        snprintf(what, sizeof what, "IPv6 (--ip_version=%.40s)", o->value);
        return pkt_unsupported(p, o->line, what);
    }
    snprintf(what, sizeof what, "option --%.60s", o->name);
    return pkt_unsupported(p, o->line, what);
}
