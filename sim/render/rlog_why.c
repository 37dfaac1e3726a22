/*
 * rlog_why — the table from a state change to the RFC 9293 rule behind it
 * (see rlog_why.h: the rule is derived from (from, to, cause), never
 * recorded), and the profile knobs that change that rule.
 *
 * Sections and steps are those of RFC 9293 §3.10 (Event Processing); a
 * transition that RFC 9293 does not define names the document that does
 * (RFC 1122) or says it is the profile's. The sentences are ours.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "render.h"
#include "render_int.h"
#include "rlog_why.h"

#define ANY (-1)

typedef struct why_row {
    int from, to;     /* tcp_state or ANY */
    int cause;        /* tcp_cause */
    uint8_t flag;     /* the causing segment must carry this flag; 0: any */
    const char *note; /* the stack's note must start with this; NULL: any */
    const char *rule, *because;
    const char *zh;      /* because, in Simplified Chinese (the HTML page's --lang zh) */
    const char *rule_zh; /* rule, in Simplified Chinese */
} why_row;

#define S(x) TCP_##x
#define USER TCP_CAUSE_USER
#define SEGM TCP_CAUSE_SEGMENT
#define TIMR TCP_CAUSE_TIMER
#define R7_4                                                                                       \
    "RFC 9293 \xc2\xa7"                                                                            \
    "3.10.7.4, "
#define R7_4_ZH                                                                                    \
    "RFC 9293 \xc2\xa7"                                                                            \
    "3.10.7.4,"

/* First match wins: rows that need a flag or a note come before the rows
 * they refine. */
