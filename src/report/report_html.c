/*
 * The HTML page of a JSON report: one self-contained, well-formed
 * XHTML-compatible document with inline CSS and SVG and no script. It reads
 * nothing but the report, so every number it shows is one of the report's.
 * Numbers are written as <span class="num" data-v="exact">%.4g</span>,
 * shares as <span class="pct" data-v="exact">%.4g of 100 x share, "%"</span>
 * and counts as <span class="int" data-v="n">n</span>; docs/report.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

#define SERIES_COLOURS 6
static const char *const colours[SERIES_COLOURS] = {"#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444",
                                                    "#0ea5e9"};

static const char style[] =
    ":root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7fb;--card:#fff;--ref:#2563eb;--cur:#f97316;"
    "--ok:#059669;--bad:#dc2626}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,Helvetica,Arial,sans-serif}"
    "header{background:linear-gradient(120deg,#111827,#1e3a8a);color:#fff;padding:28px 40px 70px}"
    "header h1{margin:0;font-size:26px;font-weight:650;letter-spacing:-.01em}"
    "header p{margin:6px 0 0;color:#c7d2fe}"
    "main{max-width:1200px;margin:-48px auto 40px;padding:0 24px}"
    ".cards{display:grid;grid-template-columns:repeat(5,1fr);gap:14px;margin-bottom:22px}"
    ".card{background:var(--card);border-radius:12px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    ".card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}"
    ".card .value{font-size:26px;font-weight:650;margin-top:4px}"
    ".card .value small{font-size:14px;color:var(--muted);font-weight:500}"
    "section.model,section.panel{background:var(--card);border-radius:12px;padding:22px 26px;margin-bottom:22px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    "h2{margin:0 0 2px;font-size:21px}h3{margin:26px 0 10px;font-size:16px;border-bottom:1px solid var(--line);"
    "padding-bottom:6px}"
    ".muted{color:var(--muted)}"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}"
    "th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.04em;border-bottom:1px solid var(--line);padding:6px 8px}"
    "td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:middle}"
    "td.r,th.r{text-align:right}"
    ".badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;"
    "background:#eef2ff;color:#3730a3;margin-right:4px}"
    ".badge.ok{background:#d1fae5;color:var(--ok)}.badge.bad{background:#fee2e2;color:var(--bad)}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}"
    ".feature{border:1px solid var(--line);border-radius:10px;padding:12px 14px}"
    ".feature.drifted{border-color:#fca5a5;background:#fffafa}"
    ".feature .head{display:flex;justify-content:space-between;align-items:center;gap:8px}"
    ".feature .name{font-weight:600;word-break:break-all}"
    ".feature .stat{color:var(--muted);font-size:12.5px;margin:2px 0 6px}"
    "svg text{font:11px system-ui,sans-serif;fill:#6b7280}"
    ".legend{font-size:12px;color:var(--muted)}"
    ".legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}"
    ".unit{text-transform:none}"
    "footer{color:var(--muted);text-align:center;font-size:12px;margin:10px 0 30px}";

/* ---- text and numbers ---------------------------------------------------------------------------- */

static void esc(mlops__buf *b, const char *text)
{
    for (; text != NULL && *text; text++) {
        switch (*text) {
        case '&': mlops__buf_puts(b, "&amp;"); break;
        case '<': mlops__buf_puts(b, "&lt;"); break;
        case '>': mlops__buf_puts(b, "&gt;"); break;
        case '"': mlops__buf_puts(b, "&quot;"); break;
        case '\'': mlops__buf_puts(b, "&#39;"); break;
        default: mlops__buf_putc(b, *text);
        }
    }
}

/* A string member escaped, or `absent`. */
static void esc_node(mlops__buf *b, const mlops__json *node, const char *absent)
{
    esc(b, mlops__json_is_string(node) ? mlops__json_string(node) : absent);
}

static void exact(char *out, size_t cap, double v)
{
    mlops__format_double(out, cap, v);
}

