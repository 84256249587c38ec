/*
 * elementwise.c — element-wise algebra: strided 2-D copies (concatenation / split), axpy, affine rescale,
 * products and per-row scaling, each with its backward where it has one. Large inputs are split over the
 * thread pool by element spans or rows (each element computed by one thread: results do not depend on the
 * thread count).
 *
 *     // concatenate a (N, 3) and b (N, 5) into ab (N, 8)
 *     cpu->copy2d(cpu, ab, 8, a, 3, N, 3, 0);
 *     cpu->copy2d(cpu, ab + 3, 8, b, 5, N, 5, 0);
 */
#include "cpu_internal.h"

#include <string.h>

/* The arguments of one element-wise call, shared with its span/row functions. */
typedef struct ew_job {
    float *out, *out2;
    const float *a, *b, *c;
    float alpha, beta;
    int ldd, lds, cols, flag;
} ew_job;

static void copy2d_rows(void *ctx, int begin, int end) {
    const ew_job *j = ctx;
    for (int r = begin; r < end; r++) {
        float *d = j->out + (size_t)r * (size_t)j->ldd;
        const float *s = j->a + (size_t)r * (size_t)j->lds;
        if (j->flag) {
            for (int c = 0; c < j->cols; c++) d[c] += s[c];
        } else {
            memmove(d, s, (size_t)j->cols * sizeof(float));
        }
    }
}

ck_status ck_cpu_copy2d(ck_backend *b, float *dst, int ldd, const float *src, int lds, int rows, int cols,
                        int accumulate) {
    (void)b;
    CK_REQUIRE(rows >= 0 && cols >= 0, "copy2d: sizes must be >= 0 (rows=%d cols=%d)", rows, cols);
    CK_REQUIRE(ldd >= cols && lds >= cols, "copy2d: ldd=%d and lds=%d must be >= cols=%d", ldd, lds, cols);
    CK_REQUIRE(accumulate == 0 || accumulate == 1, "copy2d: accumulate must be 0 or 1 (got %d)", accumulate);
    if (rows == 0 || cols == 0) return CK_OK;
    CK_REQUIRE(dst != NULL && src != NULL, "copy2d: dst or src is NULL");
    ew_job job = {.out = dst, .a = src, .ldd = ldd, .lds = lds, .cols = cols, .flag = accumulate};
    /* Overlapping rows (an in-place shift) must run in order: split only when source and destination are
     * disjoint. */
    const float *dst_end = dst + (size_t)(rows - 1) * (size_t)ldd + cols, *src_end = src + (size_t)(rows - 1) * (size_t)lds + cols;
    if (dst_end <= src || src_end <= dst) ck_cpu_parallel_rows(rows, cols, copy2d_rows, &job);
    else copy2d_rows(&job, 0, rows);
    return CK_OK;
}

static void axpy_span(void *ctx, size_t lo, size_t hi) {
    const ew_job *j = ctx;
    float *restrict y = j->out;
    const float *restrict x = j->a;
    for (size_t i = lo; i < hi; i++) y[i] += j->alpha * x[i];
}

ck_status ck_cpu_axpy(ck_backend *b, float *y, const float *x, float alpha, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(y != NULL && x != NULL, "axpy: y or x is NULL");
    ew_job job = {.out = y, .a = x, .alpha = alpha};
    ck_cpu_parallel_span(n, axpy_span, &job);
    return CK_OK;
}

static void scale_shift_span(void *ctx, size_t lo, size_t hi) {
    const ew_job *j = ctx;
    float *restrict x = j->out;
    for (size_t i = lo; i < hi; i++) x[i] = j->alpha * x[i] + j->beta;
}

ck_status ck_cpu_scale_shift(ck_backend *b, float *x, float alpha, float beta, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(x != NULL, "scale_shift: x is NULL");
    ew_job job = {.out = x, .alpha = alpha, .beta = beta};
    ck_cpu_parallel_span(n, scale_shift_span, &job);
    return CK_OK;
}

