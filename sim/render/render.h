/*
 * render — the outputs drawn from a run log: text and JSON lines, pcap and
 * pcapng, the ladder diagram as text and SVG, the state diagram as DOT.
 *
 * Every output is a pure function of the log's entries and hosts (rlog.h
 * rule 2): the same run writes the same bytes.
 */
#ifndef RENDER_H
#define RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rlog.h"
#include "tcp.h"

/* Formatting helpers shared by the outputs. Each always NUL-terminates and
 * returns the length it wanted, like snprintf. */
/* Seconds with nine decimals from integer nanoseconds: "0.050000000". */
size_t rlog_format_time(uint64_t ns, char *buf, size_t len);
/* Milliseconds with three decimals (truncated to the microsecond): "50.000". */
size_t rlog_format_ms(uint64_t ns, char *buf, size_t len);
/* "SYN seq=100 ack=0 win=65535 len=0", then options: " mss=1460 ws=7 sackok
 * ts=1/0". */
size_t rlog_format_seg(const tcp_seg *seg, char *buf, size_t len);
/* The short label the diagrams use: flags (without PSH), seq, ack when ACK is
 * set, len when non-zero, win when zero: "SYN,ACK seq=300 ack=101". */
size_t rlog_format_label(const tcp_seg *seg, char *buf, size_t len);

/* Writes str as XML 1.0 character data or attribute text: & < > " escaped,
 * bytes that are not valid UTF-8 (and U+FFFE, U+FFFF) as U+FFFD, control
 * characters other than tab and newline as '?' (newlines too unless
 * keep_newlines), so the document stays well-formed whatever str holds. */
void render_xml_text(FILE *out, const char *str, bool keep_newlines);

/* Outputs. Each writes the whole log; returns 0 or -1 on a write error. */
/* One line per entry: "0.050000000 A>B send pkt=1 SYN seq=100 ack=0 win=65535
 * len=0". The format of each kind is in docs/outputs.md. */
int rlog_write_text(const rlog *log, FILE *out);
/* One JSON object per line, keys in a fixed order. */
int rlog_write_json(const rlog *log, FILE *out);
/* libpcap (LINKTYPE_RAW IPv4, nanosecond timestamps): packets as sent, one
 * record per SEND and per duplicate made. */
int rlog_write_pcap(const rlog *log, FILE *out);
/* pcapng with an Interface Description Block and, on the packet that caused
 * each state change, a comment "A: FIN_WAIT_1 -> CLOSING (rcv FIN)". */
int rlog_write_pcapng(const rlog *log, FILE *out);
/* The same captured at host `at` (its id), as a tcpdump there would: what it
 * sent, as it left, and what was delivered to it, as it arrived; a packet
 * lost on the way is not in the receiver's file. RLOG_PCAP_AT_LINKS is the
 * default capture point: the sending end of every link. */
#define RLOG_PCAP_AT_LINKS UINT32_MAX
int rlog_write_pcap_at(const rlog *log, FILE *out, uint32_t at);
int rlog_write_pcapng_at(const rlog *log, FILE *out, uint32_t at);
/* Every capture point: the sending ends of all links (the default), their
 * receiving ends (each packet as a link delivered it: a lost one is absent,
 * a copy arrives twice), a host (as above), or one host's end of the links
 * that join it to a peer (what it put on them, as it left, and what they
 * delivered to it, as it arrived: a tap on that cable). */
typedef enum rlog_capture_kind {
    RLOG_CAPTURE_SENDERS,
    RLOG_CAPTURE_RECEIVERS,
    RLOG_CAPTURE_HOST,
    RLOG_CAPTURE_LINK_END
} rlog_capture_kind;
typedef struct rlog_capture_point {
    rlog_capture_kind kind;
    uint32_t host; /* HOST, LINK_END: the host */
    uint32_t peer; /* LINK_END: the host at the links' other end */
} rlog_capture_point;
int rlog_write_pcap_point(const rlog *log, FILE *out, const rlog_capture_point *at);
int rlog_write_pcapng_point(const rlog *log, FILE *out, const rlog_capture_point *at);
/* The ASCII ladder diagram; `width` columns (80 fits two endpoints). */
int rlog_write_ladder(const rlog *log, FILE *out, int width);
/* The ladder as a standalone SVG document. */
int rlog_write_svg(const rlog *log, FILE *out);
/* The ladders with options. rlog_write_ladder(log, out, w) is the text form
 * with {w, false}; rlog_write_svg ignores width. */
typedef struct rlog_ladder_opts {
    int width;         /* text columns; 0 means 80 */
    bool relative_seq; /* seq/ack relative to each side's ISN (said in a header line) */
    bool slides;       /* SVG: the style for slides (larger text, 16:9, a title) */
    const char *title; /* SVG slides: the title line ("scenario, profile"); NULL: none */
    /* SVG: draw only what happened from from_ns to to_ns (to_ns 0: to the
     * end), and with control_only only segments with SYN, FIN or RST. */
    uint64_t from_ns, to_ns;
    bool control_only;
} rlog_ladder_opts;
int rlog_write_ladder_opts(const rlog *log, FILE *out, const rlog_ladder_opts *opts);
int rlog_write_svg_opts(const rlog *log, FILE *out, const rlog_ladder_opts *opts);
/* The RFC 9293 state diagram as Graphviz DOT, with the transitions taken in
 * this run highlighted and numbered in order, one cluster per endpoint. */
int rlog_write_dot(const rlog *log, FILE *out);
/* The same for the endpoints `endpoint` names only: "HOST" (each socket of
 * that host that changed state) or "HOST#SOCK"; NULL: every endpoint. Step
 * numbers stay those of the whole run. */
int rlog_write_dot_opts(const rlog *log, FILE *out, const char *endpoint);
/* How many endpoints (host, socket with state changes) `endpoint` names, as
 * rlog_write_dot_opts reads it; every endpoint's name ("A#1, B#2") is
 * written to names (always NUL-terminated, cut to len). */
size_t rlog_dot_endpoints(const rlog *log, const char *endpoint, char *names, size_t len);

#endif
