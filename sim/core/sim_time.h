/*
 * sim_time — virtual time. Time is an integer count of nanoseconds since the
 * start of the run (uint64_t), never floating point, never wall-clock time.
 *
 * Durations are parsed digit by digit, so "1.5s" is exactly 1500000000 ns on
 * every compiler and optimisation level.
 */
#ifndef SIM_TIME_H
#define SIM_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t sim_time_t;

#define SIM_NS  ((sim_time_t)1)
#define SIM_US  ((sim_time_t)1000)
#define SIM_MS  ((sim_time_t)1000000)
#define SIM_S   ((sim_time_t)1000000000)
#define SIM_MIN (60 * SIM_S)
#define SIM_H   (60 * SIM_MIN)

/* The largest representable instant; also "never" for deadlines. */
#define SIM_TIME_NEVER UINT64_MAX

/*
 * Parses a duration: a decimal number with an optional fraction and a unit
 * ("ns", "us", "ms", "s", "min", "h"), e.g. "50ms", "2min", "1.5s", "0.25ms".
 * A bare number without a unit is rejected (ambiguous). Negative values,
 * fractions finer than 1 ns, overflow and trailing garbage are rejected.
 * Returns 0 and stores the value in *out_ns, or -1 and writes a one-line
 * human message to err (if err_len > 0).
 */
int sim_duration_parse(const char *text, sim_time_t *out_ns, char *err, size_t err_len);

/*
 * Formats a duration exactly, with the largest unit that keeps it short and
 * no rounding: 1500000000 -> "1.5s", 120000000000 -> "2min", 1 -> "1ns".
 * Always NUL-terminates; returns the length it wanted (like snprintf).
 */
size_t sim_duration_format(sim_time_t ns, char *buf, size_t buf_len);

/*
 * Formats an instant as seconds with fixed nanosecond precision trimmed to
 * milliseconds when exact: "0.050", "1.000000001". Used by text traces.
 */
size_t sim_time_format(sim_time_t ns, char *buf, size_t buf_len);

#endif
