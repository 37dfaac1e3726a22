/*
 * render — what the outputs share: the library's one growth helper and
 * the XML text writer (always well-formed, whatever bytes it is given).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_int.h"

static const char *xml_entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    default:
        return NULL;
    }
}

void render_xml_text(FILE *out, const char *str, bool keep_newlines)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    while (*s) {
        const char *e = xml_entity(*s);
        if (e) {
            fputs(e, out), s++;
        } else if (*s < 0x20) {
            /* XML 1.0 §2.2: of the C0 controls only tab, LF and CR */
            fputc(*s == '\t' || (*s == '\n' && keep_newlines) ? *s : '?', out), s++;
        } else if (*s < 0x80) {
            fputc(*s++, out);
        } else {
            size_t n = render_utf8_len(s);
            bool nonchar = n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe;
            if (n == 0 || nonchar) {
                fputs("\xef\xbf\xbd", out); /* U+FFFD */
                s += n ? n : 1;
            } else {
                fwrite(s, 1, n, out);
                s += n;
            }
        }
    }
}

void *render_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("tcpsim: out of memory writing an output\n", stderr);
        abort();
    }
    return q;
}

void render_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 32;
    while (c < need)
        c *= 2;
    *arr = render_alloc(*arr, c * size);
    *cap = c;
}
