/*
 * render_int — helpers private to sim/render/: the one growth helper of the
 * library. Out of memory aborts with a message: an output cut short would
 * be a silent lie about the run.
 */
#ifndef RENDER_INT_H
#define RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* realloc(p, n) that aborts on out-of-memory (n == 0 allocates one byte). */
void *render_alloc(void *p, size_t n);
/* Grows *arr (elements of `size` bytes, capacity *cap) to hold `need`,
 * doubling from 32. */
void render_grow(void **arr, size_t *cap, size_t need, size_t size);

/* Appends printf-style text to buf (size len) at *at, keeping *at the length
 * wanted even when buf is full (the caller can tell it was cut). */
void render_cat(char *buf, size_t len, size_t *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if it is not one
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF
 * or cut short by the terminating NUL). */
size_t render_utf8_len(const unsigned char *s);
/* Writes str as a JSON string (RFC 8259 §7): control characters escaped,
 * bytes that are not valid UTF-8 replaced by U+FFFD, so the output is always
 * valid JSON. With in_script, also safe inside an HTML <script>: <, > and &
 * (and every control character, \n included) as \u escapes. NULL is "". */
void render_json_string(FILE *out, const char *str, bool in_script);

#endif
