/*
 * nbeats.c — N-BEATS basis expansion: out (N, T) (=|+=) scale * theta (N, P) @ basis (P, T), for the
 * trend (polynomial), seasonality (Fourier) and generic bases; the basis is fixed (no gradient).
 *
 *     cpu->basis_expand_fwd(cpu, forecast, theta_f, basis_f, N, P, T, 1.0f, 1);   // forecast += theta @ basis
 *     cpu->basis_expand_fwd(cpu, residual, theta_b, basis_b, N, P, T, -1.0f, 1);  // residual -= backcast
 */
#include "cpu_internal.h"

ck_status ck_cpu_basis_expand_fwd(ck_backend *b, float *out, const float *theta, const float *basis, int N, int P,
                                  int T, float scale, int accumulate) {
    (void)b;
    CK_REQUIRE(N >= 0 && P >= 0 && T >= 0, "basis_expand_fwd: sizes must be >= 0 (N=%d P=%d T=%d)", N, P, T);
    CK_REQUIRE(accumulate == 0 || accumulate == 1, "basis_expand_fwd: accumulate must be 0 or 1 (got %d)",
               accumulate);
    if (N == 0 || T == 0) return CK_OK;
    CK_REQUIRE(out != NULL && (P == 0 || (theta != NULL && basis != NULL)),
               "basis_expand_fwd: out, theta or basis is NULL");
    ck_cpu_sgemm(0, 0, N, T, P, scale, theta, P > 0 ? P : 1, basis, T, accumulate ? 1.0f : 0.0f, out, T);
    return CK_OK;
}

ck_status ck_cpu_basis_expand_bwd(ck_backend *b, float *dtheta, const float *dout, const float *basis, int N, int P,
                                  int T, float scale) {
    (void)b;
    CK_REQUIRE(N >= 0 && P >= 0 && T >= 0, "basis_expand_bwd: sizes must be >= 0 (N=%d P=%d T=%d)", N, P, T);
    if (N == 0 || P == 0 || dtheta == NULL) return CK_OK;
    CK_REQUIRE(T == 0 || (dout != NULL && basis != NULL), "basis_expand_bwd: dout or basis is NULL");
    /* dtheta (N, P) += scale * dout (N, T) @ basis^T (T, P) */
    ck_cpu_sgemm(0, 1, N, P, T, scale, dout, T > 0 ? T : 1, basis, T > 0 ? T : 1, 1.0f, dtheta, P);
    return CK_OK;
}
