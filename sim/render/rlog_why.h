/*
 * rlog_why — why each state change happened: the RFC 9293 rule (section
 * and step) and a one-line paraphrase of it, for every output that explains
 * a transition (the JSON trace's `rule` and `because`, `--why`, the HTML
 * stepper).
 *
 * The rule is not recorded by the stack: it is *derived* from the state
 * change alone, by looking up (from-state, to-state, cause) in one table,
 * with the flags of the segment behind the change (RST, SYN) or the stack's
 * note (abort(), a timeout's name) telling apart the rows that share those
 * three. The derivation is a pure function of the entry, so every output
 * agrees and the same run gives the same words.
 */
#ifndef RLOG_WHY_H
#define RLOG_WHY_H

#include <stddef.h>

#include "rlog.h"

typedef struct rlog_why {
    /* "RFC 9293 §3.10.7.4, eighth step (check the FIN bit)". Never NULL. */
    const char *rule;
    /* What that rule says, in a sentence of our own. Never NULL. */
    const char *because;
    /* The same sentence in Simplified Chinese (UTF-8). Never NULL. */
    const char *because_zh;
    /* The rule in Simplified Chinese: the same document and section, the
     * step in Chinese ("RFC 9293 §3.10.7.4,第八步(检查 FIN 位)"). Never NULL. */
    const char *rule_zh;
} rlog_why;

/* The language of a sentence written for a reader (the HTML page's --lang). */
typedef enum rlog_lang { RLOG_LANG_EN, RLOG_LANG_ZH } rlog_lang;

/* The rule in short, for labels: "§3.10.7.4, eighth step" (no "RFC 9293 ",
 * nothing from the first " (" on); other documents keep their name
 * ("RFC 1122 §4.2.2.13"). Always NUL-terminates; returns the length wanted. */
size_t rlog_why_short(const rlog_entry *e, char *buf, size_t len);

/* The rule behind a STATE entry, or a RESTART entry (TIME-WAIT's timer
 * started over). An entry the table does not know (or of another kind) gets
 * rule "none" and a because that says so. */
rlog_why rlog_why_of(const rlog_entry *e);

/*
 * Where profile `p` departs from the RFC for the transition of STATE (or
 * RESTART) entry e, as one line in language `lang` ("linux: TIME_WAIT lasts
 * 60 s, fixed (RFC 9293: 2*MSL = 240 s)."; in Chinese "linux:TIME_WAIT 持续
 * 60 s,固定不变(RFC 9293:2*MSL = 240 s)。"), written to buf (always
 * NUL-terminated). Returns the length wanted, 0 when the profile changes
 * nothing that matters here (or p is NULL).
 */
size_t rlog_why_profile(const rlog_entry *e, const tcp_profile *p, rlog_lang lang, char *buf,
                        size_t len);

/* The text trace (rlog_write_text) with ` rule="..." because="..."` at the
 * end of every state line. (In rlog_text.c.) */
int rlog_write_text_why(const rlog *log, FILE *out);

/*
 * `--why` under the ladder: every state change and timer restart in order,
 * numbered, with its time, endpoint, edge (or restarted timer) and rule,
 * and the rule's paraphrase on the next line, wrapped so that no line is
 * longer than 80 columns. Returns 0 or -1 on a write error.
 */
int rlog_write_why_list(const rlog *log, FILE *out);

#endif
