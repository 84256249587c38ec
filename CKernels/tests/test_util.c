/* test_util.c — helpers shared by the C backend tests (see test_util.h). */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int test_failures = 0;
int test_passes = 0;

test_rng test_rng_make(uint64_t seed) {
    test_rng r = {seed * 0x9E3779B97F4A7C15ull + 0x1234567ull};
    if (r.state == 0) r.state = 1;
    return r;
}

static uint64_t next_u64(test_rng *r) {
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

float test_uniform(test_rng *r, float lo, float hi) {
    double u = (double)(next_u64(r) >> 11) * 0x1p-53;
    return (float)(lo + (hi - lo) * u);
}

void test_fill(test_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(r, lo, hi);
}

void test_fill_away_from_zero(test_rng *r, float *x, size_t n, float lo, float hi, float gap) {
    for (size_t i = 0; i < n; i++) {
        float v;
        do v = test_uniform(r, lo, hi);
        while (fabsf(v) < gap);
        x[i] = v;
    }
}

enum { MAX_BUFFERS = 4096 };
static float *buffers[MAX_BUFFERS];
static int buffer_count = 0;

float *test_buffer(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (p == NULL || buffer_count == MAX_BUFFERS) {
        fprintf(stderr, "test_buffer: out of memory\n");
        exit(2);
    }
    buffers[buffer_count++] = p;
    return p;
}

void test_free_all(void) {
    for (int i = 0; i < buffer_count; i++) free(buffers[i]);
    buffer_count = 0;
}

typedef struct error_record {
    char op[48];
    char kind[8];
    double max_err;
} error_record;

enum { MAX_RECORDS = 256 };
static error_record records[MAX_RECORDS];
static int record_count = 0;

void test_record_error(const char *op, const char *kind, double err) {
    for (int i = 0; i < record_count; i++) {
        if (strcmp(records[i].op, op) == 0 && strcmp(records[i].kind, kind) == 0) {
            if (!(err <= records[i].max_err)) records[i].max_err = err; /* NaN sticks */
            return;
        }
    }
    if (record_count == MAX_RECORDS) return;
    snprintf(records[record_count].op, sizeof records[record_count].op, "%s", op);
    snprintf(records[record_count].kind, sizeof records[record_count].kind, "%s", kind);
    records[record_count].max_err = err;
    record_count++;
}

void test_print_errors(void) {
    printf("largest relative error per op (fd: finite differences, torch: PyTorch float64 fixtures)\n");
    for (int i = 0; i < record_count; i++)
        printf("  %-22s %-6s %.3e\n", records[i].op, records[i].kind, records[i].max_err);
}

double test_rel_error(const float *got, const float *want, size_t n, double rel_floor, double abs_floor) {
    double maxabs = 0.0;
    for (size_t i = 0; i < n; i++) maxabs = fmax(maxabs, fabs((double)want[i]));
    double floor = rel_floor * maxabs + abs_floor;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (isinf(w) && g == w) continue;
        double e = fabs(g - w) / fmax(fabs(w), floor);
        if (!(e <= worst)) worst = e; /* NaN propagates */
    }
    return worst;
}