static const why_row ROWS[] = {
    /* User calls (§3.10.1 - §3.10.5). */
    {ANY, S(CLOSED), USER, 0, "abort()",
     "RFC 9293 \xc2\xa7"
     "3.10.5, ABORT call",
     "ABORT sends a reset if the connection was synchronized, flushes every queue and deletes "
     "the TCB",
     "ABORT 在连接已同步时发送复位(RST),清空所有队列并删除 TCB",
     "RFC 9293 \xc2\xa7"
     "3.10.5,ABORT 调用"},
    {ANY, S(CLOSED), USER, 0, "close() with linger 0",
     "RFC 9293 \xc2\xa7"
     "3.10.5, ABORT call (close() with linger 0)",
     "with a zero linger time close() acts as ABORT: a reset, no FIN, no TIME-WAIT",
     "linger 时间为 0 时 close() 等同于 ABORT:发送复位,不发 FIN,也不进入 TIME-WAIT",
     "RFC 9293 \xc2\xa7"
     "3.10.5,ABORT 调用(linger 为 0 的 close())"},
    {ANY, S(CLOSED), USER, 0, "host crash",
     "RFC 9293 \xc2\xa7"
     "3.5.2, half-open connections (the host crashed)",
     "the host crashed and its TCBs are gone without a word to the peer, which learns of it "
     "only when it next sends and is answered with a reset",
     "主机崩溃,它的 TCB 全部消失而对端毫不知情;对端只有在下一次发送并收到复位时才会发现",
     "RFC 9293 \xc2\xa7"
     "3.5.2,半开连接(主机崩溃)"},
    {ANY, S(CLOSED), USER, 0, "close() with unread data",
     "RFC 9293 \xc2\xa7"
     "3.6.1, half-closed connections",
     "closing while received data is still unread would lose it silently, so the connection "
     "is reset instead of closed with a FIN",
     "还有已收到但未读取的数据时关闭会悄悄丢掉这些数据,所以连接以复位结束,而不是用 FIN 关闭",
     "RFC 9293 \xc2\xa7"
     "3.6.1,半关闭连接"},
    {ANY, S(CLOSED), USER, 0, "listener closed",
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in LISTEN",
     "the listening socket was closed; connections still waiting in its queues go with it",
     "监听套接字被关闭;仍在它队列中等待的连接随之一起消失",
     "RFC 9293 \xc2\xa7"
     "3.10.4,LISTEN 中的 CLOSE 调用"},
    {S(CLOSED), S(LISTEN), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.1, OPEN call in CLOSED (passive)",
     "a passive OPEN makes a TCB and waits in LISTEN for a SYN",
     "被动 OPEN 创建一个 TCB,在 LISTEN 中等待 SYN",
     "RFC 9293 \xc2\xa7"
     "3.10.1,CLOSED 中的 OPEN 调用(被动)"},
    {S(CLOSED), S(SYN_SENT), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.1, OPEN call in CLOSED (active)",
     "an active OPEN picks an initial sequence number, sends a SYN and waits in SYN-SENT for "
     "the answer",
     "主动 OPEN 选定初始序列号,发送 SYN,在 SYN-SENT 中等待回答",
     "RFC 9293 \xc2\xa7"
     "3.10.1,CLOSED 中的 OPEN 调用(主动)"},
    {S(LISTEN), S(SYN_SENT), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.1, OPEN call in LISTEN",
     "an active OPEN on a listening socket sends a SYN and makes it an active connection",
     "在监听套接字上主动 OPEN:发送 SYN,使它成为一个主动连接",
     "RFC 9293 \xc2\xa7"
     "3.10.1,LISTEN 中的 OPEN 调用"},
    {S(LISTEN), S(CLOSED), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in LISTEN",
     "closing a listening socket deletes its TCB; nothing is sent",
     "关闭监听套接字会删除它的 TCB;不发送任何报文段",
     "RFC 9293 \xc2\xa7"
     "3.10.4,LISTEN 中的 CLOSE 调用"},
    {S(SYN_SENT), S(CLOSED), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in SYN-SENT",
     "closing before the peer answered deletes the TCB; nothing more is sent",
     "在对端回答之前关闭:删除 TCB,不再发送任何报文段",
     "RFC 9293 \xc2\xa7"
     "3.10.4,SYN-SENT 中的 CLOSE 调用"},
    {S(SYN_RECEIVED), S(FIN_WAIT_1), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in SYN-RECEIVED",
     "with nothing queued to send, CLOSE sends a FIN at once and waits in FIN-WAIT-1 for its ACK",
     "没有待发送的数据时,CLOSE 立即发送 FIN,并在 FIN-WAIT-1 中等待对它的 ACK",
     "RFC 9293 \xc2\xa7"
     "3.10.4,SYN-RECEIVED 中的 CLOSE 调用"},
    {S(ESTABLISHED), S(FIN_WAIT_1), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in ESTABLISHED",
     "CLOSE sends a FIN after the queued data and waits in FIN-WAIT-1; this side sends no more "
     "but still receives",
     "CLOSE 在排队的数据之后发送 FIN,并在 FIN-WAIT-1 中等待;本方不再发送,但仍然接收",
     "RFC 9293 \xc2\xa7"
     "3.10.4,ESTABLISHED 中的 CLOSE 调用"},
    {S(CLOSE_WAIT), S(LAST_ACK), USER, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.4, CLOSE call in CLOSE-WAIT",
     "the peer closed first; our FIN follows the queued data and LAST-ACK waits for its ACK",
     "对端先关闭;我方的 FIN 跟在排队的数据之后发出,在 LAST-ACK 中等待对它的 ACK",
     "RFC 9293 \xc2\xa7"
     "3.10.4,CLOSE-WAIT 中的 CLOSE 调用"},
    /* Timeouts (§3.10.8) and the limits of §3.8. */
    {S(TIME_WAIT), S(CLOSED), TIMR, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.8, TIME-WAIT timeout",
     "2*MSL passed since the peer's FIN was acknowledged: old segments of this connection have "
     "died out, so the TCB is deleted",
     "确认对端 FIN 之后已过去 2*MSL:这个连接的旧报文段都已消亡,于是删除 TCB",
     "RFC 9293 \xc2\xa7"
     "3.10.8,TIME-WAIT 超时"},
    {S(FIN_WAIT_2), S(CLOSED), TIMR, 0, NULL, "none in RFC 9293 (the profile's FIN_WAIT_2 timeout)",
     "RFC 9293 lets FIN-WAIT-2 last for ever; the profile gives a closed (orphaned) connection a "
     "time limit, as Linux and BSD do",
     "RFC 9293 允许 FIN-WAIT-2 无限期持续;该配置像 Linux 和 BSD 一样,给已关闭(孤儿)连接设定时限",
     "RFC 9293 中没有(配置的 FIN_WAIT_2 超时)"},
    {ANY, S(CLOSED), TIMR, 0, "keepalive",
     "RFC 9293 \xc2\xa7"
     "3.8.4, keep-alives",
     "the peer answered none of the keep-alive probes, so the connection is taken for dead",
     "对端没有回答任何一个保活探测,于是认为连接已经失效",
     "RFC 9293 \xc2\xa7"
     "3.8.4,保活"},
    {ANY, S(CLOSED), TIMR, 0, "persist",
     "RFC 9293 \xc2\xa7"
     "3.8.6.1, zero-window probing",
     "the window stayed shut and no probe was answered within the retry limit, so the "
     "connection is given up",
     "窗口一直关闭,在重试上限内没有任何探测得到回答,于是放弃连接",
     "RFC 9293 \xc2\xa7"
     "3.8.6.1,零窗口探测"},
    {ANY, S(CLOSED), TIMR, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.8.3, excessive retransmissions (R2)",
     "the segment was retransmitted up to the R2 limit and never acknowledged, so the "
     "connection is closed and the user told",
     "报文段重传到 R2 上限仍未被确认,于是关闭连接并通知用户",
     "RFC 9293 \xc2\xa7"
     "3.8.3,重传过多(R2)"},
    /* Segments: LISTEN (§3.10.7.2), SYN-SENT (§3.10.7.3). */
    {S(LISTEN), S(SYN_RECEIVED), SEGM, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.7.2, LISTEN, third check (SYN)",
     "a SYN reached a listening socket: note the peer's sequence number, answer with our own "
     "SYN and an ACK of theirs, wait in SYN-RECEIVED",
     "SYN 到达监听套接字:记下对端的序列号,以我方的 SYN 和对其 SYN 的 ACK 作答,在 SYN-RECEIVED "
     "中等待",
     "RFC 9293 \xc2\xa7"
     "3.10.7.2,LISTEN,第三项检查(SYN)"},
    {S(SYN_SENT), S(ESTABLISHED), SEGM, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.7.3, SYN-SENT, fourth check (SYN)",
     "the SYN,ACK acknowledges our SYN and carries the peer's: the connection is open; "
     "acknowledge their SYN",
     "SYN,ACK 确认了我方的 SYN 并带来对端的 SYN:连接已建立;确认对端的 SYN",
     "RFC 9293 \xc2\xa7"
     "3.10.7.3,SYN-SENT,第四项检查(SYN)"},
    {S(SYN_SENT), S(SYN_RECEIVED), SEGM, 0, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.7.3, SYN-SENT, fourth check (SYN)",
     "a SYN that does not acknowledge ours: both ends opened at once; answer with SYN,ACK and "
     "wait in SYN-RECEIVED",
     "收到的 SYN 没有确认我方的 SYN:双方同时打开;以 SYN,ACK 作答并在 SYN-RECEIVED 中等待",
     "RFC 9293 \xc2\xa7"
     "3.10.7.3,SYN-SENT,第四项检查(SYN)"},
    {S(SYN_SENT), S(CLOSED), SEGM, TCP_RST, NULL,
     "RFC 9293 \xc2\xa7"
     "3.10.7.3, SYN-SENT, second check (RST)",
     "a reset that acknowledges our SYN: nobody listens on that port; the connection is refused",
     "确认了我方 SYN 的复位:该端口上没有人监听;连接被拒绝",
     "RFC 9293 \xc2\xa7"
     "3.10.7.3,SYN-SENT,第二项检查(RST)"},
    /* Segments: synchronized states (§3.10.7.4), in the order of its steps. */
    {S(SYN_RECEIVED), S(LISTEN), SEGM, TCP_RST, NULL, R7_4 "second step (check the RST bit)",
     "a reset in SYN-RECEIVED on a connection that came from LISTEN: forget it and go back to "
     "listening",
     "由 LISTEN 进入 SYN-RECEIVED 的连接收到复位:忘掉它,回到监听", R7_4_ZH "第二步(检查 RST 位)"},
    {ANY, S(CLOSED), SEGM, 0, "data after close()",
     "RFC 9293 \xc2\xa7"
     "3.6.1, half-closed connections",
     "data arrived after the user closed and can never be read, so a reset tells the peer it "
     "was lost",
     "用户关闭之后到达的数据永远无法被读取,于是用复位告诉对端这些数据丢失了",
     "RFC 9293 \xc2\xa7"
     "3.6.1,半关闭连接"},
    {ANY, S(CLOSED), SEGM, TCP_SYN, NULL,
     "RFC 1122 \xc2\xa7"
     "4.2.2.13 (profile knob tw_syn)",
     "a new SYN above the old connection's sequence numbers reopens the port from TIME-WAIT "
     "(RFC 9293 itself answers such a SYN with an ACK)",
     "序列号高于旧连接的新 SYN 使端口从 TIME-WAIT 重新打开(RFC 9293 本身对这样的 SYN 回答一个 "
     "ACK)",
     "RFC 1122 \xc2\xa7"
     "4.2.2.13(配置项 tw_syn)"},
    {ANY, S(CLOSED), SEGM, TCP_RST, NULL, R7_4 "second step (check the RST bit)",
     "an acceptable reset (its sequence number exactly RCV.NXT, as RFC 5961 asks) ends the "
     "connection at once",
     "可接受的复位(按 RFC 5961 的要求,其序列号恰为 RCV.NXT)立即结束连接",
     R7_4_ZH "第二步(检查 RST 位)"},
    {S(SYN_RECEIVED), S(LISTEN), SEGM, 0, NULL, R7_4 "fourth step (check the SYN bit)",
     "a new SYN in SYN-RECEIVED on a connection that came from LISTEN: drop the half-open "
     "connection and go back to listening",
     "由 LISTEN 进入 SYN-RECEIVED 的连接收到新的 SYN:丢弃半开连接,回到监听",
     R7_4_ZH "第四步(检查 SYN 位)"},
    {S(SYN_RECEIVED), S(ESTABLISHED), SEGM, 0, NULL, R7_4 "fifth step (check the ACK field)",
     "the ACK covers our SYN (SND.UNA < SEG.ACK =< SND.NXT): the handshake is complete",
     "ACK 覆盖了我方的 SYN(SND.UNA < SEG.ACK =< SND.NXT):握手完成",
     R7_4_ZH "第五步(检查 ACK 字段)"},
    {S(FIN_WAIT_1), S(FIN_WAIT_2), SEGM, 0, NULL, R7_4 "fifth step (check the ACK field)",
     "the ACK covers our FIN: our direction is closed; wait in FIN-WAIT-2 for the peer's FIN",
     "ACK 覆盖了我方的 FIN:我方方向已关闭;在 FIN-WAIT-2 中等待对端的 FIN",
     R7_4_ZH "第五步(检查 ACK 字段)"},
    {S(CLOSING), S(TIME_WAIT), SEGM, 0, NULL, R7_4 "fifth step (check the ACK field)",
     "the ACK covers our FIN: both directions are closed; start the 2*MSL timer in TIME-WAIT",
     "ACK 覆盖了我方的 FIN:两个方向都已关闭;在 TIME-WAIT 中启动 2*MSL 计时器",
     R7_4_ZH "第五步(检查 ACK 字段)"},
    {S(LAST_ACK), S(CLOSED), SEGM, 0, NULL, R7_4 "fifth step (check the ACK field)",
     "the ACK covers our FIN, the last thing we waited for: delete the TCB",
     "ACK 覆盖了我方的 FIN,这是我们等待的最后一件事:删除 TCB", R7_4_ZH "第五步(检查 ACK 字段)"},
    {S(SYN_RECEIVED), S(CLOSE_WAIT), SEGM, 0, NULL, R7_4 "eighth step (check the FIN bit)",
     "a FIN arrived: the peer sends no more; acknowledge it and wait for our own CLOSE",
     "收到 FIN:对端不再发送;确认它,并等待我方自己的 CLOSE", R7_4_ZH "第八步(检查 FIN 位)"},
    {S(ESTABLISHED), S(CLOSE_WAIT), SEGM, 0, NULL, R7_4 "eighth step (check the FIN bit)",
     "a FIN arrived: the peer sends no more; acknowledge it and wait for our own CLOSE",
     "收到 FIN:对端不再发送;确认它,并等待我方自己的 CLOSE", R7_4_ZH "第八步(检查 FIN 位)"},
    {S(FIN_WAIT_1), S(CLOSING), SEGM, 0, NULL, R7_4 "eighth step (check the FIN bit)",
     "the peer's FIN came before the ACK of ours: both sides are closing; acknowledge it and "
     "wait in CLOSING",
     "对端的 FIN 先于对我方 FIN 的 ACK 到达:双方都在关闭;确认它并在 CLOSING 中等待",
     R7_4_ZH "第八步(检查 FIN 位)"},
    {S(FIN_WAIT_1), S(TIME_WAIT), SEGM, 0, NULL, R7_4 "eighth step (check the FIN bit)",
     "the peer's FIN arrived and our FIN is acknowledged: acknowledge theirs and wait 2*MSL "
     "in TIME-WAIT",
     "对端的 FIN 到达且我方的 FIN 已被确认:确认对端的 FIN,在 TIME-WAIT 中等待 2*MSL",
     R7_4_ZH "第八步(检查 FIN 位)"},
    {S(FIN_WAIT_2), S(TIME_WAIT), SEGM, 0, NULL, R7_4 "eighth step (check the FIN bit)",
     "the peer's FIN arrived: acknowledge it and wait 2*MSL in TIME-WAIT in case that ACK "
     "is lost",
     "对端的 FIN 到达:确认它,并在 TIME-WAIT 中等待 2*MSL,以防这个 ACK 丢失",
     R7_4_ZH "第八步(检查 FIN 位)"},
};
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static bool row_matches(const why_row *r, const rlog_entry *e)
{
    if ((r->from != ANY && r->from != (int)e->from) || r->to != (int)e->to ||
        r->cause != (int)e->cause)
        return false;
    /* The flag of the causing segment; when the log kept no segment, the
     * stack's note names it ("rcv RST"). */
    if (r->flag && e->seg_ok && !(e->seg->flags & r->flag))
        return false;
    if (r->flag && !e->seg_ok && !strstr(e->note, r->flag == TCP_RST ? "RST" : "SYN"))
        return false;
    return !r->note || strncmp(e->note, r->note, strlen(r->note)) == 0;
}