/* A number as "%.4g" with its exact value; a non-number as its text or a dash. */
static void num(mlops__buf *b, const mlops__json *node)
{
    char text[40];
    if (mlops__json_is_number(node)) {
        exact(text, sizeof text, mlops__json_number(node));
        mlops__buf_printf(b, "<span class=\"num\" data-v=\"%s\">%.4g</span>", text, mlops__json_number(node));
    } else {
        esc(b, mlops__json_is_string(node) ? mlops__json_string(node) : "\xe2\x80\x94");
    }
}

static void pct(mlops__buf *b, const mlops__json *node)
{
    char text[40];
    if (!mlops__json_is_number(node)) {
        mlops__buf_puts(b, "\xe2\x80\x94");
        return;
    }
    exact(text, sizeof text, mlops__json_number(node));
    mlops__buf_printf(b, "<span class=\"pct\" data-v=\"%s\">%.4g%%</span>", text, 100.0 * mlops__json_number(node));
}

static void integer(mlops__buf *b, const mlops__json *node)
{
    if (mlops__json_is_number(node))
        mlops__buf_printf(b, "<span class=\"int\" data-v=\"%.0f\">%.0f</span>", mlops__json_number(node),
                          mlops__json_number(node));
    else
        mlops__buf_puts(b, "\xe2\x80\x94");
}

static double number_or(const mlops__json *node, double fallback)
{
    return mlops__json_is_number(node) ? mlops__json_number(node) : fallback;
}

static int check_array(const mlops__json *node, const char *path)
{
    if (node != NULL && !mlops__json_is_array(node))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report: %s: expected an array", path);
    return MLOPS_OK;
}

/* ---- summary ------------------------------------------------------------------------------------- */

static void put_summary(mlops__buf *b, const mlops__json *summary)
{
    /* label, the summary's member, a second member shown as "of N", a unit; counts except for latency */
    static const char *const cards[5][4] = {{"Models", "models", NULL, NULL},
                                            {"Versions", "versions", NULL, NULL},
                                            {"Drifted features", "drifted_features", "features", NULL},
                                            {"Requests served", "requests", NULL, NULL},
                                            {"p99 latency", "p99_us", NULL, "\xc2\xb5s"}};
    size_t i;
    mlops__buf_puts(b, "<section class=\"cards\">");
    for (i = 0; i < 5; i++) {
        mlops__buf_printf(b, "<div class=\"card\"><div class=\"label\">%s</div><div class=\"value\">", cards[i][0]);
        if (cards[i][3] != NULL)
            num(b, mlops__json_get(summary, cards[i][1]));
        else
            integer(b, mlops__json_get(summary, cards[i][1]));
        if (cards[i][2] != NULL) {
            mlops__buf_puts(b, " <small>of ");
            integer(b, mlops__json_get(summary, cards[i][2]));
            mlops__buf_puts(b, "</small>");
        }
        if (cards[i][3] != NULL)
            mlops__buf_printf(b, " <small>%s</small>", cards[i][3]);
        mlops__buf_puts(b, "</div></div>");
    }
    mlops__buf_puts(b, "</section>");
}

/* ---- versions and metrics ------------------------------------------------------------------------ */

