/*
 * rlog_html — the stepper page (see rlog_html.h): the page skeleton, the
 * embedded style and script (rlog_html.css and rlog_html.js, compiled in
 * by rlog_html_embed.cmake), and the run as JSON data.
 *
 * The data holds one object per run log entry, in log order, with the
 * fields of `--trace json` in short form plus what only the page needs:
 * host indexes instead of names, the entry behind a state change (not only
 * its packet id), the rule (rlog_why), the profile's difference, and the
 * connection variables (rlog_tcb) that hold from that entry on. All
 * strings are escaped so that no "<" ever appears inside the script
 * element, whatever a scenario logged.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_int.h"
#include "rlog_html.h"
#include "rlog_html_assets.h"
#include "rlog_why.h"

/* A JSON string safe inside <script> (render_json_string). */
static void put_str(FILE *out, const char *str)
{
    render_json_string(out, str, true);
}

static void key_str(FILE *out, const char *key, const char *val)
{
    fprintf(out, ",\"%s\":", key);
    put_str(out, val);
}

/* Text for the HTML body (title): & < > " escaped. */
static void put_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

static int host_index(uint32_t h)
{
    return h == UINT32_MAX ? -1 : (int)h;
}

static void put_seg(FILE *out, const tcp_seg *s)
{
    char flags[40];
    tcp_flags_str(s->flags, flags, sizeof flags);
    fprintf(out, ",\"seg\":{\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"win\":%u",
            flags, s->seq, s->ack, (unsigned)s->wnd);
    fprintf(out, ",\"len\":%" PRIu32 ",\"sport\":%u,\"dport\":%u", s->len, (unsigned)s->src_port,
            (unsigned)s->dst_port);
    if (s->has_mss)
        fprintf(out, ",\"mss\":%u", (unsigned)s->mss);
    if (s->has_wscale)
        fprintf(out, ",\"ws\":%u", (unsigned)s->wscale);
    if (s->has_sack_perm)
        fputs(",\"sackok\":true", out);
    if (s->has_ts)
        fprintf(out, ",\"ts_val\":%" PRIu32 ",\"ts_ecr\":%" PRIu32, s->ts_val, s->ts_ecr);
    for (unsigned i = 0; i < s->nsack; i++) { /* RFC 2018 §3, as --trace json writes them */
        uint32_t left, right;
        tcp_seg_sack(s, i, &left, &right);
        fprintf(out, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : ",\"sack\":[", left, right);
    }
    if (s->nsack)
        fputc(']', out);
    fputc('}', out);
}

static const tcp_profile *profile_of(const rlog_html_opts *o, uint32_t host)
{
    if (!o || !o->profiles || host >= o->nprofiles)
        return NULL;
    return o->profiles[host];
}

static void put_packet(FILE *out, const rlog_entry *e)
{
    fprintf(out, ",\"s\":%d,\"d\":%d,\"pkt\":%" PRIu32 ",\"origin\":%" PRIu32,
            host_index(e->src_host), host_index(e->dst_host), e->packet_id, e->origin_id);
    if (e->kind == RLOG_DROP)
        key_str(out, "reason", sim_drop_reason_name(e->drop));
    if (e->kind == RLOG_DELAY)
        fprintf(out, ",\"delay_ns\":%" PRIu64, e->value_ns);
    if (e->seg_ok)
        put_seg(out, e->seg);
    else
        key_str(out, "malformed", tcp_wire_err_name(e->wire_err));
}

static bool is_zh(const rlog_html_opts *o)
{
    return o && o->lang && strcmp(o->lang, "zh") == 0;
}

/* What a state change and a timer restart both carry: the entry of the
 * segment that caused it, the RFC rule (and with --lang zh the rule and
 * its sentence in Chinese: rzh, zh), and where the host's profile departs
 * from RFC 9293 there (pdiff, in the page's language). */
static void put_cause_and_rule(FILE *out, const rlog *log, size_t i, const rlog_html_opts *o)
{
    const rlog_entry *e = rlog_at(log, i);
    size_t c = rlog_state_cause(log, i);
    if (c != RLOG_NONE)
        fprintf(out, ",\"ce\":%zu,\"cause_pkt\":%" PRIu32, c, rlog_at(log, c)->packet_id);
    rlog_why w = rlog_why_of(e);
    key_str(out, "rule", w.rule);
    key_str(out, "because", w.because);
    if (is_zh(o)) {
        key_str(out, "rzh", w.rule_zh);
        key_str(out, "zh", w.because_zh);
    }
    char diff[512];
    if (rlog_why_profile(e, profile_of(o, e->host), is_zh(o) ? RLOG_LANG_ZH : RLOG_LANG_EN, diff,
                         sizeof diff) > 0)
        key_str(out, "pdiff", diff);
}

