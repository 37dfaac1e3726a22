/*
 * test_outputs — the line and capture outputs of the run log (text, JSON
 * lines, pcap, pcapng), checked byte for byte, and by tshark when it is
 * installed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlog.h"
#include "rlog_fixture.h"
#include "render.h"
#include "rlog_html.h"
#include "rlog_why.h"

/* The handshake and close of test_rlog_fixture.h, as text. */
static const char GOLDEN_TEXT[] =
    "0.000000000 B sock=1 user listen\n"
    "0.000000000 B sock=1 state CLOSED -> LISTEN cause=user note=\"listen()\"\n"
    "0.000000000 A sock=1 user connect\n"
    "0.000000000 A sock=1 state CLOSED -> SYN_SENT cause=user note=\"connect()\"\n"
    "0.000000000 A>B send pkt=1 SYN seq=100 ack=0 win=65535 len=0 mss=1460\n"
    "0.050000000 A>B deliver pkt=1 SYN seq=100 ack=0 win=65535 len=0 mss=1460\n"
    "0.050000000 B sock=2 state LISTEN -> SYN_RECEIVED cause=segment note=\"rcv SYN\"\n"
    "0.050000000 B>A send pkt=2 SYN,ACK seq=300 ack=101 win=65535 len=0 mss=1460\n"
    "0.100000000 B>A deliver pkt=2 SYN,ACK seq=300 ack=101 win=65535 len=0 mss=1460\n"
    "0.100000000 A sock=1 state SYN_SENT -> ESTABLISHED cause=segment note=\"rcv SYN,ACK\"\n"
    "0.100000000 A>B send pkt=3 ACK seq=101 ack=301 win=65535 len=0\n"
    "0.150000000 A>B deliver pkt=3 ACK seq=101 ack=301 win=65535 len=0\n"
    "0.150000000 B sock=2 state SYN_RECEIVED -> ESTABLISHED cause=segment note=\"rcv ACK of SYN\"\n"
    "0.200000000 A sock=1 user close\n"
    "0.200000000 A sock=1 state ESTABLISHED -> FIN_WAIT_1 cause=user note=\"close()\"\n"
    "0.200000000 A>B send pkt=4 FIN,ACK seq=101 ack=301 win=65535 len=0\n"
    "0.250000000 A>B deliver pkt=4 FIN,ACK seq=101 ack=301 win=65535 len=0\n"
    "0.250000000 B sock=2 state ESTABLISHED -> CLOSE_WAIT cause=segment note=\"rcv FIN\"\n"
    "0.250000000 B>A send pkt=5 ACK seq=301 ack=102 win=65535 len=0\n"
    "0.300000000 B>A deliver pkt=5 ACK seq=301 ack=102 win=65535 len=0\n"
    "0.300000000 A sock=1 state FIN_WAIT_1 -> FIN_WAIT_2 cause=segment note=\"rcv ACK of FIN\"\n"
    "0.400000000 B sock=2 user close\n"
    "0.400000000 B sock=2 state CLOSE_WAIT -> LAST_ACK cause=user note=\"close()\"\n"
    "0.400000000 B>A send pkt=6 FIN,ACK seq=301 ack=102 win=65535 len=0\n"
    "0.450000000 B>A deliver pkt=6 FIN,ACK seq=301 ack=102 win=65535 len=0\n"
    "0.450000000 A sock=1 state FIN_WAIT_2 -> TIME_WAIT cause=segment note=\"rcv FIN\"\n"
    "0.450000000 A>B send pkt=7 ACK seq=102 ack=302 win=65535 len=0\n"
    "0.500000000 A>B deliver pkt=7 ACK seq=102 ack=302 win=65535 len=0\n"
    "0.500000000 B sock=2 state LAST_ACK -> CLOSED cause=segment note=\"rcv ACK of FIN\"\n"
    "60.450000000 A sock=1 timer TIME_WAIT\n"
    "60.450000000 A sock=1 state TIME_WAIT -> CLOSED cause=timer note=\"2MSL\"\n";

