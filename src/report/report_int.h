/*
 * Private parts of the report subsystem: the JSON report is assembled from
 * the public registry, drift and serving APIs; the HTML page is rendered from
 * the JSON report alone.
 */
#ifndef MLOPS_REPORT_INT_H
#define MLOPS_REPORT_INT_H

#include "mlops/report.h"
#include "mlops/registry.h"
#include "mlops/drift.h"
#include "mlops/serve.h"
#include "../core/core_int.h"

#define REPORT_SUB "report"

/* Format version of the JSON report. */
#define REPORT_FORMAT_VERSION 1

#endif /* MLOPS_REPORT_INT_H */