/* Range of the values and bounds of metric `name` on `dataset` across the versions, padded. */
static void metric_range(double *lo, double *hi, const mlops__json *versions, const char *name, const char *dataset)
{
    static const char *const keys[3] = {"value", "ci_low", "ci_high"};
    size_t i, j, k;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (i = 0; i < mlops__json_array_size(versions); i++) {
        const mlops__json *metrics = mlops__json_get(mlops__json_at(versions, i), "metrics");
        for (j = 0; j < mlops__json_array_size(metrics); j++) {
            const mlops__json *m = mlops__json_at(metrics, j);
            const char *n = mlops__json_string(mlops__json_get(m, "name"));
            const char *d = mlops__json_string(mlops__json_get(m, "dataset"));
            if (n == NULL || d == NULL || strcmp(n, name) != 0 || strcmp(d, dataset) != 0)
                continue;
            for (k = 0; k < 3; k++) {
                double v = number_or(mlops__json_get(m, keys[k]), NAN);
                *lo = isfinite(v) && v < *lo ? v : *lo;
                *hi = isfinite(v) && v > *hi ? v : *hi;
            }
        }
    }
    if (!(*hi > *lo)) {
        *lo = isfinite(*lo) ? *lo - 1.0 : 0.0;
        *hi = *lo + 2.0;
    }
    *lo -= (*hi - *lo) * 0.08;
    *hi += (*hi - *lo) * 0.08;
}

/* A 140 x 16 bar: the interval as a band, the value as a dot, on the metric's common scale. */
static void interval_bar(mlops__buf *b, const mlops__json *m, double lo, double hi)
{
    double v = number_or(mlops__json_get(m, "value"), NAN);
    double l = number_or(mlops__json_get(m, "ci_low"), v), h = number_or(mlops__json_get(m, "ci_high"), v);
    double scale = 136.0 / (hi - lo);
    mlops__buf_puts(b, "<svg width=\"140\" height=\"16\" viewBox=\"0 0 140 16\" role=\"img\">"
                       "<line x1=\"2\" y1=\"8\" x2=\"138\" y2=\"8\" stroke=\"#e5e7eb\" stroke-width=\"2\"/>");
    if (isfinite(l) && isfinite(h))
        mlops__buf_printf(b, "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"8\" rx=\"4\" fill=\"#93c5fd\"/>",
                          2.0 + (l - lo) * scale, fmax((h - l) * scale, 1.5));
    if (isfinite(v))
        mlops__buf_printf(b, "<circle cx=\"%.1f\" cy=\"8\" r=\"4\" fill=\"#1d4ed8\"/>", 2.0 + (v - lo) * scale);
    mlops__buf_puts(b, "</svg>");
}

static int put_versions(mlops__buf *b, const mlops__json *versions, const char *path)
{
    size_t i, j, k;
    int rc;
    if ((rc = check_array(versions, path)))
        return rc;
    mlops__buf_puts(b, "<h3>Versions and metrics</h3><table><thead><tr><th>version</th><th>aliases</th>"
                       "<th>created</th><th>metric</th><th>dataset</th><th class=\"r\">value</th>"
                       "<th class=\"r\">95% interval</th><th>interval</th></tr></thead><tbody>");
    for (i = 0; i < mlops__json_array_size(versions); i++) {
        const mlops__json *v = mlops__json_at(versions, i), *metrics = mlops__json_get(v, "metrics");
        const mlops__json *aliases = mlops__json_get(v, "aliases");
        size_t rows = mlops__json_array_size(metrics) ? mlops__json_array_size(metrics) : 1;
        for (j = 0; j < rows; j++) {
            const mlops__json *m = mlops__json_at(metrics, j);
            mlops__buf_puts(b, "<tr>");
            if (j == 0) {
                mlops__buf_printf(b, "<td rowspan=\"%zu\"><b>", rows);
                integer(b, mlops__json_get(v, "version"));
                mlops__buf_printf(b, "</b></td><td rowspan=\"%zu\">", rows);
                for (k = 0; k < mlops__json_array_size(aliases); k++) {
                    mlops__buf_puts(b, "<span class=\"badge\">");
                    esc_node(b, mlops__json_at(aliases, k), "");
                    mlops__buf_puts(b, "</span>");
                }
                mlops__buf_printf(b, "</td><td rowspan=\"%zu\" class=\"muted\">", rows);
                esc_node(b, mlops__json_get(v, "created"), "");
                mlops__buf_puts(b, "</td>");
            }
            if (m == NULL) {
                mlops__buf_puts(b, "<td colspan=\"5\" class=\"muted\">no metrics</td></tr>");
                continue;
            }
            mlops__buf_puts(b, "<td>");
            esc_node(b, mlops__json_get(m, "name"), "");
            mlops__buf_puts(b, "</td><td class=\"muted\">");
            esc_node(b, mlops__json_get(m, "dataset"), "");
            mlops__buf_puts(b, "</td><td class=\"r\">");
            num(b, mlops__json_get(m, "value"));
            mlops__buf_puts(b, "</td><td class=\"r\">");
            if (mlops__json_is_number(mlops__json_get(m, "ci_low"))) {
                mlops__buf_putc(b, '[');
                num(b, mlops__json_get(m, "ci_low"));
                mlops__buf_puts(b, ", ");
                num(b, mlops__json_get(m, "ci_high"));
                mlops__buf_putc(b, ']');
            }
            mlops__buf_puts(b, "</td><td>");
            {
                double lo, hi;
                metric_range(&lo, &hi, versions, mlops__json_string(mlops__json_get(m, "name")) ?
                             mlops__json_string(mlops__json_get(m, "name")) : "",
                             mlops__json_string(mlops__json_get(m, "dataset")) ?
                             mlops__json_string(mlops__json_get(m, "dataset")) : "");
                interval_bar(b, m, lo, hi);
            }
            mlops__buf_puts(b, "</td></tr>");
        }
    }
    mlops__buf_puts(b, "</tbody></table>");
    return MLOPS_OK;
}