/* The handshake as JSON lines. */
static const char GOLDEN_JSON[] =
    "{\"t_ns\":0,\"t\":\"0.000000000\",\"kind\":\"user\",\"host\":\"B\",\"sock\":1,\"call\":"
    "\"listen\"}\n"
    "{\"t_ns\":0,\"t\":\"0.000000000\",\"kind\":\"state\",\"host\":\"B\",\"sock\":1,\"from\":"
    "\"CLOSED\",\"to\":\"LISTEN\",\"cause\":\"user\",\"note\":\"listen()\",\"rule\":\"RFC 9293 "
    "\xc2\xa7"
    "3.10.1, OPEN call in CLOSED (passive)\",\"because\":\"a passive OPEN makes a TCB and waits in "
    "LISTEN for a SYN\"}\n"
    "{\"t_ns\":0,\"t\":\"0.000000000\",\"kind\":\"user\",\"host\":\"A\",\"sock\":1,\"call\":"
    "\"connect\"}\n"
    "{\"t_ns\":0,\"t\":\"0.000000000\",\"kind\":\"state\",\"host\":\"A\",\"sock\":1,\"from\":"
    "\"CLOSED\",\"to\":\"SYN_SENT\",\"cause\":\"user\",\"note\":\"connect()\",\"cause_pkt\":1,"
    "\"rule\":\"RFC 9293 \xc2\xa7"
    "3.10.1, OPEN call in CLOSED (active)\",\"because\":\"an active OPEN picks an initial sequence "
    "number, sends a SYN and waits in SYN-SENT for the answer\"}\n"
    "{\"t_ns\":0,\"t\":\"0.000000000\",\"kind\":\"send\",\"src\":\"A\",\"dst\":\"B\",\"link\":0,"
    "\"dir\":0,\"pkt\":1,\"origin\":1,\"bytes\":44,\"seg\":{\"flags\":\"SYN\",\"seq\":100,\"ack\":"
    "0,\"win\":65535,\"len\":0,\"sport\":40000,\"dport\":80,\"mss\":1460}}\n"
    "{\"t_ns\":50000000,\"t\":\"0.050000000\",\"kind\":\"deliver\",\"src\":\"A\",\"dst\":\"B\","
    "\"link\":0,\"dir\":0,\"pkt\":1,\"origin\":1,\"bytes\":44,\"seg\":{\"flags\":\"SYN\",\"seq\":"
    "100,\"ack\":0,\"win\":65535,\"len\":0,\"sport\":40000,\"dport\":80,\"mss\":1460}}\n"
    "{\"t_ns\":50000000,\"t\":\"0.050000000\",\"kind\":\"state\",\"host\":\"B\",\"sock\":2,"
    "\"parent\":1,\"from\":\"LISTEN\",\"to\":\"SYN_RECEIVED\",\"cause\":\"segment\",\"note\":\"rcv "
    "SYN\",\"cause_pkt\":1,\"rule\":\"RFC 9293 \xc2\xa7"
    "3.10.7.2, LISTEN, third check (SYN)\",\"because\":\"a SYN reached a listening socket: note "
    "the peer's sequence number, answer with our own SYN and an ACK of theirs, wait in "
    "SYN-RECEIVED\"}\n"
    "{\"t_ns\":50000000,\"t\":\"0.050000000\",\"kind\":\"send\",\"src\":\"B\",\"dst\":\"A\","
    "\"link\":0,\"dir\":1,\"pkt\":2,\"origin\":2,\"bytes\":44,\"seg\":{\"flags\":\"SYN,ACK\","
    "\"seq\":300,\"ack\":101,\"win\":65535,\"len\":0,\"sport\":80,\"dport\":40000,\"mss\":1460}}\n"
    "{\"t_ns\":100000000,\"t\":\"0.100000000\",\"kind\":\"deliver\",\"src\":\"B\",\"dst\":\"A\","
    "\"link\":0,\"dir\":1,\"pkt\":2,\"origin\":2,\"bytes\":44,\"seg\":{\"flags\":\"SYN,ACK\","
    "\"seq\":300,\"ack\":101,\"win\":65535,\"len\":0,\"sport\":80,\"dport\":40000,\"mss\":1460}}\n"
    "{\"t_ns\":100000000,\"t\":\"0.100000000\",\"kind\":\"state\",\"host\":\"A\",\"sock\":1,"
    "\"from\":\"SYN_SENT\",\"to\":\"ESTABLISHED\",\"cause\":\"segment\",\"note\":\"rcv "
    "SYN,ACK\",\"cause_pkt\":2,\"rule\":\"RFC 9293 \xc2\xa7"
    "3.10.7.3, SYN-SENT, fourth check (SYN)\",\"because\":\"the SYN,ACK acknowledges our SYN and "
    "carries the peer's: the connection is open; acknowledge their SYN\"}\n"
    "{\"t_ns\":100000000,\"t\":\"0.100000000\",\"kind\":\"send\",\"src\":\"A\",\"dst\":\"B\","
    "\"link\":0,\"dir\":0,\"pkt\":3,\"origin\":3,\"bytes\":40,\"seg\":{\"flags\":\"ACK\",\"seq\":"
    "101,\"ack\":301,\"win\":65535,\"len\":0,\"sport\":40000,\"dport\":80}}\n"
    "{\"t_ns\":150000000,\"t\":\"0.150000000\",\"kind\":\"deliver\",\"src\":\"A\",\"dst\":\"B\","
    "\"link\":0,\"dir\":0,\"pkt\":3,\"origin\":3,\"bytes\":40,\"seg\":{\"flags\":\"ACK\",\"seq\":"
    "101,\"ack\":301,\"win\":65535,\"len\":0,\"sport\":40000,\"dport\":80}}\n"
    "{\"t_ns\":150000000,\"t\":\"0.150000000\",\"kind\":\"state\",\"host\":\"B\",\"sock\":2,"
    "\"parent\":1,\"from\":\"SYN_RECEIVED\",\"to\":\"ESTABLISHED\",\"cause\":\"segment\",\"note\":"
    "\"rcv ACK of SYN\",\"cause_pkt\":3,\"rule\":\"RFC 9293 \xc2\xa7"
    "3.10.7.4, fifth step (check the ACK field)\",\"because\":\"the ACK covers our SYN (SND.UNA < "
    "SEG.ACK =< SND.NXT): the handshake is complete\"}\n";