/* A TIME-WAIT restart (RLOG_RESTART): a repeated FIN is RFC 9293's rule;
 * a restart on an ACK alone is the profile's (tw_restart_on_ack). */
static rlog_why restart_why(const rlog_entry *e)
{
    bool fin = e->seg_ok ? (e->seg->flags & TCP_FIN) != 0 : strstr(e->note, "FIN") != NULL;
    if (fin)
        return (rlog_why){R7_4 "eighth step (check the FIN bit), in TIME-WAIT",
                          "the FIN came again, so the peer never got our ACK of it: it is "
                          "acknowledged again and the 2*MSL timer starts over, to give that ACK "
                          "time to arrive and old segments time to die",
                          "FIN 再次到达,说明对端没有收到我方对它的 ACK:再次确认它,并重新开始 "
                          "2*MSL 计时,让这个 ACK 有时间到达,也让旧报文段有时间消亡",
                          R7_4_ZH "第八步(检查 FIN 位),在 TIME-WAIT 中"};
    return (rlog_why){"profile knob tw_restart_on_ack (not in RFC 9293)",
                      "this profile starts the TIME-WAIT timer over on any acceptable ACK, as "
                      "Linux does; RFC 9293 starts it over only for a repeated FIN",
                      "该配置像 Linux 一样,在 TIME-WAIT 中收到任何可接受的 ACK 都重新开始计时;"
                      "RFC 9293 只在 FIN 重复到达时才重新开始",
                      "配置项 tw_restart_on_ack(RFC 9293 中没有)"};
}

