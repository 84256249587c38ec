/*
 * elementwise.c — element-wise algebra: strided 2-D copies (concatenation / split), axpy, affine rescale,
 * products and per-row scaling, each with its backward where it has one.
 *
 *     // concatenate a (N, 3) and b (N, 5) into ab (N, 8)
 *     cpu->copy2d(cpu, ab, 8, a, 3, N, 3, 0);
 *     cpu->copy2d(cpu, ab + 3, 8, b, 5, N, 5, 0);
 */
#include "cpu_internal.h"

#include <string.h>

ck_status ck_cpu_copy2d(ck_backend *b, float *dst, int ldd, const float *src, int lds, int rows, int cols,
                        int accumulate) {
    (void)b;
    CK_REQUIRE(rows >= 0 && cols >= 0, "copy2d: sizes must be >= 0 (rows=%d cols=%d)", rows, cols);
    CK_REQUIRE(ldd >= cols && lds >= cols, "copy2d: ldd=%d and lds=%d must be >= cols=%d", ldd, lds, cols);
    CK_REQUIRE(accumulate == 0 || accumulate == 1, "copy2d: accumulate must be 0 or 1 (got %d)", accumulate);
    if (rows == 0 || cols == 0) return CK_OK;
    CK_REQUIRE(dst != NULL && src != NULL, "copy2d: dst or src is NULL");
    for (int r = 0; r < rows; r++) {
        float *d = dst + (size_t)r * (size_t)ldd;
        const float *s = src + (size_t)r * (size_t)lds;
        if (accumulate) {
            for (int c = 0; c < cols; c++) d[c] += s[c];
        } else {
            memmove(d, s, (size_t)cols * sizeof(float));
        }
    }
    return CK_OK;
}

ck_status ck_cpu_axpy(ck_backend *b, float *y, const float *x, float alpha, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(y != NULL && x != NULL, "axpy: y or x is NULL");
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
    return CK_OK;
}

ck_status ck_cpu_scale_shift(ck_backend *b, float *x, float alpha, float beta, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(x != NULL, "scale_shift: x is NULL");
    for (size_t i = 0; i < n; i++) x[i] = alpha * x[i] + beta;
    return CK_OK;
}

ck_status ck_cpu_mul_fwd(ck_backend *b, float *out, const float *x, const float *y, size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(out != NULL && x != NULL && y != NULL, "mul_fwd: out, x or y is NULL");
    for (size_t i = 0; i < n; i++) out[i] = x[i] * y[i];
    return CK_OK;
}

ck_status ck_cpu_mul_bwd(ck_backend *b, float *dx, float *dy, const float *dout, const float *x, const float *y,
                         size_t n) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "mul_bwd: dout is NULL");
    if (dx != NULL) {
        CK_REQUIRE(y != NULL, "mul_bwd: y is NULL");
        for (size_t i = 0; i < n; i++) dx[i] += dout[i] * y[i];
    }
    if (dy != NULL) {
        CK_REQUIRE(x != NULL, "mul_bwd: x is NULL");
        for (size_t i = 0; i < n; i++) dy[i] += dout[i] * x[i];
    }
    return CK_OK;
}

ck_status ck_cpu_row_scale_fwd(ck_backend *b, float *out, const float *x, const float *w, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "row_scale_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && x != NULL && w != NULL, "row_scale_fwd: out, x or w is NULL");
    for (int r = 0; r < N; r++) {
        const float *xr = x + (size_t)r * (size_t)C;
        float *o = out + (size_t)r * (size_t)C;
        float s = w[r];
        for (int c = 0; c < C; c++) o[c] = xr[c] * s;
    }
    return CK_OK;
}

ck_status ck_cpu_row_scale_bwd(ck_backend *b, float *dx, float *dw, const float *dout, const float *x,
                               const float *w, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "row_scale_bwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "row_scale_bwd: dout is NULL");
    CK_REQUIRE(dx == NULL || w != NULL, "row_scale_bwd: w is NULL");
    CK_REQUIRE(dw == NULL || x != NULL, "row_scale_bwd: x is NULL");
    for (int r = 0; r < N; r++) {
        const float *g = dout + (size_t)r * (size_t)C;
        if (dx != NULL) {
            float *d = dx + (size_t)r * (size_t)C;
            float s = w[r];
            for (int c = 0; c < C; c++) d[c] += g[c] * s;
        }
        if (dw != NULL) {
            const float *xr = x + (size_t)r * (size_t)C;
            double acc = 0.0;
            for (int c = 0; c < C; c++) acc += (double)g[c] * (double)xr[c];
            dw[r] += (float)acc;
        }
    }
    return CK_OK;
}