/* ---- drift --------------------------------------------------------------------------------------- */

#define HIST_W 320.0
#define HIST_H 150.0
#define HIST_LEFT 34.0
#define HIST_TOP 8.0
#define HIST_BOTTOM 30.0

/* Reference and current proportions overlaid on the shared bins, with axes and labels. */
static void histogram(mlops__buf *b, const mlops__json *h)
{
    const mlops__json *edges = mlops__json_get(h, "edges"), *sides[2];
    static const char *const fills[2] = {"var(--ref)", "var(--cur)"};
    size_t bins = mlops__json_array_size(mlops__json_get(h, "reference")), i;
    double top = 0.0, plot_w = HIST_W - HIST_LEFT - 6.0, plot_h = HIST_H - HIST_TOP - HIST_BOTTOM, bw;
    int s;
    sides[0] = mlops__json_get(h, "reference");
    sides[1] = mlops__json_get(h, "current");
    if (bins == 0 || mlops__json_array_size(sides[1]) != bins || mlops__json_array_size(edges) != bins + 1)
        return;
    for (s = 0; s < 2; s++)
        for (i = 0; i < bins; i++)
            top = fmax(top, number_or(mlops__json_at(sides[s], i), 0.0));
    top = top > 0.0 ? top * 1.08 : 1.0;
    bw = plot_w / (double)bins;
    mlops__buf_printf(b, "<svg width=\"100%%\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">", HIST_W, HIST_H);
    for (s = 0; s < 2; s++)
        for (i = 0; i < bins; i++) {
            double v = number_or(mlops__json_at(sides[s], i), 0.0), hgt = plot_h * v / top;
            mlops__buf_printf(b,
                              "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                              "fill-opacity=\"0.45\"/>",
                              HIST_LEFT + bw * (double)i + 0.5, HIST_TOP + plot_h - hgt, bw - 1.0, hgt, fills[s]);
        }
    mlops__buf_printf(b,
                      "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#9ca3af\"/>"
                      "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#9ca3af\"/>",
                      HIST_LEFT, HIST_TOP + plot_h, HIST_LEFT + plot_w, HIST_TOP + plot_h, HIST_LEFT, HIST_TOP,
                      HIST_LEFT, HIST_TOP + plot_h);
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.2g</text>", HIST_LEFT - 4.0,
                      HIST_TOP + 9.0, top);
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>", HIST_LEFT - 4.0,
                      HIST_TOP + plot_h);
    mlops__buf_printf(b, "<text x=\"10\" y=\"%.0f\" transform=\"rotate(-90 10 %.0f)\" text-anchor=\"middle\">"
                         "share</text>",
                      HIST_TOP + plot_h / 2.0, HIST_TOP + plot_h / 2.0);
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"start\">%.4g</text>", HIST_LEFT,
                      HIST_TOP + plot_h + 14.0, number_or(mlops__json_at(edges, 0), 0.0));
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%.4g</text>", HIST_LEFT + plot_w / 2.0,
                      HIST_TOP + plot_h + 14.0, number_or(mlops__json_at(edges, bins / 2), 0.0));
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.4g</text>", HIST_LEFT + plot_w,
                      HIST_TOP + plot_h + 14.0, number_or(mlops__json_at(edges, bins), 0.0));
    mlops__buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">value</text></svg>",
                      HIST_LEFT + plot_w / 2.0, HIST_TOP + plot_h + 27.0);
}