static void put_state(FILE *out, const rlog *log, size_t i, const rlog_html_opts *o)
{
    const rlog_entry *e = rlog_at(log, i);
    key_str(out, "from", tcp_state_name(e->from));
    key_str(out, "to", tcp_state_name(e->to));
    key_str(out, "cause", tcp_cause_name(e->cause));
    key_str(out, "note", e->note);
    put_cause_and_rule(out, log, i, o);
}

/* A timer restart: the timer, the segment behind it, the rule (as a state
 * change has). */
static void put_restart(FILE *out, const rlog *log, size_t i, const rlog_html_opts *o)
{
    const rlog_entry *e = rlog_at(log, i);
    key_str(out, "timer", tcp_timer_name((tcp_timer_kind)e->detail));
    key_str(out, "note", e->note);
    put_cause_and_rule(out, log, i, o);
}

static void put_conn(FILE *out, const rlog *log, size_t i, const rlog_html_opts *o)
{
    const rlog_entry *e = rlog_at(log, i);
    fprintf(out, ",\"h\":%d,\"sock\":%" PRIu32, host_index(e->host), e->sock);
    if (e->parent)
        fprintf(out, ",\"parent\":%" PRIu32, e->parent);
    switch (e->kind) {
    case RLOG_STATE:
        put_state(out, log, i, o);
        return;
    case RLOG_TIMER:
        key_str(out, "timer", tcp_timer_name((tcp_timer_kind)e->detail));
        key_str(out, "note", e->note);
        return;
    case RLOG_USER:
        key_str(out, "call", tcp_user_call_name((tcp_user_call)e->detail));
        return;
    case RLOG_ERROR:
        key_str(out, "error", tcp_err_name(e->detail));
        return;
    case RLOG_RESTART:
        put_restart(out, log, i, o);
        return;
    case RLOG_REJECT:
        key_str(out, "note", e->text);
        if (e->seg_ok)
            put_seg(out, e->seg);
        return;
    case RLOG_SEND:
    case RLOG_DELIVER:
    case RLOG_DROP:
    case RLOG_DUP:
    case RLOG_HOLD:
    case RLOG_RELEASE:
    case RLOG_CORRUPT:
    case RLOG_DELAY:
    case RLOG_LINK:
    case RLOG_NOTE:
    case RLOG_KIND_COUNT:
        break;
    }
    assert(!"put_conn: not a connection entry");
}

/* One TCB record: the socket, its state, the variables (absolute), and the
 * deadline of each armed timer. */
static void put_tcb(FILE *out, const rlog_tcb *r)
{
    const tcp_tcb *t = &r->tcb;
    fprintf(out, "{\"h\":%" PRIu32 ",\"sock\":%" PRIu32 ",\"st\":\"%s\"", r->host, r->sock,
            tcp_state_name(t->state));
    fprintf(out, ",\"iss\":%" PRIu32 ",\"irs\":%" PRIu32 ",\"una\":%" PRIu32 ",\"nxt\":%" PRIu32,
            t->iss, t->irs, t->snd_una, t->snd_nxt);
    fprintf(out, ",\"swnd\":%" PRIu32 ",\"rnxt\":%" PRIu32 ",\"rwnd\":%" PRIu32 ",\"tm\":{",
            t->snd_wnd, t->rcv_nxt, t->rcv_wnd);
    const char *sep = "";
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (t->timer_at[k] == UINT64_MAX)
            continue;
        fprintf(out, "%s\"%s\":%" PRIu64, sep, tcp_timer_name((tcp_timer_kind)k), t->timer_at[k]);
        sep = ",";
    }
    fputs("}}", out);
}

/* The TCB records in the order of the entry they hold from (then as
 * recorded): order[k] is a record index. NULL when there are none. */
