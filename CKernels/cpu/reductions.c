/*
 * reductions.c — whole-buffer sums, accumulated in double; results are single floats in backend memory.
 *
 *     cpu->reduce_sum(cpu, &total, loss, N);
 */
#include "cpu_internal.h"

/* Sum with four double accumulators (keeps the loop vectorisable and the result independent of threads). */
static double sum_double(const float *x, size_t n, int squares) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    if (squares) {
        for (; i + 4 <= n; i += 4) {
            s0 += (double)x[i] * x[i];
            s1 += (double)x[i + 1] * x[i + 1];
            s2 += (double)x[i + 2] * x[i + 2];
            s3 += (double)x[i + 3] * x[i + 3];
        }
        for (; i < n; i++) s0 += (double)x[i] * x[i];
    } else {
        for (; i + 4 <= n; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < n; i++) s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
}

double ck_cpu_sum_squares_double(const float *x, size_t n) { return sum_double(x, n, 1); }

ck_status ck_cpu_reduce_sum(ck_backend *b, float *out, const float *x, size_t n) {
    (void)b;
    CK_REQUIRE(out != NULL, "reduce_sum: out is NULL");
    CK_REQUIRE(n == 0 || x != NULL, "reduce_sum: x is NULL");
    *out = (float)sum_double(x, n, 0);
    return CK_OK;
}

ck_status ck_cpu_reduce_sum_squares(ck_backend *b, float *out, const float *x, size_t n) {
    (void)b;
    CK_REQUIRE(out != NULL, "reduce_sum_squares: out is NULL");
    CK_REQUIRE(n == 0 || x != NULL, "reduce_sum_squares: x is NULL");
    *out = (float)sum_double(x, n, 1);
    return CK_OK;
}
