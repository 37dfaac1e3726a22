/*
 * sim_time — parsing and formatting of virtual durations and instants.
 *
 * Promises: every accepted text maps to exactly one integer number of
 * nanoseconds (no floating point anywhere), and sim_duration_format's output
 * parses back to the same value.
 */
#include "sim_time.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"

typedef struct time_unit {
    const char *name;
    sim_time_t ns;
} time_unit;

static const time_unit units[] = {
    {"ns", SIM_NS}, {"us", SIM_US}, {"ms", SIM_MS}, {"s", SIM_S}, {"min", SIM_MIN}, {"h", SIM_H},
};

#define UNIT_LIST "ns, us, ms, s, min, h"

/* At most this many significant fraction digits: with any unit up to an hour,
 * a 19th non-zero digit always means a fraction of a nanosecond. */
#define FRACTION_DIGITS_MAX 18

/* A copy of user text fit for a one-line message: at most 40 characters,
 * control characters replaced. */
static const char *quoted(const char *text, char *buf, size_t buf_len)
{
    size_t n = 0;
    for (; text[n] && n + 1 < buf_len && n < 40; n++) {
        unsigned char c = (unsigned char)text[n];
        buf[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[n] = '\0';
    return buf;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static const time_unit *unit_named(const char *name)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i].name, name) == 0)
            return &units[i];
    return NULL;
}

/* A decimal split into its parts: whole + num / den, with den = 10^k and
 * num's trailing zeros removed. */
typedef struct decimal {
    uint64_t whole, num, den;
    bool overflow; /* the whole part does not fit in 64 bits */
    bool too_fine; /* more than FRACTION_DIGITS_MAX significant fraction digits */
    const char *end;
} decimal;

/* Reads digits[.digits] at s (which starts with a digit). */
static bool read_decimal(const char *s, decimal *d)
{
    memset(d, 0, sizeof *d);
    d->den = 1;
    for (; is_digit(*s); s++) {
        uint64_t digit = (uint64_t)(*s - '0');
        if (d->whole > (UINT64_MAX - digit) / 10)
            d->overflow = true;
        else
            d->whole = d->whole * 10 + digit;
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return false;
        const char *first = s;
        while (is_digit(*s))
            s++;
        const char *last = s; /* one past the last significant digit */
        while (last > first && last[-1] == '0')
            last--;
        if (last - first > FRACTION_DIGITS_MAX)
            d->too_fine = true;
        else
            for (const char *c = first; c < last; c++) {
                d->num = d->num * 10 + (uint64_t)(*c - '0');
                d->den *= 10;
            }
    }
    d->end = s;
    return true;
}

/* whole * unit + num * unit / den, exactly; -1 on overflow, -2 when the
 * fraction is finer than 1 ns. */
static int decimal_scale(const decimal *d, uint64_t unit, uint64_t *out)
{
    if (d->too_fine)
        return -2;
    uint64_t g = gcd_u64(unit, d->den);
    uint64_t den = d->den / g;
    if (d->num % den != 0)
        return -2;
    uint64_t frac = (d->num / den) * (unit / g); /* < unit: cannot overflow */
    if (d->overflow || (d->whole != 0 && d->whole > UINT64_MAX / unit))
        return -1;
    uint64_t whole = d->whole * unit;
    if (whole > UINT64_MAX - frac)
        return -1;
    *out = whole + frac;
    return 0;
}

int sim_duration_parse(const char *text, sim_time_t *out_ns, char *err, size_t err_len)
{
    assert(text != NULL && out_ns != NULL);
    char q[48];
    if (text[0] == '\0')
        return sim_errf(err, err_len,
                        "empty duration: expected a number with a unit, e.g. \"50ms\"");
    if (text[0] == '-')
        return sim_errf(err, err_len, "duration must not be negative, got \"%s\"",
                        quoted(text, q, sizeof q));
    decimal d;
    if (!is_digit(text[0]) || !read_decimal(text, &d))
        return sim_errf(err, err_len,
                        "expected a duration such as \"50ms\" or \"1.5s\", got \"%s\"",
                        quoted(text, q, sizeof q));
    if (*d.end == '\0')
        return sim_errf(err, err_len, "duration \"%s\" needs a unit (" UNIT_LIST ")",
                        quoted(text, q, sizeof q));
    const time_unit *u = unit_named(d.end);
    if (!u) {
        char uq[48];
        return sim_errf(err, err_len, "unknown unit \"%s\" in duration \"%s\" (use " UNIT_LIST ")",
                        quoted(d.end, uq, sizeof uq), quoted(text, q, sizeof q));
    }
    uint64_t ns;
    int rc = decimal_scale(&d, u->ns, &ns);
    if (rc == -1)
        return sim_errf(err, err_len, "duration \"%s\" is too large (the limit is about 584 years)",
                        quoted(text, q, sizeof q));
    if (rc == -2)
        return sim_errf(err, err_len, "duration \"%s\" is finer than 1ns",
                        quoted(text, q, sizeof q));
    *out_ns = ns;
    return 0;
}

/* Writes `value / unit` as a decimal with the fraction's trailing zeros
 * removed ("1.5", "250", "1.000000001"). */
static size_t format_decimal(uint64_t value, uint64_t unit, const char *suffix, char *buf,
                             size_t buf_len)
{
    uint64_t whole = value / unit, frac = value % unit;
    if (frac == 0)
        return (size_t)snprintf(buf, buf_len, "%" PRIu64 "%s", whole, suffix);
    int digits = 0;
    for (uint64_t u = unit; u > 1; u /= 10)
        digits++;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    return (size_t)snprintf(buf, buf_len, "%" PRIu64 ".%0*" PRIu64 "%s", whole, digits, frac,
                            suffix);
}

size_t sim_duration_format(sim_time_t ns, char *buf, size_t buf_len)
{
    if (ns == 0)
        return (size_t)snprintf(buf, buf_len, "0s");
    /* Hours and minutes only when exact: 1.5min would be exact but a
     * base-60 unit with a decimal fraction reads badly ("1.333333333min"). */
    if (ns % SIM_H == 0)
        return format_decimal(ns, SIM_H, "h", buf, buf_len);
    if (ns % SIM_MIN == 0)
        return format_decimal(ns, SIM_MIN, "min", buf, buf_len);
    for (size_t i = 3; i > 0; i--)
        if (ns >= units[i].ns)
            return format_decimal(ns, units[i].ns, units[i].name, buf, buf_len);
    return format_decimal(ns, SIM_NS, "ns", buf, buf_len);
}

size_t sim_time_format(sim_time_t ns, char *buf, size_t buf_len)
{
    uint64_t sec = ns / SIM_S, frac = ns % SIM_S;
    if (frac % SIM_MS == 0)
        return (size_t)snprintf(buf, buf_len, "%" PRIu64 ".%03" PRIu64, sec, frac / SIM_MS);
    return (size_t)snprintf(buf, buf_len, "%" PRIu64 ".%09" PRIu64, sec, frac);
}