static size_t *tcb_order(const rlog *log)
{
    size_t n = rlog_tcb_count(log);
    if (n == 0)
        return NULL;
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        abort();                     /* as the run log does: no partial page */
    for (size_t k = 0; k < n; k++) { /* insertion sort: nearly sorted already */
        size_t j = k, at = rlog_tcb_at(log, k)->at;
        while (j > 0 && rlog_tcb_at(log, order[j - 1])->at > at) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    return order;
}

/* ,"tcb":[...] for the records that hold from entry i; *next walks order. */
static void put_entry_tcbs(FILE *out, const rlog *log, size_t i, const size_t *order, size_t *next)
{
    size_t n = rlog_tcb_count(log), first = *next;
    for (; *next < n && rlog_tcb_at(log, order[*next])->at == i; ++*next) {
        fputs(*next == first ? ",\"tcb\":[" : ",", out);
        put_tcb(out, rlog_tcb_at(log, order[*next]));
    }
    if (*next > first)
        fputc(']', out);
}

static void put_entry(FILE *out, const rlog *log, size_t i, const rlog_html_opts *o)
{
    const rlog_entry *e = rlog_at(log, i);
    char t[32];
    rlog_format_time(e->time_ns, t, sizeof t);
    fprintf(out, "%s{\"t_ns\":%" PRIu64 ",\"t\":\"%s\",\"kind\":\"%s\"", i ? ",\n" : "", e->time_ns,
            t, rlog_kind_name(e->kind));
    switch (e->kind) {
    case RLOG_NOTE:
        key_str(out, "text", e->text);
        break;
    case RLOG_LINK: {
        uint32_t from = e->host, to = UINT32_MAX;
        rlog_link_ends(log, e->link, e->dir, &from, &to);
        fprintf(out, ",\"s\":%d,\"d\":%d,\"up\":%s", host_index(from), host_index(to),
                e->value_ns ? "true" : "false");
        break;
    }
    case RLOG_STATE:
    case RLOG_TIMER:
    case RLOG_USER:
    case RLOG_ERROR:
    case RLOG_REJECT:
    case RLOG_RESTART:
        put_conn(out, log, i, o);
        break;
    case RLOG_SEND:
    case RLOG_DELIVER:
    case RLOG_DROP:
    case RLOG_DUP:
    case RLOG_HOLD:
    case RLOG_RELEASE:
    case RLOG_CORRUPT:
    case RLOG_DELAY:
        put_packet(out, e);
        break;
    case RLOG_KIND_COUNT:
        assert(!"RLOG_KIND_COUNT is not a kind");
        break;
    }
}

/* Every (host, socket) that appears in a connection entry, with its ports
 * when the log learned them, in order of first appearance. */
static void put_sockets(FILE *out, const rlog *log)
{
    uint64_t *seen = NULL; /* host << 32 | sock of those written; O(changes x endpoints) */
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        uint64_t key = (uint64_t)e->host << 32 | e->sock;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = seen[k] == key;
        if (e->kind != RLOG_STATE || e->sock == 0 || dup)
            continue;
        render_grow((void **)&seen, &cap, n + 1, sizeof *seen); /* no partial page */
        seen[n] = key;
        uint16_t lport = 0, rport = 0;
        rlog_sock_ports(log, e->host, e->sock, &lport, &rport);
        fprintf(out, "%s{\"h\":%" PRIu32 ",\"sock\":%" PRIu32 ",\"lport\":%u,\"rport\":%u}",
                n++ ? "," : "", e->host, e->sock, (unsigned)lport, (unsigned)rport);
    }
    free(seen);
}

static void put_hosts(FILE *out, const rlog *log, const rlog_html_opts *o)
{
    for (size_t h = 0; h < rlog_host_count(log); h++) {
        const rlog_host *rh = rlog_host_at(log, (uint32_t)h);
        const tcp_profile *p = profile_of(o, (uint32_t)h);
        fprintf(out, "%s{\"name\":", h ? "," : "");
        put_str(out, rh ? rh->name : "?");
        uint32_t a = rh ? rh->addr : 0;
        fprintf(out, ",\"addr\":\"%u.%u.%u.%u\"", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                a & 255);
        if (p)
            key_str(out, "profile", p->name);
        fputc('}', out);
    }
}