typedef int (*writer_fn)(const rlog *, FILE *);

/* The whole output of a writer, NUL-terminated; *len its size. */
static char *render(const rlog *log, writer_fn fn, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(fn(log, f), 0);
    assert_int_equal(fclose(f), 0);
    if (len)
        *len = n;
    return buf;
}

/* The fixture: a fresh hand-made log (rlog_fixture.h's hosts) per test,
 * freed by teardown whatever the test's outcome. */
static int log_setup(void **state)
{
    *state = fx_new();
    return *state ? 0 : -1;
}

static int log_teardown(void **state)
{
    rlog_free(*state);
    return 0;
}

/* ---- what the log records, as the text and JSON lines show it ---- */

static void drop_without_send_starts_its_packet(void **state)
{
    rlog *log = *state;
    fx_drop(log, 5 * FX_MS, FX_A, 9, fx_seg(FX_A, TCP_SYN, 100, 0, 0), SIM_DROP_NO_ROUTE);
    const rlog_entry *e = rlog_at(log, 0);
    assert_int_equal(e->kind, RLOG_DROP);
    assert_int_equal(e->send_index, 0);
    assert_int_equal(e->drop, SIM_DROP_NO_ROUTE);
    char *text = render(log, rlog_write_text, NULL);
    assert_string_equal(text, "0.005000000 A>B drop pkt=9 no_route SYN seq=100 ack=0 win=65535 "
                              "len=0 mss=1460\n");
    free(text);
}

static void link_changes_name_their_direction(void **state)
{
    rlog *log = *state;
    sim_trace_rec r;
    memset(&r, 0, sizeof r);
    r.time = 20 * FX_MS;
    r.kind = SIM_TR_LINK;
    r.host_id = FX_B;
    r.link_id = 0;
    r.dir = 1;
    r.packet_id = r.origin_id = 0;
    rlog_sim_trace(log, &r);
    fx_send(log, 30 * FX_MS, FX_A, 1, fx_seg(FX_A, TCP_SYN, 100, 0, 0));
    r.time = 40 * FX_MS;
    r.value_ns = 1;
    rlog_sim_trace(log, &r);
    assert_int_equal(rlog_count(log), 3);
    assert_int_equal(rlog_at(log, 0)->kind, RLOG_LINK);
    char *text = render(log, rlog_write_text, NULL);
    assert_non_null(strstr(text, "0.020000000 link=0 B>A down\n"));
    assert_non_null(strstr(text, "0.040000000 link=0 B>A up\n"));
    free(text);
    char *json = render(log, rlog_write_json, NULL);
    assert_non_null(strstr(json,
                           "{\"t_ns\":20000000,\"t\":\"0.020000000\",\"kind\":\"link\","
                           "\"src\":\"B\",\"dst\":\"A\",\"link\":0,\"dir\":1,\"up\":false}\n"));
    free(json);
}