static void verdict(mlops__buf *b, int drifted)
{
    mlops__buf_puts(b, drifted ? "<span class=\"badge bad\">drift</span>" : "<span class=\"badge ok\">stable</span>");
}

static int put_drift(mlops__buf *b, const mlops__json *drift, const char *path)
{
    const mlops__json *dataset = mlops__json_get(drift, "dataset"), *features = mlops__json_get(drift, "features");
    char where[160];
    size_t i;
    int rc;
    mlops__buf_puts(b, "<h3>Drift</h3>");
    if (drift == NULL || !mlops__json_is_object(drift)) {
        mlops__buf_puts(b, "<p class=\"muted\">No drift section.</p>");
        return MLOPS_OK;
    }
    snprintf(where, sizeof where, "%s.features", path);
    if ((rc = check_array(features, where)))
        return rc;
    mlops__buf_puts(b, "<p>Stream <code>");
    esc_node(b, mlops__json_get(drift, "stream"), "");
    mlops__buf_puts(b, "</code> against the reference profile of version ");
    integer(b, mlops__json_get(drift, "reference_version"));
    if (mlops__json_get(drift, "note") != NULL) {
        mlops__buf_puts(b, ": <span class=\"muted\">");
        esc_node(b, mlops__json_get(drift, "note"), "");
        mlops__buf_puts(b, "</span></p>");
        return MLOPS_OK;
    }
    mlops__buf_puts(b, "; ");
    integer(b, mlops__json_get(drift, "windows"));
    mlops__buf_puts(b, " window(s) from ");
    esc_node(b, mlops__json_get(drift, "from"), "?");
    mlops__buf_puts(b, " to ");
    esc_node(b, mlops__json_get(drift, "to"), "?");
    mlops__buf_puts(b, ", ");
    integer(b, mlops__json_get(drift, "rows_current"));
    mlops__buf_puts(b, " rows against ");
    integer(b, mlops__json_get(drift, "rows_reference"));
    mlops__buf_puts(b, ".</p><p>Dataset: ");
    verdict(b, mlops__json_bool(mlops__json_get(dataset, "drifted")));
    integer(b, mlops__json_get(dataset, "drifted_columns"));
    mlops__buf_puts(b, " of ");
    integer(b, mlops__json_get(dataset, "columns"));
    mlops__buf_puts(b, " features drifted (share ");
    pct(b, mlops__json_get(dataset, "share"));
    mlops__buf_puts(b, ", threshold ");
    pct(b, mlops__json_get(dataset, "drift_share"));
    mlops__buf_puts(b, ")</p><p class=\"legend\"><i style=\"background:var(--ref);opacity:.6\"></i>reference"
                       "<i style=\"background:var(--cur);opacity:.6\"></i>current</p><div class=\"grid\">");
    for (i = 0; i < mlops__json_array_size(features); i++) {
        const mlops__json *f = mlops__json_at(features, i);
        int drifted = mlops__json_bool(mlops__json_get(f, "drifted"));
        const mlops__json *p = mlops__json_get(f, "p_value");
        mlops__buf_printf(b, "<div class=\"feature%s\"><div class=\"head\"><span class=\"name\">",
                          drifted ? " drifted" : "");
        esc_node(b, mlops__json_get(f, "name"), "");
        mlops__buf_puts(b, "</span>");
        verdict(b, drifted);
        mlops__buf_puts(b, "</div><div class=\"stat\">");
        esc_node(b, mlops__json_get(f, "test"), "");
        mlops__buf_puts(b, " ");
        num(b, mlops__json_get(f, "statistic"));
        if (mlops__json_is_number(p)) {
            mlops__buf_puts(b, ", p-value ");
            num(b, p);
            mlops__buf_puts(b, " (drift below ");
        } else {
            mlops__buf_puts(b, " (drift at or above ");
        }
        num(b, mlops__json_get(f, "threshold"));
        mlops__buf_puts(b, ")</div>");
        if (mlops__json_is_object(mlops__json_get(f, "histogram")))
            histogram(b, mlops__json_get(f, "histogram"));
        else
            mlops__buf_puts(b, "<p class=\"muted\">no histogram for this column</p>");
        mlops__buf_puts(b, "</div>");
    }
    mlops__buf_puts(b, "</div>");
    return MLOPS_OK;
}

