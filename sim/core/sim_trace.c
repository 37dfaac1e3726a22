/*
 * sim_trace — names of trace kinds and drop reasons, and the one-line text
 * form of a record.
 *
 * Promises: sim_trace_format depends only on the record's fields (never on
 * pointer values or the locale), always yields exactly one line, and never
 * changes for a given record, so traces can be compared byte for byte.
 */
#include "sim_trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "sim_internal.h"

const char *sim_trace_kind_name(sim_trace_kind kind)
{
    switch (kind) {
    case SIM_TR_SEND:
        return "SEND";
    case SIM_TR_DROP:
        return "DROP";
    case SIM_TR_DELIVER:
        return "DELIVER";
    case SIM_TR_DUPLICATE:
        return "DUPLICATE";
    case SIM_TR_CORRUPT:
        return "CORRUPT";
    case SIM_TR_DELAY:
        return "DELAY";
    case SIM_TR_HOLD:
        return "HOLD";
    case SIM_TR_RELEASE:
        return "RELEASE";
    case SIM_TR_LINK:
        return "LINK";
    case SIM_TR_HOST:
        return "HOST";
    }
    return "?";
}

const char *sim_drop_reason_name(sim_drop_reason reason)
{
    switch (reason) {
    case SIM_DROP_NONE:
        return "none";
    case SIM_DROP_LOSS:
        return "loss";
    case SIM_DROP_QUEUE:
        return "queue";
    case SIM_DROP_MTU:
        return "mtu";
    case SIM_DROP_LINK_DOWN:
        return "link_down";
    case SIM_DROP_FAULT:
        return "fault";
    case SIM_DROP_NO_ROUTE:
        return "no_route";
    case SIM_DROP_NO_RECEIVER:
        return "no_receiver";
    }
    return "?";
}

/* An snprintf that appends, remembering the length it wanted. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Host text, quoted and escaped so the record stays on one line. */
static void put_text(out *o, const char *text)
{
    put(o, " text=\"");
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            put(o, "\\%c", *c);
        else if (*c == '\n')
            put(o, "\\n");
        else if (*c < 0x20 || *c == 0x7f)
            put(o, "\\x%02x", *c);
        else
            put(o, "%c", *c);
    }
    put(o, "\"");
}

static bool is_packet_kind(sim_trace_kind kind)
{
    return kind != SIM_TR_LINK && kind != SIM_TR_HOST;
}

static void put_kind_fields(out *o, const sim_trace_rec *rec)
{
    char d[32];
    switch (rec->kind) {
    case SIM_TR_DROP:
        put(o, " reason=%s", sim_drop_reason_name(rec->reason));
        break;
    case SIM_TR_CORRUPT:
        put(o, " bit=%" PRIu32, rec->code);
        break;
    case SIM_TR_DELAY:
        sim_duration_format(rec->value_ns, d, sizeof d);
        put(o, " delay=%s cause=%s", d, rec->code == SIM_DELAY_REORDER ? "reorder" : "fault");
        break;
    case SIM_TR_LINK:
        put(o, " %s", rec->value_ns ? "up" : "down");
        break;
    case SIM_TR_HOST:
        put(o, " code=%" PRIu32, rec->code);
        if (rec->len > 0)
            put(o, " len=%zu", rec->len);
        if (rec->text)
            put_text(o, rec->text);
        break;
    default:
        break;
    }
}

size_t sim_trace_format(const sim_trace_rec *rec, char *buf, size_t buf_len)
{
    out o = {buf, buf_len, 0};
    if (buf_len > 0)
        buf[0] = '\0';
    put(&o, "%" PRIu64 ".%09" PRIu64 " %s", rec->time / SIM_S, rec->time % SIM_S,
        sim_trace_kind_name(rec->kind));
    if (rec->host_id == SIM_NO_ID)
        put(&o, " host=-");
    else
        put(&o, " host=%" PRIu32, rec->host_id);
    if (rec->link_id != SIM_NO_ID)
        put(&o, " link=%" PRIu32 " dir=%u", rec->link_id, (unsigned)rec->dir);
    if (is_packet_kind(rec->kind)) {
        put(&o, " pkt=%" PRIu32, rec->packet_id);
        if (rec->origin_id != rec->packet_id)
            put(&o, " origin=%" PRIu32, rec->origin_id);
        put(&o, " len=%zu", rec->len);
    }
    put_kind_fields(&o, rec);
    return o.len;
}