/* ---- text and JSON ------------------------------------------------------------------- */

static void text_trace_of_handshake_and_close(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_close(log);
    char *text = render(log, rlog_write_text, NULL);
    assert_string_equal(text, GOLDEN_TEXT);
    free(text);
}

static void text_trace_of_impairments(void **state)
{
    rlog *log = *state;
    fx_impaired(log);
    char *text = render(log, rlog_write_text, NULL);
    assert_non_null(strstr(text, "0.000000000 A>B dup pkt=2 of=1 PSH,ACK seq=101 ack=301 "
                                 "win=65535 len=100\n"));
    assert_non_null(strstr(text, "0.100000000 A>B delay pkt=3 +0.030000000 PSH,ACK"));
    assert_non_null(strstr(text, "0.600000000 B>A corrupt pkt=6 malformed (bad TCP checksum) "
                                 "bytes=40\n"));
    assert_non_null(strstr(text, "0.650000000 A reject \"bad TCP checksum\"\n"));
    free(text);
}

static void json_lines_of_handshake(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    char *json = render(log, rlog_write_json, NULL);
    assert_string_equal(json, GOLDEN_JSON);
    free(json);
}

/* SACK blocks (RFC 2018 §3) in every output that shows a segment's
 * options: text "sack=L-R,...", JSON and the stepper page's data
 * "sack":[[L,R],...], in the segment's order. */
static void sack_blocks_in_text_json_and_html(void **state)
{
    rlog *log = *state;
    uint8_t blocks[16];
    tcp_sack_put(blocks, 1101, 1201);
    tcp_sack_put(blocks + 8, 2001, 2101);
    tcp_seg s = fx_seg(FX_B, TCP_ACK, 300, 1001, 0);
    s.nsack = 2;
    s.sack = blocks;
    fx_send(log, 10 * FX_MS, FX_B, 1, s);
    char *text = render(log, rlog_write_text, NULL);
    assert_non_null(strstr(text, " sack=1101-1201,2001-2101\n"));
    free(text);
    char *json = render(log, rlog_write_json, NULL);
    assert_non_null(strstr(json, "\"sack\":[[1101,1201],[2001,2101]]}"));
    free(json);
    char *page = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&page, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_html(log, f, NULL), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(page, "\"sack\":[[1101,1201],[2001,2101]]}"));
    free(page);
}

static void strings_are_escaped(void **state)
{
    rlog *log = *state;
    rlog_note(log, 1, "say \"hi\"\\ \n\x01 caf\xc3\xa9 \xff!");
    char *json = render(log, rlog_write_json, NULL);
    assert_string_equal(json, "{\"t_ns\":1,\"t\":\"0.000000001\",\"kind\":\"note\",\"text\":"
                              "\"say \\\"hi\\\"\\\\ \\n\\u0001 caf\xc3\xa9 \\ufffd!\"}\n");
    free(json);
    char *text = render(log, rlog_write_text, NULL);
    assert_string_equal(text,
                        "0.000000001 note \"say \\\"hi\\\"\\\\ \\n\\x01 caf\xc3\xa9 \xff!\"\n");
    free(text);
}

/* RFC 9293 §3.10.7.4 (TIME-WAIT): the repeated FIN restarts 2*MSL; every
 * line output says so, tied to the FIN that did it (packet 8). */