/* ---- serving ------------------------------------------------------------------------------------- */

static void share_bar(mlops__buf *b, const mlops__json *series)
{
    size_t i, n = mlops__json_array_size(series);
    double x = 0.0;
    mlops__buf_puts(b, "<svg width=\"100%\" viewBox=\"0 0 600 26\" role=\"img\">");
    for (i = 0; i < n; i++) {
        double share = number_or(mlops__json_get(mlops__json_at(series, i), "share"), 0.0), w = 600.0 * share;
        mlops__buf_printf(b, "<rect x=\"%.2f\" y=\"2\" width=\"%.2f\" height=\"22\" fill=\"%s\"/>", x, w,
                          colours[i % SERIES_COLOURS]);
        x += w;
    }
    mlops__buf_puts(b, "</svg>");
}

static int put_serving(mlops__buf *b, const mlops__json *serving, const char *path)
{
    static const char *const quantiles[4] = {"p50", "p90", "p99", "mean"};
    const mlops__json *series = mlops__json_get(serving, "series");
    char where[160];
    size_t i, k;
    int rc;
    mlops__buf_puts(b, "<h3>Serving</h3>");
    snprintf(where, sizeof where, "%s.series", path);
    if ((rc = check_array(series, where)))
        return rc;
    if (mlops__json_array_size(series) == 0) {
        mlops__buf_puts(b, "<p class=\"muted\">No serving metrics persisted (mlops_router_metrics_log).</p>");
        return MLOPS_OK;
    }
    mlops__buf_puts(b, "<p>Share of the ");
    integer(b, mlops__json_get(serving, "requests"));
    mlops__buf_puts(b, " requests by version and arm</p>");
    share_bar(b, series);
    mlops__buf_puts(b, "<table><thead><tr><th>version</th><th>arm</th><th class=\"r\">requests</th>"
                       "<th class=\"r\">share</th><th class=\"r\">errors</th><th class=\"r\">p50 <span class=\"unit\">\xc2\xb5s</span></th>"
                       "<th class=\"r\">p90 <span class=\"unit\">\xc2\xb5s</span></th><th class=\"r\">p99 <span class=\"unit\">\xc2\xb5s</span></th>"
                       "<th class=\"r\">mean <span class=\"unit\">\xc2\xb5s</span></th></tr></thead><tbody>");
    for (i = 0; i < mlops__json_array_size(series); i++) {
        const mlops__json *s = mlops__json_at(series, i), *latency = mlops__json_get(s, "latency_us");
        mlops__buf_printf(b, "<tr><td><i style=\"display:inline-block;width:10px;height:10px;border-radius:2px;"
                             "margin-right:6px;background:%s\"></i>",
                          colours[i % SERIES_COLOURS]);
        integer(b, mlops__json_get(s, "version"));
        mlops__buf_puts(b, "</td><td>");
        esc_node(b, mlops__json_get(s, "arm"), "");
        mlops__buf_puts(b, "</td><td class=\"r\">");
        integer(b, mlops__json_get(s, "requests"));
        mlops__buf_puts(b, "</td><td class=\"r\">");
        pct(b, mlops__json_get(s, "share"));
        mlops__buf_puts(b, "</td><td class=\"r\">");
        integer(b, mlops__json_get(s, "errors"));
        for (k = 0; k < 4; k++) {
            mlops__buf_puts(b, "</td><td class=\"r\">");
            num(b, mlops__json_get(latency, quantiles[k]));
        }
        mlops__buf_puts(b, "</td></tr>");
    }
    mlops__buf_puts(b, "</tbody></table>");
    return MLOPS_OK;
}

