/*
 * pkt_lint — parses packetdrill scripts and reports the first error or
 * unsupported construct of each. It does not run them.
 *
 *   pkt_lint [--dump] [--min N] FILE.pkt...
 *
 * Exit 0 when every file parses, 2 when any does not (one message per bad
 * file on stderr), 1 on bad usage or when fewer than N files were given.
 * --dump prints each event back in packetdrill notation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

static void dump_time(const pkt_time *t)
{
    unsigned long long s = t->start_ns / 1000000000ull, f = t->start_ns % 1000000000ull;
    unsigned long long es = t->end_ns / 1000000000ull, ef = t->end_ns % 1000000000ull;
    bool rel = t->kind == PKT_TIME_REL || t->kind == PKT_TIME_REL_RANGE;
    switch (t->kind) {
    case PKT_TIME_NONE:
        printf("-");
        break;
    case PKT_TIME_ANY:
        printf("*");
        break;
    case PKT_TIME_ABS:
    case PKT_TIME_REL:
        printf("%s%llu.%09llu", rel ? "+" : "", s, f);
        break;
    default:
        printf("%s%llu.%09llu~%s%llu.%09llu", rel ? "+" : "", s, f, rel ? "+" : "", es, ef);
        break;
    }
}

static void dump(const pkt_script *s)
{
    char buf[512];
    for (size_t i = 0; i < pkt_script_events(s); i++) {
        const pkt_event *ev = pkt_script_event(s, i);
        printf("%u ", (unsigned)ev->line);
        dump_time(&ev->time);
        if (ev->kind == PKT_EV_SEGMENT) {
            printf(" %c %s\n", ev->u.seg.outbound ? '>' : '<',
                   pkt_seg_format(&ev->u.seg, buf, sizeof buf));
        } else if (ev->kind == PKT_EV_CALL) {
            const pkt_expr *r = pkt_script_expr(s, ev->u.call.result);
            printf(" %s%s = %lld%s%s\n", ev->u.call.blocking ? "blocking " : "", ev->u.call.name,
                   r && r->kind == PKT_EXPR_INT ? (long long)r->num : 0LL,
                   ev->u.call.errno_name ? " " : "",
                   ev->u.call.errno_name ? ev->u.call.errno_name : "");
        } else {
            printf(" command");
            for (uint32_t k = 0; k < ev->u.cmd.count; k++) {
                const pkt_setting *set = pkt_script_setting(s, ev->u.cmd.first + k);
                printf(" %s=%s", set->name, set->value);
            }
            printf("\n");
        }
    }
}

int main(int argc, char **argv)
{
    int bad = 0, files = 0, min = 0, i = 1;
    bool show = false;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--dump"))
            show = true;
        else if (!strcmp(argv[i], "--min") && i + 1 < argc)
            min = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: pkt_lint [--dump] [--min N] FILE.pkt...\n");
            return 1;
        }
    }
    for (; i < argc; i++, files++) {
        char msg[PKT_MSG_MAX];
        pkt_status st;
        pkt_script *s = pkt_parse_file(argv[i], &st, msg, sizeof msg);
        if (!s) {
            fprintf(stderr, "%s\n", msg);
            bad = 1;
            continue;
        }
        if (show)
            dump(s);
        pkt_script_free(s);
    }
    if (files < min) {
        fprintf(stderr, "pkt_lint: %d files, expected at least %d\n", files, min);
        return 1;
    }
    return bad ? 2 : 0;
}