rlog_why rlog_why_of(const rlog_entry *e)
{
    if (e->kind == RLOG_RESTART)
        return restart_why(e);
    if (e->kind == RLOG_STATE)
        for (size_t i = 0; i < NROWS; i++)
            if (row_matches(&ROWS[i], e))
                return (rlog_why){ROWS[i].rule, ROWS[i].because, ROWS[i].zh, ROWS[i].rule_zh};
    return (rlog_why){"none", "no rule in the table names this transition",
                      "规则表中没有与这一转换对应的规则", "无"};
}

size_t rlog_why_short(const rlog_entry *e, char *buf, size_t len)
{
    const char *r = rlog_why_of(e).rule;
    if (strncmp(r, "RFC 9293 ", 9) == 0)
        r += 9;
    const char *paren = strstr(r, " (");
    int n = snprintf(buf, len, "%.*s", paren ? (int)(paren - r) : (int)strlen(r), r);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- profile differences ------------------------------------------------- */

/* "60 s", "1.5 s" or "200 ms": whole units only (profiles use round values). */
static void dur(uint64_t ns, char *buf, size_t len)
{
    if (ns % 1000000000u == 0)
        snprintf(buf, len, "%" PRIu64 " s", ns / 1000000000u);
    else
        snprintf(buf, len, "%" PRIu64 " ms", ns / 1000000u);
}

static uint64_t tw_ns(const tcp_profile *p)
{
    return p->time_wait_ns ? p->time_wait_ns : 2 * p->msl_ns;
}

/* The line being written: where, how far, in which language, and who
 * departs from the RFC (the profile, or the scenario that changed the
 * rfc9293 profile's knobs). Each sentence below is written in both
 * languages with the same arguments in the same order. */
typedef struct diff_line {
    char *buf;
    size_t len, at;
    bool zh;
    const char *who;
} diff_line;

#define SAY(d, fmt_en, fmt_zh, ...)                                                                \
    render_cat((d)->buf, (d)->len, &(d)->at, (d)->zh ? fmt_zh : fmt_en, __VA_ARGS__)

static void diff_time_wait(const tcp_profile *p, const tcp_profile *r, diff_line *d)
{
    char a[32], b[32];
    if (tw_ns(p) != tw_ns(r)) {
        dur(tw_ns(p), a, sizeof a);
        dur(tw_ns(r), b, sizeof b);
        SAY(d, "%s: TIME_WAIT lasts %s%s (RFC 9293: 2*MSL = %s). ",
            "%s:TIME_WAIT 持续 %s%s(RFC 9293:2*MSL = %s)。", d->who, a,
            p->time_wait_ns ? (d->zh ? ",固定不变" : ", fixed") : "", b);
    }
    if (p->tw_restart_on_ack != r->tw_restart_on_ack && p->tw_restart_on_ack)
        SAY(d, "%s: any ACK in TIME_WAIT restarts the timer, not only a repeated FIN. ",
            "%s:TIME_WAIT 中收到任何 ACK 都重新开始计时,而不只是重复到达的 FIN。", d->who);
}

static void diff_fin_wait_2_timeout(const tcp_profile *p, diff_line *d)
{
    char a[32], iv[32];
    dur(p->fin_wait_2_timeout_ns, a, sizeof a);
    dur(p->keepalive_intvl_ns, iv, sizeof iv);
    if (p->fin_wait_2_idle)
        SAY(d,
            "%s: an orphaned FIN_WAIT_2 ends after %s of idle time, checked every %s; "
            "RFC 9293 sets no limit. ",
            "%s:孤儿 FIN_WAIT_2 空闲 %s 后结束,每 %s 检查一次;RFC 9293 不设时限。", d->who, a, iv);
    else
        SAY(d, "%s: an orphaned FIN_WAIT_2 ends after %s; RFC 9293 sets no limit. ",
            "%s:孤儿 FIN_WAIT_2 在 %s 后结束;RFC 9293 不设时限。", d->who, a);
}

static void diff_closed(const rlog_entry *e, const tcp_profile *p, const tcp_profile *r,
                        diff_line *d)
{
    bool timer = e->cause == TCP_CAUSE_TIMER;
    if (timer && e->from == TCP_FIN_WAIT_2 && p->fin_wait_2_timeout_ns)
        diff_fin_wait_2_timeout(p, d);
    else if (timer && strncmp(e->note, "SYN retries", 11) == 0 && p->syn_retries != r->syn_retries)
        SAY(d, "%s: gives up after %u SYN retransmissions (rfc9293 profile: %u). ",
            "%s:SYN 重传 %u 次后放弃(rfc9293 配置:%u 次)。", d->who, p->syn_retries,
            r->syn_retries);
    else if (timer && strncmp(e->note, "retransmissions", 15) == 0 &&
             p->data_retries != r->data_retries)
        SAY(d, "%s: gives up after %u retransmissions (rfc9293 profile: %u). ",
            "%s:重传 %u 次后放弃(rfc9293 配置:%u 次)。", d->who, p->data_retries, r->data_retries);
    else if (timer && strncmp(e->note, "keepalive", 9) == 0 &&
             p->rst_on_keepalive_timeout != r->rst_on_keepalive_timeout)
        SAY(d, "%s: sends a reset when keep-alive gives up. ", "%s:保活放弃时发送复位(RST)。",
            d->who);
    else if (e->cause == TCP_CAUSE_SEGMENT && e->from == TCP_TIME_WAIT && e->seg_ok &&
             (e->seg->flags & TCP_SYN) && p->tw_syn != r->tw_syn)
        SAY(d, "%s: a SYN with a higher sequence number reopens TIME_WAIT. ",
            "%s:序列号更高的 SYN 会使 TIME_WAIT 中的端口重新打开。", d->who);
}

/* The options a SYN carries beyond MSS, in d's language. */
static void diff_syn_options(const tcp_profile *p, diff_line *d)
{
    if (!p->send_timestamps && !p->send_wscale && !p->send_sack_perm)
        return;
    SAY(d, "%s: the SYN carries%s%s%s (the rfc9293 profile sends only MSS). ",
        "%s:SYN 带有%s%s%s(rfc9293 配置只发送 MSS)。", d->who,
        p->send_timestamps ? (d->zh ? " 时间戳" : " timestamps") : "",
        p->send_wscale ? (d->zh ? " 窗口缩放" : " window-scale") : "",
        p->send_sack_perm ? (d->zh ? " 允许 SACK" : " SACK-permitted") : "");
}

size_t rlog_why_profile(const rlog_entry *e, const tcp_profile *p, rlog_lang lang, char *buf,
                        size_t len)
{
    const tcp_profile *r = tcp_profile_find("rfc9293");
    bool zh = lang == RLOG_LANG_ZH;
    if (len > 0)
        buf[0] = '\0';
    if (!p || !r || (e->kind != RLOG_STATE && e->kind != RLOG_RESTART))
        return 0;
    bool scenario = strcmp(p->name, "rfc9293") == 0;
    diff_line d = {buf, len, 0, zh, scenario ? (zh ? "本场景" : "this scenario") : p->name};
    if (e->to == TCP_TIME_WAIT || e->from == TCP_TIME_WAIT)
        diff_time_wait(p, r, &d);
    if (e->to == TCP_FIN_WAIT_2 && p->fin_wait_2_timeout_ns != r->fin_wait_2_timeout_ns) {
        char a[32];
        dur(p->fin_wait_2_timeout_ns, a, sizeof a);
        SAY(&d, "%s: once closed, FIN_WAIT_2 waits at most %s for the peer's FIN. ",
            "%s:本方关闭之后,FIN_WAIT_2 最多等待对端的 FIN %s。", d.who, a);
    }
    if (e->to == TCP_CLOSED)
        diff_closed(e, p, r, &d);
    if (e->to == TCP_SYN_SENT || e->to == TCP_SYN_RECEIVED)
        diff_syn_options(p, &d);
    while (d.at > 0 && d.at <= len && buf[d.at - 1] == ' ')
        buf[--d.at] = '\0';
    return d.at;
}

/* ---- the list under the ladder --------------------------------------------- */

#define WHY_COLS   80
#define WHY_INDENT 6

/* Writes text from column WHY_INDENT, breaking at spaces before WHY_COLS.
 * Counts UTF-8 characters, not bytes, as columns. */
static void put_wrapped(FILE *out, const char *text)
{
    int col = WHY_INDENT;
    fprintf(out, "%*s", WHY_INDENT, "");
    while (*text) {
        size_t word = strcspn(text, " ");
        int cols = 0;
        for (size_t k = 0; k < word; k++)
            cols += ((unsigned char)text[k] & 0xc0) != 0x80;
        if (col > WHY_INDENT && col + 1 + cols > WHY_COLS) {
            fprintf(out, "\n%*s", WHY_INDENT, "");
            col = WHY_INDENT;
        } else if (col > WHY_INDENT) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += cols;
        text += word;
        while (*text == ' ')
            text++;
    }
    fputc('\n', out);
}

int rlog_write_why_list(const rlog *log, FILE *out)
{
    unsigned n = 0;
    fputs("why: the RFC rule behind each state change and timer restart\n", out);
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        if (e->kind != RLOG_STATE && e->kind != RLOG_RESTART)
            continue;
        char ms[32], text[512];
        rlog_format_ms(e->time_ns, ms, sizeof ms);
        rlog_why w = rlog_why_of(e);
        fprintf(out, "%3u. %s ms %s #%" PRIu32 " ", ++n, ms, rlog_host_name(log, e->host), e->sock);
        if (e->kind == RLOG_RESTART)
            fprintf(out, "%s restarted (%s)\n", tcp_timer_name((tcp_timer_kind)e->detail), e->note);
        else
            fprintf(out, "%s -> %s\n", tcp_state_name(e->from), tcp_state_name(e->to));
        snprintf(text, sizeof text, "%s: %s", w.rule, w.because);
        put_wrapped(out, text);
    }
    if (n == 0)
        fputs("(no state changes)\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