/* ---- importance ---------------------------------------------------------------------------------- */

static int put_importance(mlops__buf *b, const mlops__json *imp)
{
    const mlops__json *features = mlops__json_get(imp, "features");
    double top = 0.0;
    size_t i, n;
    int rc;
    if (!mlops__json_is_object(imp))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report: $.importance: expected an object");
    if ((rc = check_array(features, "$.importance.features")))
        return rc;
    n = mlops__json_array_size(features);
    for (i = 0; i < n; i++) {
        const mlops__json *f = mlops__json_at(features, i);
        if (!mlops__json_is_string(mlops__json_get(f, "name")) ||
            !mlops__json_is_number(mlops__json_get(f, "importance")))
            return mlops__error(MLOPS_EFORMAT, REPORT_SUB,
                                "report: $.importance.features[%zu]: expected a \"name\" and a numeric \"importance\"",
                                i);
        top = fmax(top, fabs(mlops__json_number(mlops__json_get(f, "importance"))));
    }
    top = top > 0.0 ? top : 1.0;
    mlops__buf_puts(b, "<section class=\"panel\"><h2>Feature importance</h2><p class=\"muted\">");
    esc_node(b, mlops__json_get(imp, "method"), "");
    if (mlops__json_get(imp, "rows") != NULL) {
        mlops__buf_puts(b, " on ");
        integer(b, mlops__json_get(imp, "rows"));
        mlops__buf_puts(b, " rows");
    }
    if (mlops__json_get(imp, "output") != NULL) {
        mlops__buf_puts(b, ", output ");
        integer(b, mlops__json_get(imp, "output"));
    }
    mlops__buf_puts(b, "</p><table><tbody>");
    for (i = 0; i < n; i++) {
        const mlops__json *f = mlops__json_at(features, i);
        double v = mlops__json_number(mlops__json_get(f, "importance")), se;
        se = number_or(mlops__json_get(f, "std_error"), 0.0);
        mlops__buf_puts(b, "<tr><td style=\"width:28%\">");
        esc_node(b, mlops__json_get(f, "name"), "");
        mlops__buf_puts(b, "</td><td><svg width=\"100%\" viewBox=\"0 0 500 18\" role=\"img\">");
        mlops__buf_printf(b, "<rect x=\"0\" y=\"3\" width=\"%.2f\" height=\"12\" rx=\"3\" fill=\"%s\"/>",
                          500.0 * fabs(v) / top, v < 0 ? "#9ca3af" : "#6366f1");
        if (se > 0.0)
            mlops__buf_printf(b, "<line x1=\"%.2f\" y1=\"9\" x2=\"%.2f\" y2=\"9\" stroke=\"#111827\"/>",
                              fmax(500.0 * (fabs(v) - se) / top, 0.0), fmin(500.0 * (fabs(v) + se) / top, 500.0));
        mlops__buf_puts(b, "</svg></td><td class=\"r\" style=\"width:18%\">");
        num(b, mlops__json_get(f, "importance"));
        if (mlops__json_get(f, "std_error") != NULL) {
            mlops__buf_puts(b, " \xc2\xb1 ");
            num(b, mlops__json_get(f, "std_error"));
        }
        mlops__buf_puts(b, "</td></tr>");
    }
    mlops__buf_puts(b, "</tbody></table></section>");
    return MLOPS_OK;
}

