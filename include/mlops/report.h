/**
 * @file
 * libmlops: reports. One JSON document gathering what the database knows of
 * a model — versions with their metrics and intervals, drift of the recent
 * live windows against a version's reference profile with histograms of
 * both, serving counts, arm shares and latency percentiles — and a
 * self-contained HTML page (inline CSS and SVG, no script) rendered from
 * that document alone. docs/report.md gives both formats.
 */
#ifndef MLOPS_REPORT_H
#define MLOPS_REPORT_H

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The report of one model or of all models as JSON; free with mlops_free().
 * `options_json` may be NULL or an object, every key optional: "model" (one
 * model; all when absent), "reference_version" or "alias" (whose reference
 * profile drift is measured against; "production", else the newest version),
 * "stream" (drift windows; "serve:<model>:<version>"), "windows" (recent
 * windows merged as the current data, 1..100000, default 1), "bins" (2..200,
 * default 20), "drift_config" (a mlops_drift_report_profiles() configuration)
 * and "importance" (embedded as given). MLOPS_ENOTFOUND for an unknown model
 * or alias, MLOPS_EFORMAT for bad options (with the $.path). @thread handle
 */
MLOPS_API int mlops_report_json(char **json_out, mlops_db *db, const char *options_json);
/**
 * Render a mlops_report_json() document as one self-contained HTML page
 * (well-formed XHTML-compatible markup); free with mlops_free(). MLOPS_EFORMAT
 * (with the $.path) when the document is not such a report. @thread any
 */
MLOPS_API int mlops_report_html(char **html_out, const char *report_json);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_REPORT_H */
