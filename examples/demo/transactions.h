/*
 * A seeded generator of card transactions for the end-to-end demo: customers
 * with a home country and a spending level, transactions over six months
 * with merchant categories, countries and hours, rolling per-customer
 * aggregates, a fraud label with a learnable structure (compromised cards
 * spend abroad, at night, in bursts, in risky categories), a handful of
 * malformed rows, and a shift in the last month (a new merchant category,
 * larger amounts, more spending abroad).
 *
 * Everything is a pure function of the seed: the same seed gives the same
 * bytes on every machine.
 */
#ifndef DEMO_TRANSACTIONS_H
#define DEMO_TRANSACTIONS_H

#include <mlops.h>

typedef struct demo_params {
    uint64_t seed;
    int32_t customers;      /* e.g. 3000 */
    int32_t days;           /* e.g. 181: January to June */
    int64_t start_us;       /* first day, 00:00 UTC */
    int32_t shift_day;      /* first day of the shifted month */
    int32_t malformed_rows; /* rows that break the data contract */
} demo_params;

/* The defaults used by the demo: seed 2026, 3000 customers, 2026-01-01 to 2026-06-30. */
demo_params demo_default_params(void);

/*
 * Generate the data as three frames (caller frees each):
 *   transactions: txn_id, customer_id, ts (µs), amount, category, country,
 *                 hour, is_foreign, risky (a risky merchant category),
 *                 label — ordered by time; includes the
 *                 malformed rows;
 *   activity:     customer_id, ts, txn_count_24h, amount_sum_24h,
 *                 amount_mean_30d, foreign_share_30d — the customer's state
 *                 just before each transaction, one row per transaction;
 *   profiles:     customer_id, ts (account opening), home_country,
 *                 spend_level, account_age_days.
 * Returns MLOPS_OK or the library's status.
 */
int demo_generate(mlops_frame **transactions, mlops_frame **activity, mlops_frame **profiles,
                  const demo_params *params);

#endif /* DEMO_TRANSACTIONS_H */
