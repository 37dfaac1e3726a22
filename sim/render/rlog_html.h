/*
 * rlog_html — the run as one self-contained HTML page a lecturer can step
 * through: the ladder (slanted arrows, losses, retransmissions, timers,
 * state bands), each endpoint's RFC 9293 state diagram with the current
 * state lit and the edge just taken, and for each step what happened, the
 * rule behind it (rlog_why) and where the profile departs from the RFC.
 *
 * The page needs nothing but itself: styles and script are inside it, no
 * fonts, images or scripts are fetched, and it opens from disk. The run is
 * embedded as JSON (one object per run log entry, in order, so step N of
 * the page is entry N of `--trace json`); the script draws from that. The
 * data carries a format number, RLOG_HTML_FORMAT, raised whenever a field
 * is added, removed or changes meaning (docs/outputs.md, "The page's
 * data", lists each format's fields).
 * The bytes written are a pure function of the log and the options.
 */
#ifndef RLOG_HTML_H
#define RLOG_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "rlog.h"

#define RLOG_HTML_MAX_HOSTS 64

/* The format of the page's embedded data: 2 added the TCB records (`tcb`),
 * the rule in Chinese (`rzh`) and `pdiff` in the page's language; 3 a
 * segment's SACK blocks (`sack`). */
#define RLOG_HTML_FORMAT 3

typedef struct rlog_html_opts {
    const char *title;   /* the scenario (file name); NULL: "tcpsim run" */
    const char *profile; /* the run's profile name; NULL: unknown */
    uint64_t seed;
    /* Each host's profile, indexed by run log host id; hosts past
     * nprofiles (or NULL entries) get no profile notes. */
    const tcp_profile *const *profiles;
    uint32_t nprofiles;
    /* "zh": the page's words and the rules' sentences in Simplified Chinese;
     * NULL or "en": English. */
    const char *lang;
} rlog_html_opts;

/* Writes the page. Returns 0, or -1 on a write error. */
int rlog_write_html(const rlog *log, FILE *out, const rlog_html_opts *opts);

/* One line of the index page `tcpsim test --html DIR` writes. */
typedef struct rlog_html_link {
    const char *title; /* the scenario, as run */
    const char *href;  /* its page, relative to the index */
    bool passed;
} rlog_html_link;

/* The index: a self-contained page listing the pages, with pass/fail. */
int rlog_write_html_index(FILE *out, const rlog_html_link *links, size_t n);

#endif
