/*
 * tcp_wire — IPv4 + TCP bytes <-> a checked representation.
 *
 * tcp_wire_parse never trusts its input: it checks lengths, the IPv4 header
 * checksum, protocol 6, the TCP data offset and the TCP checksum over the
 * pseudo-header (RFC 9293 §3.1), and returns a reason for every rejection.
 * The state machine only ever sees a tcp_seg that parsed cleanly.
 */
#ifndef TCP_WIRE_H
#define TCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
    TCP_URG = 0x20,
    TCP_ECE = 0x40,
    TCP_CWR = 0x80
};

/* Option kinds (RFC 9293 §3.2: EOL, NOP, MSS; RFC 7323 §2.2, §3.2: window
 * scale, timestamps; RFC 2018 §2, §3: SACK-permitted, SACK), the one list
 * every writer and reader of option bytes names. */
typedef enum tcp_opt_kind {
    TCP_KIND_EOL = 0,
    TCP_KIND_NOP = 1,
    TCP_KIND_MSS = 2,
    TCP_KIND_WSCALE = 3,
    TCP_KIND_SACK_PERM = 4,
    TCP_KIND_SACK = 5,
    TCP_KIND_TS = 8
} tcp_opt_kind;

#define TCP_IPV4_HDR 20u
#define TCP_HDR_MIN  20u
#define TCP_OPT_MAX  40u
/* RFC 2018 §3: a SACK option of n blocks takes 8n + 2 bytes, so the 40
 * bytes of options hold at most 4 blocks (3 beside timestamps). */
#define TCP_SACK_MAX 4u

/* The order and padding tcp_wire_encode gives the options of a segment
 * (profile data: each stack writes its own; a parser accepts any order). */
typedef enum tcp_opt_layout {
    TCP_LAYOUT_RFC,   /* MSS; NOP,WS; SACK-permitted,TS or NOP,NOP,TS or NOP,NOP,SACK-permitted */
    TCP_LAYOUT_LINUX, /* tcp_options_write: MSS; SACK-permitted,TS or NOP,NOP,TS or
                       * NOP,NOP,SACK-permitted; NOP,WS */
    TCP_LAYOUT_BSD    /* tcp_addoptions: MSS; NOP,WS; SACK-permitted; TS after NOPs to
                       * offset 2 mod 4; EOL and zeros to a 4-byte boundary */
} tcp_opt_layout;

/* A segment in host byte order. `payload` points into the parsed buffer. */
typedef struct tcp_seg {
    uint32_t src_addr, dst_addr;
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd; /* as on the wire (not scaled) */
    uint16_t urg;
    uint8_t ttl;
    uint16_t ip_id;
    /* Options, each valid only if its has_ flag is set. */
    bool has_mss, has_wscale, has_sack_perm, has_ts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t layout; /* tcp_opt_layout for tcp_wire_encode; parse sets TCP_LAYOUT_RFC */
    /* RFC 2018 §3 SACK blocks, 0..TCP_SACK_MAX: nsack (left edge, right
     * edge) pairs of 32-bit big-endian words as on the wire, read with
     * tcp_seg_sack; parse points it into the parsed buffer (a SACK option
     * of a bad length is ignored, as Linux tcp_parse_options does), encode
     * writes them after the other options as NOP,NOP,SACK (every layout:
     * Linux tcp_options_write, FreeBSD tcp_addoptions). */
    uint8_t nsack;
    const uint8_t *sack;
    const uint8_t *payload;
    uint32_t len; /* payload bytes */
} tcp_seg;

typedef enum tcp_wire_err {
    TCP_WIRE_OK = 0,
    TCP_WIRE_TRUNCATED,    /* shorter than the headers claim */
    TCP_WIRE_NOT_IPV4,     /* version != 4 or IHL < 5 */
    TCP_WIRE_IP_CHECKSUM,  /* bad IPv4 header checksum */
    TCP_WIRE_FRAGMENT,     /* fragments are not reassembled */
    TCP_WIRE_NOT_TCP,      /* protocol != 6 */
    TCP_WIRE_BAD_OFFSET,   /* TCP data offset < 5 or past the datagram */
    TCP_WIRE_BAD_OPTION,   /* an option runs past the header or has a bad length */
    TCP_WIRE_TCP_CHECKSUM, /* bad TCP checksum */
} tcp_wire_err;

const char *tcp_wire_err_name(tcp_wire_err e);

/* Parses an IPv4 datagram. On TCP_WIRE_OK, *seg is filled and seg->payload
 * points into `buf`, which must outlive the use of seg. */
tcp_wire_err tcp_wire_parse(const uint8_t *buf, size_t len, tcp_seg *seg);

/* Encodes seg (options as flagged, payload seg->len bytes from seg->payload)
 * as an IPv4 datagram with both checksums; TTL 64 unless seg->ttl != 0.
 * Returns the datagram length, or 0 if buf_len is too small. */
size_t tcp_wire_encode(const tcp_seg *seg, uint8_t *buf, size_t buf_len);

/* The same datagram's headers only (IPv4 and TCP, both checksums over the
 * whole datagram, the payload read at seg->payload and not copied): the
 * payload follows them on the wire. Returns the headers' length, or 0 if
 * buf_len is too small or the datagram would pass 65,535 bytes. */
size_t tcp_wire_encode_head(const tcp_seg *seg, uint8_t *buf, size_t buf_len);

/* Bytes tcp_wire_encode needs for seg. */
size_t tcp_wire_size(const tcp_seg *seg);

/* Block i (< seg->nsack) of seg's SACK option. */
void tcp_seg_sack(const tcp_seg *seg, unsigned i, uint32_t *left, uint32_t *right);
/* Writes a block as tcp_seg.sack holds it (8 bytes at dst). */
void tcp_sack_put(uint8_t *dst, uint32_t left, uint32_t right);

/* The Internet checksum (RFC 1071) of a buffer, folded, not inverted. */
uint16_t tcp_wire_sum(const uint8_t *buf, size_t len, uint32_t initial);

/* "SYN,ACK", "FIN,ACK", "RST" — flags in the fixed order SYN,FIN,RST,PSH,ACK,URG,ECE,CWR.
 * Returns buf. */
char *tcp_flags_str(uint8_t flags, char *buf, size_t buf_len);
/* Parses "SYN,ACK" / "syn+ack" / "ACK" into flags; -1 on an unknown name. */
int tcp_flags_parse(const char *text, uint8_t *out);

#endif
