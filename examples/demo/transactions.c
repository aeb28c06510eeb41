/*
 * The demo's seeded transaction generator; see transactions.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transactions.h"

#define DAY_US 86400000000LL
#define HOUR_US 3600000000LL

static const char *const countries[] = {"DE", "FR", "NL", "IT", "ES", "PL", "AT", "BE", "US", "GB", "TR", "BR"};
#define COUNTRY_COUNT 12
#define HOME_COUNTRIES 8 /* customers live in the first eight */

typedef struct category {
    const char *name;
    double share;      /* of ordinary spending before the shift */
    double amount;     /* multiplier of the customer's spending level */
    int risky;
} category;

static const category categories[] = {
    {"groceries", 0.30, 0.8, 0}, {"restaurants", 0.16, 1.0, 0}, {"fuel", 0.12, 1.4, 0},
    {"fashion", 0.09, 2.0, 0},   {"online", 0.12, 1.1, 0},      {"pharmacy", 0.06, 0.7, 0},
    {"travel", 0.05, 6.0, 0},    {"entertainment", 0.06, 1.3, 0}, {"electronics", 0.03, 5.0, 1},
    {"gambling", 0.01, 2.5, 1},  {"crypto", 0.00, 4.0, 1},
};
#define CATEGORY_COUNT 11
#define CRYPTO 10

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(rng *r)
{
    double u = uniform(r), v = uniform(r);
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static int poisson(rng *r, double rate)
{
    double limit = exp(-rate), product = uniform(r);
    int k = 0;
    while (product > limit) {
        k++;
        product *= uniform(r);
    }
    return k;
}

typedef struct txn {
    int64_t customer;
    int64_t ts;
    double amount;
    int category;
    int country;
    int fraud;
} txn;

typedef struct txn_list {
    txn *items;
    size_t count, capacity;
} txn_list;

static int push(txn_list *list, txn item)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 4096;
        txn *grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown)
            return -1;
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = item;
    return 0;
}