static void put_data(FILE *out, const rlog *log, const rlog_html_opts *o)
{
    fprintf(out, "<script type=\"application/json\" id=\"tcpsim-data\">\n{\"format\":%d,\"title\":",
            RLOG_HTML_FORMAT);
    put_str(out, o && o->title ? o->title : "tcpsim run");
    key_str(out, "profile", o && o->profile ? o->profile : "");
    if (is_zh(o))
        fputs(",\"lang\":\"zh\"", out);
    fprintf(out, ",\"seed\":%" PRIu64 ",\"hosts\":[", o ? o->seed : 0);
    put_hosts(out, log, o);
    fputs("],\"sockets\":[", out);
    put_sockets(out, log);
    fputs("],\"entries\":[\n", out);
    size_t *order = tcb_order(log), next = 0;
    for (size_t i = 0; i < rlog_count(log); i++) {
        put_entry(out, log, i, o);
        put_entry_tcbs(out, log, i, order, &next);
        fputc('}', out);
    }
    free(order);
    fputs("\n]}\n</script>\n", out);
}

static const char BODY[] =
    "<header><h1 id=\"title\"></h1><p id=\"subtitle\"></p></header>\n"
    "<nav id=\"controls\" aria-label=\"step controls\">\n"
    "<button id=\"b-start\" title=\"first step (Home)\">|&lt;</button>"
    "<button id=\"b-prev-state\" title=\"previous state change (Shift+Left, PageUp)\">"
    "&lt;&lt; state</button>"
    "<button id=\"b-prev\" title=\"previous event (Left)\">&lt; event</button>"
    "<input id=\"slider\" type=\"range\" min=\"0\" value=\"0\" aria-label=\"step\">"
    "<button id=\"b-next\" title=\"next event (Right)\">event &gt;</button>"
    "<button id=\"b-next-state\" title=\"next state change (Shift+Right, PageDown)\">"
    "state &gt;&gt;</button>"
    "<button id=\"b-end\" title=\"last step (End)\">&gt;|</button>\n"
    "<span id=\"step-no\"></span>\n"
    "<label><input id=\"t-abs\" type=\"checkbox\"> absolute seq (R)</label>\n"
    "<button id=\"b-slide\" title=\"slide mode (S)\">slide</button>"
    "<button id=\"b-svg\" title=\"save the ladder at this step as SVG\">SVG</button>"
    "<button id=\"b-help\" title=\"keys (?)\">?</button>\n"
    "</nav>\n"
    "<div id=\"help\" hidden><b>Keys</b>: Left/Right previous/next event; Shift+Left/Right or "
    "PageUp/PageDown previous/next state change; Home/End first/last step; 1-9 next state change "
    "of endpoint 1-9; R relative/absolute sequence numbers; S slide mode. The address "
    "(#step=N) keeps the step: a link or a reload lands on it.</div>\n"
    "<main>\n"
    "<section id=\"ladder-pane\" aria-label=\"ladder\"><div id=\"ladder\"></div></section>\n"
    "<section id=\"side\">\n"
    "<div id=\"explain\" aria-live=\"polite\"></div>\n"
    "<div id=\"diagrams\"></div>\n"
    "</section>\n"
    "</main>\n";

int rlog_write_html(const rlog *log, FILE *out, const rlog_html_opts *opts)
{
    fputs(is_zh(opts) ? "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n"
                      : "<!DOCTYPE html>\n<html lang=\"en\">\n",
          out);
    fputs("<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data: blob:\">\n"
          "<title>",
          out);
    put_text(out, opts && opts->title ? opts->title : "tcpsim run");
    fputs(" - tcpsim</title>\n<style>\n", out);
    fputs(rlog_html_css, out);
    fputs("</style>\n</head>\n<body>\n", out);
    fputs(BODY, out);
    put_data(out, log, opts);
    fputs("<script>\n", out);
    fputs(rlog_html_js, out);
    fputs("</script>\n</body>\n</html>\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int rlog_write_html_index(FILE *out, const rlog_html_link *links, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !links[i].passed;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>tcpsim test</title>\n<style>\n"
          "body{font:15px/1.5 system-ui,sans-serif;margin:24px;color:#1d2330}"
          "li{margin:2px 0}.fail{color:#c0392b;font-weight:600}.pass{color:#2a7f62}\n"
          "</style>\n</head>\n<body>\n<h1>tcpsim test</h1>\n",
          out);
    fprintf(
        out,
        "<p>%zu scenarios, %zu passed, %zu failed. Each page steps through one run.</p>\n<ul>\n", n,
        n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><span class=\"", out);
        fputs(links[i].passed ? "pass\">PASS" : "fail\">FAIL", out);
        fputs("</span> <a href=\"", out);
        put_text(out, links[i].href);
        fputs("\">", out);
        put_text(out, links[i].title);
        fputs("</a></li>\n", out);
    }
    fputs("</ul>\n</body>\n</html>\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
