/**
 * @file
 * libmlops: the production-ML loop in one embeddable C library.
 * Umbrella header: includes every public subsystem header.
 */
#ifndef MLOPS_H
#define MLOPS_H

#include "mlops/common.h"
#include "mlops/db.h"
#include "mlops/frame.h"
#include "mlops/registry.h"
#include "mlops/features.h"
#include "mlops/drift.h"
#include "mlops/infer.h"
#include "mlops/train.h"

#include "mlops/serve.h"
#include "mlops/report.h"
#include "mlops/explain.h"

#endif /* MLOPS_H */