static int by_customer_then_time(const void *a, const void *b)
{
    const txn *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int by_time_then_customer(const void *a, const void *b)
{
    const txn *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->customer < y->customer ? -1 : x->customer > y->customer;
}

static int pick_category(rng *r, int shifted)
{
    double u = uniform(r), total = 0;
    int c;
    if (shifted && u < 0.08)
        return CRYPTO;
    if (shifted)
        u = (u - 0.08) / 0.92;
    for (c = 0; c < CATEGORY_COUNT; c++) {
        total += categories[c].share;
        if (u < total)
            return c;
    }
    return 0;
}

/* Hour of day for ordinary spending: mostly daytime, rarely at night. */
static int64_t daytime_offset(rng *r)
{
    double hour = 13.0 + 3.5 * normal(r);
    if (hour < 0 || hour >= 24)
        hour = uniform(r) * 24.0;
    return (int64_t)(hour * HOUR_US);
}

demo_params demo_default_params(void)
{
    demo_params p;
    p.seed = 2026;
    p.customers = 3000;
    p.days = 181;
    p.start_us = 1767225600LL * 1000000; /* 2026-01-01T00:00:00Z */
    p.shift_day = 151;                   /* 2026-06-01 */
    p.malformed_rows = 12;
    return p;
}

typedef struct customer {
    int home;
    double spend;      /* typical amount */
    double rate;       /* transactions per day */
    int64_t opened;    /* account opening time */
} customer;

static int generate_raw(txn_list *list, customer *people, const demo_params *p, rng *r)
{
    int32_t c, day;
    for (c = 0; c < p->customers; c++) {
        customer *who = &people[c];
        double u = uniform(r);
        int compromised_day = -1;
        who->home = u < 0.4 ? 0 : (int)(1 + uniform(r) * (HOME_COUNTRIES - 1));
        who->spend = exp(3.3 + 0.6 * normal(r));
        who->rate = 0.15 + 0.75 * uniform(r);
        who->opened = p->start_us - (int64_t)(30 + uniform(r) * 3000) * DAY_US;
        if (uniform(r) < 0.12)
            compromised_day = (int)(uniform(r) * p->days);
        for (day = 0; day < p->days; day++) {
            int shifted = day >= p->shift_day;
            int n = poisson(r, who->rate), k;
            for (k = 0; k < n; k++) {
                txn t;
                double foreign_p = shifted ? 0.18 : 0.08;
                t.customer = c + 1;
                t.ts = p->start_us + day * DAY_US + daytime_offset(r);
                t.category = pick_category(r, shifted);
                t.country = uniform(r) < foreign_p ? (int)(uniform(r) * COUNTRY_COUNT) : who->home;
                t.amount = who->spend * categories[t.category].amount * exp(0.5 * normal(r)) * (shifted ? 1.5 : 1.0);
                t.fraud = 0;
                if (push(list, t))
                    return -1;
            }
            if (day == compromised_day) {
                /* A stolen card: a burst abroad, at night, in risky shops, with large amounts. */
                int64_t start = p->start_us + day * DAY_US + (int64_t)(uniform(r) * 24) * HOUR_US;
                int burst = 3 + (int)(uniform(r) * 6);
                for (k = 0; k < burst; k++) {
                    txn t;
                    double risky = uniform(r);
                    t.customer = c + 1;
                    t.ts = start + (int64_t)(uniform(r) * 3 * HOUR_US);
                    t.category = risky < 0.45 ? 8 : risky < 0.7 ? 9 : risky < 0.85 ? 6 : 4;
                    t.country = 8 + (int)(uniform(r) * 4);
                    t.amount = who->spend * (3.0 + 7.0 * uniform(r));
                    t.fraud = uniform(r) < 0.92;
                    if (push(list, t))
                        return -1;
                }
            }
        }
    }
    return 0;
}

/* Label ordinary transactions: a small, learnable base rate of fraud. */
static void label_ordinary(txn_list *list, const customer *people, rng *r)
{
    size_t i;
    for (i = 0; i < list->count; i++) {
        txn *t = &list->items[i];
        const customer *who = &people[t->customer - 1];
        int64_t hour = (t->ts % DAY_US) / HOUR_US;
        double z;
        if (t->fraud)
            continue;
        z = -7.0 + 1.6 * (t->amount > 4.0 * who->spend) + 1.3 * (t->country != who->home) +
            1.1 * (hour < 5) + 1.4 * categories[t->category].risky;
        t->fraud = uniform(r) < 1.0 / (1.0 + exp(-z));
    }
}

int demo_generate(mlops_frame **transactions, mlops_frame **activity, mlops_frame **profiles,
                  const demo_params *p)
{
    txn_list list = {NULL, 0, 0};
    customer *people = calloc((size_t)p->customers, sizeof *people);
    rng r = {p->seed};
    size_t i, n, start;
    int64_t *ids = NULL, *cust = NULL, *ts = NULL, *hour = NULL, *count24 = NULL;
    double *amount = NULL, *sum24 = NULL, *mean30 = NULL, *foreign30 = NULL;
    uint8_t *foreign = NULL, *risky = NULL, *label = NULL, *amount_nulls = NULL;
    const char **category_names = NULL, **country_names = NULL;
    int rc = MLOPS_ENOMEM;

    *transactions = *activity = *profiles = NULL;
    if (!people || generate_raw(&list, people, p, &r))
        goto out_free;
    label_ordinary(&list, people, &r);
    n = list.count;
    ids = malloc(n * sizeof *ids);
    cust = malloc(n * sizeof *cust);
    ts = malloc(n * sizeof *ts);
    hour = malloc(n * sizeof *hour);
    count24 = malloc(n * sizeof *count24);
    amount = malloc(n * sizeof *amount);
    sum24 = malloc(n * sizeof *sum24);
    mean30 = malloc(n * sizeof *mean30);
    foreign30 = malloc(n * sizeof *foreign30);
    foreign = malloc(n);
    risky = malloc(n);
    label = malloc(n);
    amount_nulls = calloc(n, 1);
    category_names = malloc(n * sizeof *category_names);
    country_names = malloc(n * sizeof *country_names);
    if (!ids || !cust || !ts || !hour || !count24 || !amount || !sum24 || !mean30 || !foreign30 || !foreign ||
        !risky || !label || !amount_nulls || !category_names || !country_names)
        goto out_free;

    /* Rolling state of each customer just before each of their transactions. */
    qsort(list.items, n, sizeof(txn), by_customer_then_time);
    if ((rc = mlops_frame_new(activity)))
        goto out_free;
    for (start = 0; start < n;) {
        size_t end = start, j, lo24 = start, lo30 = start;
        double window24 = 0, window30 = 0, foreign_count = 0;
        while (end < n && list.items[end].customer == list.items[start].customer)
            end++;
        for (j = start; j < end; j++) {
            const txn *t = &list.items[j];
            while (list.items[lo24].ts <= t->ts - DAY_US)
                window24 -= list.items[lo24++].amount;
            while (list.items[lo30].ts <= t->ts - 30 * DAY_US) {
                window30 -= list.items[lo30].amount;
                foreign_count -= list.items[lo30].country != people[t->customer - 1].home;
                lo30++;
            }
            cust[j] = t->customer;
            ts[j] = t->ts;
            count24[j] = (int64_t)(j - lo24);
            sum24[j] = window24 > 0 ? window24 : 0;
            mean30[j] = j > lo30 ? window30 / (double)(j - lo30) : 0;
            foreign30[j] = j > lo30 ? foreign_count / (double)(j - lo30) : 0;
            window24 += t->amount;
            window30 += t->amount;
            foreign_count += t->country != people[t->customer - 1].home;
        }
        start = end;
    }
    if ((rc = mlops_frame_add_int64(*activity, "customer_id", cust, NULL, n)) ||
        (rc = mlops_frame_add_int64(*activity, "ts", ts, NULL, n)) ||
        (rc = mlops_frame_add_int64(*activity, "txn_count_24h", count24, NULL, n)) ||
        (rc = mlops_frame_add_float64(*activity, "amount_sum_24h", sum24, NULL, n)) ||
        (rc = mlops_frame_add_float64(*activity, "amount_mean_30d", mean30, NULL, n)) ||
        (rc = mlops_frame_add_float64(*activity, "foreign_share_30d", foreign30, NULL, n)))
        goto out_free;

    /* The transactions themselves, in time order, with a few that break the contract. */
    qsort(list.items, n, sizeof(txn), by_time_then_customer);
    for (i = 0; i < n; i++) {
        const txn *t = &list.items[i];
        ids[i] = (int64_t)i + 1;
        cust[i] = t->customer;
        ts[i] = t->ts;
        amount[i] = round(t->amount * 100.0) / 100.0;
        hour[i] = (t->ts % DAY_US) / HOUR_US;
        category_names[i] = categories[t->category].name;
        country_names[i] = countries[t->country];
        foreign[i] = t->country != people[t->customer - 1].home;
        risky[i] = (uint8_t)categories[t->category].risky;
        label[i] = (uint8_t)t->fraud;
    }
    for (i = 0; i < (size_t)p->malformed_rows && n > 0; i++) {
        size_t row = (size_t)(uniform(&r) * (double)n);
        switch (i % 3) {
        case 0: amount[row] = -amount[row]; break;   /* a refund booked as a payment */
        case 1: country_names[row] = "ZZ"; break;     /* an unknown country code */
        default: amount_nulls[row] = 1; break;        /* a missing amount */
        }
    }
    if ((rc = mlops_frame_new(transactions)) ||
        (rc = mlops_frame_add_int64(*transactions, "txn_id", ids, NULL, n)) ||
        (rc = mlops_frame_add_int64(*transactions, "customer_id", cust, NULL, n)) ||
        (rc = mlops_frame_add_int64(*transactions, "ts", ts, NULL, n)) ||
        (rc = mlops_frame_add_float64(*transactions, "amount", amount, amount_nulls, n)) ||
        (rc = mlops_frame_add_string(*transactions, "category", category_names, n)) ||
        (rc = mlops_frame_add_string(*transactions, "country", country_names, n)) ||
        (rc = mlops_frame_add_int64(*transactions, "hour", hour, NULL, n)) ||
        (rc = mlops_frame_add_bool(*transactions, "is_foreign", foreign, NULL, n)) ||
        (rc = mlops_frame_add_bool(*transactions, "risky", risky, NULL, n)) ||
        (rc = mlops_frame_add_bool(*transactions, "label", label, NULL, n)))
        goto out_free;

    /* One profile per customer, valid from the account's opening. */
    for (i = 0; i < (size_t)p->customers; i++) {
        cust[i] = (int64_t)i + 1;
        ts[i] = people[i].opened;
        amount[i] = round(people[i].spend * 100.0) / 100.0;
        hour[i] = (p->start_us - people[i].opened) / DAY_US;
        country_names[i] = countries[people[i].home];
    }
    n = (size_t)p->customers;
    if ((rc = mlops_frame_new(profiles)) ||
        (rc = mlops_frame_add_int64(*profiles, "customer_id", cust, NULL, n)) ||
        (rc = mlops_frame_add_int64(*profiles, "ts", ts, NULL, n)) ||
        (rc = mlops_frame_add_string(*profiles, "home_country", country_names, n)) ||
        (rc = mlops_frame_add_float64(*profiles, "spend_level", amount, NULL, n)) ||
        (rc = mlops_frame_add_int64(*profiles, "account_age_days", hour, NULL, n)))
        goto out_free;
    rc = MLOPS_OK;
out_free:
    if (rc != MLOPS_OK) {
        mlops_frame_free(*transactions);
        mlops_frame_free(*activity);
        mlops_frame_free(*profiles);
        *transactions = *activity = *profiles = NULL;
    }
    free(list.items);
    free(people);
    free(ids);
    free(cust);
    free(ts);
    free(hour);
    free(count24);
    free(amount);
    free(sum24);
    free(mean30);
    free(foreign30);
    free(foreign);
    free(risky);
    free(label);
    free(amount_nulls);
    free(category_names);
    free(country_names);
    return rc;
}
