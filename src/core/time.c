/*
 * Clocks and ISO 8601 timestamps. Timestamps are int64 microseconds since the
 * Unix epoch, UTC, everywhere in the library.
 */
#include <stdio.h>
#include <time.h>

#include "core_int.h"

int64_t mlops__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t mlops__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day)
{
    int64_t era, year_of_era, day_of_year, day_of_era;
    year -= month <= 2;
    era = (year >= 0 ? year : year - 399) / 400;
    year_of_era = year - era * 400;
    day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, int64_t *month, int64_t *day)
{
    int64_t era, day_of_era, year_of_era, day_of_year, mp;
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    day_of_era = days - era * 146097;
    year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    mp = (5 * day_of_year + 2) / 153;
    *day = day_of_year - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = year_of_era + era * 400 + (*month <= 2);
}

static int is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Read exactly `count` digits at text[*pos]. */
static int read_digits(int64_t *out, const char *text, size_t len, size_t *pos, int count)
{
    int64_t v = 0;
    int i;
    if (*pos + (size_t)count > len)
        return -1;
    for (i = 0; i < count; i++) {
        char c = text[*pos + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)count;
    *out = v;
    return 0;
}

int mlops__time_parse_iso8601(int64_t *out, const char *text, size_t len)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t year, month, day, hour = 0, minute = 0, second = 0, micros = 0, offset_min = 0;
    size_t pos = 0;

    if (read_digits(&year, text, len, &pos, 4) || pos >= len || text[pos++] != '-' ||
        read_digits(&month, text, len, &pos, 2) || pos >= len || text[pos++] != '-' ||
        read_digits(&day, text, len, &pos, 2))
        return -1;
    if (month < 1 || month > 12 || day < 1 ||
        day > month_days[month - 1] + (month == 2 && is_leap(year)))
        return -1;
    if (pos < len && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
        pos++;
        if (read_digits(&hour, text, len, &pos, 2) || pos >= len || text[pos++] != ':' ||
            read_digits(&minute, text, len, &pos, 2))
            return -1;
        if (pos < len && text[pos] == ':') {
            pos++;
            if (read_digits(&second, text, len, &pos, 2))
                return -1;
            if (pos < len && (text[pos] == '.' || text[pos] == ',')) {
                int64_t scale = 100000;
                pos++;
                if (pos >= len || text[pos] < '0' || text[pos] > '9')
                    return -1;
                while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
                    micros += (text[pos] - '0') * scale;
                    scale /= 10;
                    pos++;
                }
            }
        }
        if (hour > 23 || minute > 59 || second > 59)
            return -1;
        if (pos < len && (text[pos] == 'Z' || text[pos] == 'z')) {
            pos++;
        } else if (pos < len && (text[pos] == '+' || text[pos] == '-')) {
            int sign = text[pos] == '-' ? -1 : 1;
            int64_t oh, om = 0;
            pos++;
            if (read_digits(&oh, text, len, &pos, 2))
                return -1;
            if (pos < len && text[pos] == ':')
                pos++;
            if (pos < len && read_digits(&om, text, len, &pos, 2))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (pos != len)
        return -1;
    *out = ((days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60) *
            1000000) + micros;
    return 0;
}

void mlops__time_format_iso8601(char *out, int64_t us)
{
    int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
    int64_t year, month, day;
    if (rem < 0) {
        rem += 86400000000LL;
        days -= 1;
    }
    civil_from_days(days, &year, &month, &day);
    snprintf(out, MLOPS__TIME_TEXT_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", (long long)year, (int)month,
             (int)day, (int)(rem / 3600000000LL), (int)(rem / 60000000LL % 60), (int)(rem / 1000000 % 60),
             (int)(rem % 1000000));
}