static void mul_span(void *ctx, size_t lo, size_t hi) {
    const ew_job *j = ctx;
    for (size_t i = lo; i < hi; i++) j->out[i] = j->a[i] * j->b[i];
}

ck_status ck_cpu_mul_fwd(ck_backend *b, float *out, const float *x, const float *y, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(out != NULL && x != NULL && y != NULL, "mul_fwd: out, x or y is NULL");
    ew_job job = {.out = out, .a = x, .b = y};
    ck_cpu_parallel_span(n, mul_span, &job);
    return CK_OK;
}

static void mul_bwd_span(void *ctx, size_t lo, size_t hi) {
    const ew_job *j = ctx; /* out = dx, out2 = dy, a = dout, b = x, c = y */
    if (j->out != NULL)
        for (size_t i = lo; i < hi; i++) j->out[i] += j->a[i] * j->c[i];
    if (j->out2 != NULL)
        for (size_t i = lo; i < hi; i++) j->out2[i] += j->a[i] * j->b[i];
}

ck_status ck_cpu_mul_bwd(ck_backend *b, float *dx, float *dy, const float *dout, const float *x, const float *y,
                         size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "mul_bwd: dout is NULL");
    CK_REQUIRE(dx == NULL || y != NULL, "mul_bwd: y is NULL");
    CK_REQUIRE(dy == NULL || x != NULL, "mul_bwd: x is NULL");
    ew_job job = {.out = dx, .out2 = dy, .a = dout, .b = x, .c = y};
    ck_cpu_parallel_span(n, mul_bwd_span, &job);
    return CK_OK;
}

static void row_scale_rows(void *ctx, int begin, int end) {
    const ew_job *j = ctx; /* out, a = x, b = w */
    for (int r = begin; r < end; r++) {
        const float *xr = j->a + (size_t)r * (size_t)j->cols;
        float *o = j->out + (size_t)r * (size_t)j->cols;
        float s = j->b[r];
        for (int c = 0; c < j->cols; c++) o[c] = xr[c] * s;
    }
}

ck_status ck_cpu_row_scale_fwd(ck_backend *b, float *out, const float *x, const float *w, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "row_scale_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && x != NULL && w != NULL, "row_scale_fwd: out, x or w is NULL");
    ew_job job = {.out = out, .a = x, .b = w, .cols = C};
    ck_cpu_parallel_rows(N, C, row_scale_rows, &job);
    return CK_OK;
}

static void row_scale_bwd_rows(void *ctx, int begin, int end) {
    const ew_job *j = ctx; /* out = dx, out2 = dw, a = dout, b = x, c = w */
    const int C = j->cols;
    for (int r = begin; r < end; r++) {
        const float *g = j->a + (size_t)r * (size_t)C;
        if (j->out != NULL) {
            float *d = j->out + (size_t)r * (size_t)C;
            float s = j->c[r];
            for (int c = 0; c < C; c++) d[c] += g[c] * s;
        }
        if (j->out2 != NULL) {
            const float *xr = j->b + (size_t)r * (size_t)C;
            double acc = 0.0;
            for (int c = 0; c < C; c++) acc += (double)g[c] * (double)xr[c];
            j->out2[r] += (float)acc;
        }
    }
}

ck_status ck_cpu_row_scale_bwd(ck_backend *b, float *dx, float *dw, const float *dout, const float *x,
                               const float *w, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "row_scale_bwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "row_scale_bwd: dout is NULL");
    CK_REQUIRE(dx == NULL || w != NULL, "row_scale_bwd: w is NULL");
    CK_REQUIRE(dw == NULL || x != NULL, "row_scale_bwd: x is NULL");
    ew_job job = {.out = dx, .out2 = dw, .a = dout, .b = x, .c = w, .cols = C};
    ck_cpu_parallel_rows(N, C, row_scale_bwd_rows, &job);
    return CK_OK;
}