static void time_wait_restart_in_text_and_json(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_lost_final_ack(log);
    char *text = render(log, rlog_write_text, NULL);
    assert_non_null(strstr(text,
                           "1.450000000 A>B send pkt=9 ACK seq=102 ack=302 win=65535 len=0\n"
                           "1.450000000 A sock=1 restart TIME_WAIT note=\"rcv FIN again\"\n"));
    free(text);
    text = render(log, rlog_write_text_why, NULL);
    assert_non_null(strstr(text,
                           "A sock=1 restart TIME_WAIT note=\"rcv FIN again\" rule=\"RFC 9293 "
                           "\xc2\xa7"
                           "3.10.7.4, eighth step (check the FIN bit), in TIME-WAIT\""));
    free(text);
    char *json = render(log, rlog_write_json, NULL);
    assert_non_null(strstr(json, "{\"t_ns\":1450000000,\"t\":\"1.450000000\",\"kind\":\"restart\","
                                 "\"host\":\"A\",\"sock\":1,\"timer\":\"TIME_WAIT\",\"note\":"
                                 "\"rcv FIN again\",\"cause_pkt\":8,\"rule\":\"RFC 9293 \xc2\xa7"
                                 "3.10.7.4, eighth step (check the FIN bit), in TIME-WAIT\","
                                 "\"because\":\"the FIN came again"));
    free(json);
}

static void every_json_line_is_one_object(void **state)
{
    rlog *log = *state;
    fx_impaired(log);
    rlog_note(log, 999 * FX_MS, "end");
    char *json = render(log, rlog_write_json, NULL);
    size_t lines = 0;
    for (char *p = json; *p; p = strchr(p, '\n') + 1) {
        assert_true(p[0] == '{');
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl[-1] == '}');
        lines++;
    }
    assert_int_equal(lines, rlog_count(log));
    free(json);
}

/* ---- pcap --------------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The pcap records captured at `at`: their count, and each one's time in
 * ms and IPv4 source host (its last address byte) in `rec`. */
static size_t pcap_records_point(const rlog *log, const rlog_capture_point *at, uint32_t rec[][2],
                                 size_t max)
{
    char *buf = NULL;
    size_t n = 0, count = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(rlog_write_pcap_point(log, f, at), 0);
    assert_int_equal(fclose(f), 0);
    const uint8_t *p = (const uint8_t *)buf + 24, *end = (const uint8_t *)buf + n;
    while (p + 16 <= end) {
        uint32_t len = le32(p + 8);
        assert_true(p + 16 + len <= end);
        if (count < max) {
            rec[count][0] = le32(p) * 1000u + le32(p + 4) / 1000000u;
            rec[count][1] = p[16 + 15]; /* the last byte of the IPv4 source address */
        }
        count++;
        p += 16 + len;
    }
    assert_true(p == end);
    free(buf);
    return count;
}

static size_t pcap_records_at(const rlog *log, uint32_t at, uint32_t rec[][2], size_t max)
{
    rlog_capture_point pt = {at == RLOG_PCAP_AT_LINKS ? RLOG_CAPTURE_SENDERS : RLOG_CAPTURE_HOST,
                             at, 0};
    return pcap_records_point(log, &pt, rec, max);
}

/* The receiving ends of the links: every delivery and nothing lost (A's
 * ACK at 450 ms never arrived); A's end of its link to B is A's capture
 * (its only link); B's end of a link to B is nothing. */
static void pcap_at_receivers_and_a_link_end(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_lost_final_ack(log);
    uint32_t r[16][2], e[16][2], h[16][2];
    rlog_capture_point recv = {RLOG_CAPTURE_RECEIVERS, 0, 0};
    size_t nr = pcap_records_point(log, &recv, r, 16);
    assert_int_equal(nr, 8); /* 9 packets, 7 lost */
    for (size_t i = 0; i < nr; i++)
        assert_false(r[i][0] == 450 && r[i][1] == 1);
    rlog_capture_point ab = {RLOG_CAPTURE_LINK_END, FX_A, FX_B};
    size_t ne = pcap_records_point(log, &ab, e, 16), nh = pcap_records_at(log, FX_A, h, 16);
    assert_int_equal(ne, nh);
    assert_memory_equal(e, h, ne * sizeof e[0]);
    rlog_capture_point ba = {RLOG_CAPTURE_LINK_END, FX_B, FX_A};
    assert_int_equal(pcap_records_point(log, &ba, e, 16), pcap_records_at(log, FX_B, h, 16));
    rlog_capture_point none = {RLOG_CAPTURE_LINK_END, FX_A, FX_A};
    assert_int_equal(pcap_records_point(log, &none, e, 16), 0);
}