/* ---- page ---------------------------------------------------------------------------------------- */

static int put_model(mlops__buf *b, const mlops__json *model, size_t index)
{
    char path[64];
    int rc;
    snprintf(path, sizeof path, "$.models[%zu]", index);
    if (!mlops__json_is_object(model) || !mlops__json_is_string(mlops__json_get(model, "name")))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report: %s.name: expected a string", path);
    mlops__buf_puts(b, "<section class=\"model\"><h2>");
    esc_node(b, mlops__json_get(model, "name"), "");
    mlops__buf_puts(b, "</h2><p class=\"muted\">");
    esc_node(b, mlops__json_get(model, "description"), "");
    mlops__buf_puts(b, "</p>");
    snprintf(path, sizeof path, "$.models[%zu].versions", index);
    if ((rc = put_versions(b, mlops__json_get(model, "versions"), path)))
        return rc;
    snprintf(path, sizeof path, "$.models[%zu].drift", index);
    if ((rc = put_drift(b, mlops__json_get(model, "drift"), path)))
        return rc;
    snprintf(path, sizeof path, "$.models[%zu].serving", index);
    if ((rc = put_serving(b, mlops__json_get(model, "serving"), path)))
        return rc;
    mlops__buf_puts(b, "</section>");
    return MLOPS_OK;
}

static int put_page(mlops__buf *b, const mlops__json *doc)
{
    const mlops__json *models = mlops__json_get(doc, "models");
    size_t i;
    int rc;
    if (!mlops__json_is_object(doc))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report: $: expected an object");
    if (!mlops__json_is_array(models))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report: $.models: expected an array");
    mlops__buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
                       "<title>libmlops report</title><style>");
    mlops__buf_puts(b, style);
    mlops__buf_puts(b, "</style></head><body><header><h1>Model report</h1><p>Database <code>");
    esc_node(b, mlops__json_get(doc, "database"), "");
    mlops__buf_puts(b, "</code> \xc2\xb7 generated ");
    esc_node(b, mlops__json_get(doc, "generated"), "");
    mlops__buf_puts(b, "</p></header><main>");
    put_summary(b, mlops__json_get(doc, "summary"));
    if (mlops__json_get(doc, "importance") != NULL && (rc = put_importance(b, mlops__json_get(doc, "importance"))))
        return rc;
    for (i = 0; i < mlops__json_array_size(models); i++)
        if ((rc = put_model(b, mlops__json_at(models, i), i)))
            return rc;
    mlops__buf_printf(b, "<footer>libmlops %s</footer></main></body></html>\n", mlops_version());
    return MLOPS_OK;
}

int mlops_report_html(char **html_out, const char *report_json)
{
    mlops__json *doc = NULL;
    mlops__buf b;
    int rc;
    if (html_out == NULL)
        return mlops__error_null(REPORT_SUB, "mlops_report_html", "html_out");
    *html_out = NULL;
    if (report_json == NULL)
        return mlops__error_null(REPORT_SUB, "mlops_report_html", "report_json");
    if ((rc = mlops__json_parse(&doc, report_json, REPORT_SUB, "report")))
        return rc;
    mlops__buf_init(&b);
    if ((rc = put_page(&b, doc)) == MLOPS_OK && (rc = mlops__buf_status(&b, REPORT_SUB)) == MLOPS_OK)
        *html_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    mlops__json_free(doc);
    return rc;
}
