/*
 * rlog_html_assets — the stepper page's style sheet and script, the files
 * rlog_html.css and rlog_html.js compiled in as NUL-terminated strings by
 * rlog_html_embed.cmake (the generated rlog_html_assets.c is in the build
 * folder).
 */
#ifndef RLOG_HTML_ASSETS_H
#define RLOG_HTML_ASSETS_H

extern const char rlog_html_css[];
extern const char rlog_html_js[];

#endif