/* --pcap-at: what a tcpdump on each host sees. A's ACK (packet 7, 450 ms)
 * is lost on the way: in A's capture, not in B's; B's FIN (400 ms) is in
 * B's capture when it leaves and in A's when it arrives (450 ms). */
static void pcap_at_a_host_is_its_own_view(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_lost_final_ack(log);
    uint32_t a[16][2], b[16][2];
    size_t na = pcap_records_at(log, FX_A, a, 16), nb = pcap_records_at(log, FX_B, b, 16);
    assert_int_equal(na, 9); /* A sent 1, 3, 4, 7, 9; 2, 5, 6, 8 reached it */
    assert_int_equal(nb, 8); /* B sent 2, 5, 6, 8; 1, 3, 4, 9 reached it: 7 never did */
    bool a_has_lost = false, b_has_lost = false, a_fin = false, b_fin = false;
    for (size_t i = 0; i < na; i++) {
        a_has_lost |= a[i][0] == 450 && a[i][1] == 1; /* A's ACK leaving at 450 ms */
        a_fin |= a[i][0] == 450 && a[i][1] == 2;      /* B's FIN arriving */
    }
    for (size_t i = 0; i < nb; i++) {
        b_has_lost |= b[i][1] == 1 && b[i][0] == 450;
        b_fin |= b[i][0] == 400 && b[i][1] == 2;
    }
    assert_true(a_has_lost && a_fin && b_fin);
    assert_false(b_has_lost);
    uint32_t l[32][2];
    assert_int_equal(pcap_records_at(log, RLOG_PCAP_AT_LINKS, l, 32), 9); /* every send */
}

static void pcap_has_nanosecond_raw_header_and_every_send(void **state)
{
    (void)state;
    static const uint8_t header[24] = {
        0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0,
    };
    rlog *log = fx_new();
    fx_impaired(log); /* five sends and one duplicate */
    size_t n;
    uint8_t *p = (uint8_t *)render(log, rlog_write_pcap, &n);
    assert_true(n >= 24);
    assert_memory_equal(p, header, 24);
    size_t at = 24, records = 0;
    uint64_t times[] = {0, 0, 100 * FX_MS, 110 * FX_MS, 200 * FX_MS, 600 * FX_MS};
    while (at < n) {
        assert_true(at + 16 <= n);
        uint32_t caplen = le32(p + at + 8);
        assert_int_equal(caplen, le32(p + at + 12));
        assert_true(records < 6);
        assert_int_equal((uint64_t)le32(p + at) * 1000000000u + le32(p + at + 4), times[records]);
        assert_int_equal(p[at + 16] >> 4, 4); /* an IPv4 header */
        at += 16 + caplen;
        records++;
    }
    assert_int_equal(at, n);
    assert_int_equal(records, 6);
    free(p);
    rlog_free(log);
}

/* ---- pcapng ------------------------------------------------------------------------- */

typedef struct ng_summary {
    size_t shb, idb, epb;
    uint16_t linktype;
    int tsresol;
    char comments[16][96]; /* "<epb number>: <comment>" */
    size_t ncomments;
} ng_summary;

static void ng_options(const uint8_t *o, const uint8_t *end, ng_summary *s, size_t epb)
{
    while (o + 4 <= end) {
        uint16_t code = le16(o), len = le16(o + 2);
        assert_true(o + 4 + len <= end);
        if (code == 0)
            return;
        if (epb && code == 1 && s->ncomments < 16)
            snprintf(s->comments[s->ncomments++], 96, "%zu: %.*s", epb, (int)len,
                     (const char *)o + 4);
        if (!epb && code == 9 && len == 1)
            s->tsresol = o[4];
        o += 4 + ((len + 3u) & ~3u);
    }
}

/* Walks every block, checking lengths, and sums up what it found. */
static void ng_walk(const uint8_t *p, size_t n, ng_summary *s)
{
    memset(s, 0, sizeof *s);
    s->tsresol = -1;
    size_t at = 0;
    while (at < n) {
        assert_true(at + 12 <= n);
        uint32_t type = le32(p + at), len = le32(p + at + 4);
        assert_int_equal(len % 4, 0);
        assert_true(len >= 12 && at + len <= n);
        assert_int_equal(le32(p + at + len - 4), len);
        const uint8_t *b = p + at, *end = p + at + len - 4;
        if (type == 0x0a0d0d0au) {
            assert_int_equal(le32(b + 8), 0x1a2b3c4du);
            s->shb++;
        } else if (type == 1) {
            s->linktype = le16(b + 8);
            ng_options(b + 16, end, s, 0);
            s->idb++;
        } else if (type == 6) {
            uint32_t caplen = le32(b + 20);
            s->epb++;
            ng_options(b + 28 + ((caplen + 3u) & ~3u), end, s, s->epb);
        } else {
            fail_msg("unexpected block type %u", (unsigned)type);
        }
        at += len;
    }
}

static void pcapng_comments_on_packets_that_changed_state(void **state)
{
    rlog *log = *state;
    fx_simultaneous_close(log);
    size_t n;
    uint8_t *p = (uint8_t *)render(log, rlog_write_pcapng, &n);
    ng_summary s;
    ng_walk(p, n, &s);
    assert_int_equal(s.shb, 1);
    assert_int_equal(s.idb, 1);
    assert_int_equal(s.linktype, 101);
    assert_int_equal(s.tsresol, 9);
    assert_int_equal(s.epb, 4);
    static const char *const want[] = {
        "1: A: ESTABLISHED -> FIN_WAIT_1 (close())",
        "1: B: FIN_WAIT_1 -> CLOSING (rcv FIN)",
        "2: B: ESTABLISHED -> FIN_WAIT_1 (close())",
        "2: A: FIN_WAIT_1 -> CLOSING (rcv FIN)",
        "3: A: CLOSING -> TIME_WAIT (rcv ACK of FIN)",
        "4: B: CLOSING -> TIME_WAIT (rcv ACK of FIN)",
    };
    assert_int_equal(s.ncomments, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(s.comments[i], want[i]);
    free(p);
}

/* The restart's comment goes on the repeated FIN as it was captured
 * (packet 8, the 8th packet block). */
static void pcapng_notes_the_time_wait_restart(void **state)
{
    rlog *log = *state;
    fx_handshake(log);
    fx_lost_final_ack(log);
    size_t n;
    uint8_t *p = (uint8_t *)render(log, rlog_write_pcapng, &n);
    ng_summary s;
    ng_walk(p, n, &s);
    bool found = false;
    for (size_t i = 0; i < s.ncomments; i++)
        found |=
            strcmp(s.comments[i], "8: A: TIME_WAIT restarted: 2*MSL from now (rcv FIN again)") == 0;
    assert_true(found);
    free(p);
}

static void pcapng_notes_drops_and_duplicates(void **state)
{
    (void)state;
    rlog *log = fx_new();
    fx_lost_syn(log);
    size_t n;
    uint8_t *p = (uint8_t *)render(log, rlog_write_pcapng, &n);
    ng_summary s;
    ng_walk(p, n, &s);
    assert_int_equal(s.epb, 3);
    assert_string_equal(s.comments[0], "1: A: CLOSED -> SYN_SENT (connect())");
    assert_string_equal(s.comments[1], "1: dropped on the way A>B (loss)");
    free(p);
    rlog_free(log);
    log = fx_new();
    fx_impaired(log);
    p = (uint8_t *)render(log, rlog_write_pcapng, &n);
    ng_walk(p, n, &s);
    assert_int_equal(s.epb, 6);
    assert_int_equal(s.ncomments, 1);
    assert_string_equal(s.comments[0], "2: duplicate made by the link (copy of packet 1)");
    free(p);
    rlog_free(log);
}

/* ---- tshark --------------------------------------------------------------------------- */

#define TSHARK "/usr/bin/tshark"

/* Writes the log with fn to a fresh temporary file; returns its path (tshark
 * tells pcap from pcapng by the magic number, not the name). */
static char *write_temp(const rlog *log, writer_fn fn)
{
    char *path = strdup("/tmp/test_rlog_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fn(log, f), 0);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Runs a shell command; returns its standard output (and error). */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = NULL;
    size_t n = 0, cap = 0;
    int c;
    while ((c = fgetc(p)) != EOF) {
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        out[n++] = (char)c;
    }
    if (!out)
        out = calloc(1, 1);
    else
        out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static bool have_tshark(void)
{
    if (access(TSHARK, X_OK) == 0)
        return true;
    print_message("skipped: " TSHARK " is not installed (Debian package tshark)\n");
    return false;
}

/* tshark's full dissection of the log as pcap: no malformed packet, every
 * record a TCP segment. */
static void tshark_check_pcap(const rlog *log, size_t frames)
{
    char *path = write_temp(log, rlog_write_pcap);
    char cmd[256];
    snprintf(cmd, sizeof cmd, TSHARK " -r %s -V 2>/dev/null", path);
    char *out = run(cmd);
    assert_null(strstr(out, "Malformed"));
    assert_non_null(strstr(out, "Transmission Control Protocol, Src Port: 40000, Dst Port: 80"));
    free(out);
    snprintf(cmd, sizeof cmd, TSHARK " -r %s -T fields -e tcp.flags.str 2>/dev/null", path);
    out = run(cmd);
    assert_int_equal(count_lines(out), frames);
    free(out);
    unlink(path);
    free(path);
}

static void tshark_reads_the_pcap(void **state)
{
    (void)state;
    if (!have_tshark())
        skip();
    rlog *log = fx_new();
    fx_handshake(log);
    fx_close(log);
    tshark_check_pcap(log, 7);
    rlog_free(log);
    log = fx_new();
    fx_impaired(log);
    tshark_check_pcap(log, 6);
    rlog_free(log);
}

static void tshark_shows_pcapng_comments(void **state)
{
    (void)state;
    if (!have_tshark())
        skip();
    rlog *log = fx_new();
    fx_handshake(log);
    fx_close(log);
    char *path = write_temp(log, rlog_write_pcapng);
    char cmd[256];
    snprintf(cmd, sizeof cmd, TSHARK " -r %s -V 2>/dev/null", path);
    char *out = run(cmd);
    assert_null(strstr(out, "Malformed"));
    free(out);
    /* Wireshark 4.0 names the field frame.comment (pkt_comment before 3.6). */
    snprintf(cmd, sizeof cmd,
             TSHARK " -r %s -T fields -e frame.number -e frame.comment 2>/dev/null", path);
    out = run(cmd);
    assert_int_equal(count_lines(out), 7);
    assert_non_null(strstr(out, "1\tA: CLOSED -> SYN_SENT (connect()),"
                                "B: LISTEN -> SYN_RECEIVED (rcv SYN)\n"));
    assert_non_null(strstr(out, "6\tB: CLOSE_WAIT -> LAST_ACK (close()),"
                                "A: FIN_WAIT_2 -> TIME_WAIT (rcv FIN)\n"));
    free(out);
    unlink(path);
    free(path);
    rlog_free(log);
}

static void outputs_of_an_empty_log(void **state)
{
    (void)state;
    rlog *log = rlog_new();
    size_t n;
    char *s = render(log, rlog_write_text, &n);
    assert_int_equal(n, 0);
    free(s);
    s = render(log, rlog_write_json, &n);
    assert_int_equal(n, 0);
    free(s);
    s = render(log, rlog_write_pcap, &n);
    assert_int_equal(n, 24);
    free(s);
    s = render(log, rlog_write_pcapng, &n);
    ng_summary sum;
    ng_walk((const uint8_t *)s, n, &sum);
    assert_int_equal(sum.epb, 0);
    free(s);
    rlog_free(log);
    rlog_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pcap_at_receivers_and_a_link_end, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(link_changes_name_their_direction, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(drop_without_send_starts_its_packet, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(text_trace_of_handshake_and_close, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(text_trace_of_impairments, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(json_lines_of_handshake, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(sack_blocks_in_text_json_and_html, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(strings_are_escaped, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(every_json_line_is_one_object, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(time_wait_restart_in_text_and_json, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(pcapng_notes_the_time_wait_restart, log_setup,
                                        log_teardown),
        cmocka_unit_test(pcap_has_nanosecond_raw_header_and_every_send),
        cmocka_unit_test_setup_teardown(pcap_at_a_host_is_its_own_view, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(pcapng_comments_on_packets_that_changed_state, log_setup,
                                        log_teardown),
        cmocka_unit_test(pcapng_notes_drops_and_duplicates),
        cmocka_unit_test(tshark_reads_the_pcap),
        cmocka_unit_test(tshark_shows_pcapng_comments),
        cmocka_unit_test(outputs_of_an_empty_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
