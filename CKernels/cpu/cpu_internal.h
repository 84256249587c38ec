/*
 * cpu_internal.h — shared declarations of the CPU (OpenBLAS) backend. Not a public header.
 *
 * Every op of the ck_backend table has a ck_cpu_<op> function here; cpu_backend.c puts them in the table.
 * Errors: an op that rejects its arguments calls ck_cpu_fail(), which records a message for last_error
 * (per thread) and returns the status, e.g.
 *     CK_REQUIRE(K % 2 == 1, "conv1d_fwd: K must be odd (got %d)", K);
 */
#ifndef CK_CPU_INTERNAL_H
#define CK_CPU_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ckernels.h"

#include <cblas.h>
#include <stddef.h>
#include <stdint.h>

/** Records a formatted error message for last_error and returns `status`. */
ck_status ck_cpu_fail(ck_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CK_REQUIRE(cond, ...)                                                                                         \
    do {                                                                                                              \
        if (!(cond)) return ck_cpu_fail(CK_ERR_INVALID_ARGUMENT, __VA_ARGS__);                                        \
    } while (0)

/** Returns a pointer to a per-thread, grow-only scratch buffer of at least `floats` floats, or NULL when the
 *  allocation fails. Slots 0..CK_CPU_WORKSPACE_SLOTS-1 are independent buffers; an op may use several at once,
 *  but a buffer is only valid until the next call that asks for the same slot. */
#define CK_CPU_WORKSPACE_SLOTS 7 /* 4: gemm.c's matrix-vector path, 5-6: ck_cpu_packed_sgemm's blocks (callable \
                                    from any op) */
float *ck_cpu_workspace(int slot, size_t floats);

/** Threads currently configured (OpenBLAS and the backend's own loops). */
int ck_cpu_threads(void);

/** Runs fn(ctx, begin, end) over [0, n) split into contiguous ranges of at least min_chunk items, on up to
 *  ck_cpu_threads() threads (the caller runs the first range). Work items must be independent, so results do
 *  not depend on the thread count. The threads are a persistent pool (parallel_for.c); a split costs a wake-up
 *  (~10 us), so use it for work of a few hundred microseconds or more. */
typedef void (*ck_cpu_range_fn)(void *ctx, int begin, int end);
void ck_cpu_parallel_for(int n, int min_chunk, ck_cpu_range_fn fn, void *ctx);

/** 1 while the calling thread runs a ck_cpu_parallel_for range (nested splits run inline). */
int ck_cpu_inside_job(void);

/** Element-wise work over [0, n): fn(ctx, begin, end) on contiguous spans that are multiples of CK_SPAN_BLOCK
 *  elements (except the last), split over the pool when n >= CK_SPLIT_ELEMENTS. Every element is computed by
 *  one thread the same way, so results are bit-identical for any thread count. */
#define CK_SPAN_BLOCK 2048
#define CK_SPLIT_ELEMENTS 8192
typedef void (*ck_cpu_span_fn)(void *ctx, size_t begin, size_t end);
void ck_cpu_parallel_span(size_t n, ck_cpu_span_fn fn, void *ctx);

/** Row-wise work over N rows of C values: ck_cpu_parallel_for with ranges of at least CK_SPLIT_ELEMENTS / 2
 *  values per thread (rows are independent). */
static inline void ck_cpu_parallel_rows(int N, int C, ck_cpu_range_fn fn, void *ctx) {
    long long per = (long long)(C > 0 ? C : 1);
    long long min_rows = (CK_SPLIT_ELEMENTS / 2 + per - 1) / per;
    ck_cpu_parallel_for(N, min_rows < 1 ? 1 : (int)min_rows, fn, ctx);
}

/** ck_cpu_parallel_for over n items of per_item values each (column blocks, channels), with at least
 *  CK_SPLIT_ELEMENTS values per thread. */
static inline void ck_cpu_parallel_items(int n, long long per_item, ck_cpu_range_fn fn, void *ctx) {
    long long per = per_item > 0 ? per_item : 1;
    long long min_items = (CK_SPLIT_ELEMENTS + per - 1) / per;
    ck_cpu_parallel_for(n, min_items < 1 ? 1 : (int)min_items, fn, ctx);
}

/** Plain single-precision GEMM on row-major data (no argument checks): C = alpha op(A) op(B) + beta C.
 *  Bit-identical for any thread count: how a product is split depends on its shape alone (gemm.c). */
void ck_cpu_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *Bm, int ldb, float beta, float *C, int ldc);

/** Products of attention-head size on AVX-512 register tiles (small_gemm.c), single-threaded, same arguments as
 *  ck_cpu_sgemm; returns 0 (doing nothing) when the CPU lacks AVX-512, so the caller falls back to ck_cpu_sgemm.
 *  Uses per-thread workspace slot 1 for a transposed B. */
int ck_cpu_small_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *Bm, int ldb, float beta, float *C, int ldc);

/** A right-hand operand packed once for many products (packed_gemm.c): op(B) (K, N) as panels of CK_PANEL
 *  columns, each K rows of CK_PANEL floats, zero-padded past N. */
#define CK_PANEL 32
static inline int ck_cpu_panels(int N) { return N > 0 ? (N + CK_PANEL - 1) / CK_PANEL : 0; }
/** Floats a packed op(B) (K, N) takes. */
size_t ck_cpu_packed_floats(int K, int N);
/** Packs op(B) (K, N) into P (ck_cpu_packed_floats(K, N) floats; 64-byte aligned is best): B itself (K, N) when
 *  trans_b is 0, B stored (N, K) when 1. */
void ck_cpu_pack_b(float *P, const float *Bm, int ldb, int trans_b, int K, int N);
/** ck_cpu_pack_b for panels [p0, p1) only (panels are independent: a pool range can pack its own). */
void ck_cpu_pack_b_panels(float *P, const float *Bm, int ldb, int trans_b, int K, int N, int p0, int p1);
/** A left operand packed for the same products: A (M, K) as tiles of CK_TILE_ROWS rows, tile t = K groups of
 *  CK_TILE_ROWS floats (A[8t + r, k] at (t K + k) 8 + r); ck_cpu_packed_a_floats(M, K) floats. */
#define CK_TILE_ROWS 8
size_t ck_cpu_packed_a_floats(int M, int K);
/** Packs columns [k0, k1) of A (M, K), row stride lda, into Ap (the other columns are left as they are, so
 *  threads can pack disjoint column ranges of one operand). */
void ck_cpu_pack_a_cols(float *Ap, const float *A, int lda, int M, int K, int k0, int k1);
/** C[:, 32 p0 : min(32 p1, N)] = Ap (M, K) @ panels [p0, p1) of P (+ C when beta is 1; beta must be 0 or 1),
 *  single-threaded (call it from a pool range). Each output is one sum over k in order, so it does not depend on
 *  how the panels are split between threads. */
void ck_cpu_packed_gemm(int M, int p0, int p1, int K, const float *Ap, const float *P, int N, float beta,
                        float *C, int ldc);
/** ck_cpu_sgemm's path for products it routes to the packed tiles (A not transposed, alpha 1, beta 0 or 1, M >= 16,
 *  32 <= N <= 512, 16 <= K <= 384, AVX-512): computes C and returns 1, or returns 0 (doing nothing) when the product does
 *  not qualify. Splits over the pool itself; bit-identical for any thread count. Uses workspace slots 5 and 6. */
int ck_cpu_packed_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *Bm, int ldb, float beta, float *C, int ldc);
/** 1 when ck_cpu_packed_gemm runs its AVX-512 tiles here (elsewhere it works, slowly: callers keep OpenBLAS). */
int ck_cpu_packed_gemm_available(void);

/** sums[0:16] = W[0:16, :K] @ x (row stride ldw) on AVX-512, the kernel of ck_cpu_sgemm's 1-row products (same
 *  bits); only where CK_AVX512_KERNELS is defined and ck_cpu_has_avx512f() says so. */
void ck_cpu_gemv_rows16(float *sums, int K, const float *W, int ldw, const float *x);

/** Adds the column sums of x (N, C) with row stride ldx into acc (C), accumulating in double. */
void ck_cpu_column_sums_add(float *acc, const float *x, int N, int C, int ldx);

/* ---- the ops (see ckernels.h for their contracts) ------------------------------------------------------- */
ck_status ck_cpu_gemm(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K, int trans_a,
                      int trans_b, int lda, int ldb, int ldc, float alpha, float beta);
ck_status ck_cpu_gemm_strided_batched(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K,
                                      int trans_a, int trans_b, int lda, int ldb, int ldc, long long stride_a,
                                      long long stride_b, long long stride_c, int batch_count, float alpha,
                                      float beta);

ck_status ck_cpu_linear_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int N, int IN, int OUT);
ck_status ck_cpu_linear_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int N, int IN, int OUT);
ck_status ck_cpu_bias_add_fwd(ck_backend *b, float *x, const float *bias, int N, int C);
ck_status ck_cpu_bias_add_bwd(ck_backend *b, float *dbias, const float *dout, int N, int C);

ck_status ck_cpu_conv1d_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int B, int L, int CIN, int COUT, int K);
ck_status ck_cpu_conv1d_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int B, int L, int CIN, int COUT, int K);

ck_status ck_cpu_lstm_fwd(ck_backend *b, float *h_out, float *c_final, float *cache, const float *inp,
                          const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                          const float *c0, int B, int L, int IN, int H, int reverse);
ck_status ck_cpu_lstm_bwd(ck_backend *b, float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                          float *dh0, float *dc0, float *scratch, const float *dh_out, const float *dc_final,
                          const float *inp, const float *w_ih, const float *w_hh, const float *h0, const float *c0,
                          const float *cache, const float *h_out, int B, int L, int IN, int H, int reverse);

ck_status ck_cpu_attention_fwd(ck_backend *b, float *out, float *probs, const float *q, const float *k,
                               const float *v, const float *mask, int B, int L, int NH, int HS, int ldq, int ldk,
                               int ldv, int ldo, int v_shared);
ck_status ck_cpu_attention_bwd(ck_backend *b, float *dq, float *dk, float *dv, float *scratch, const float *dout,
                               const float *q, const float *k, const float *v, const float *probs, int B, int L,
                               int NH, int HS, int ldq, int ldk, int ldv, int ldo, int v_shared);

ck_status ck_cpu_layernorm_fwd(ck_backend *b, float *out, float *mean, float *rstd, const float *inp,
                               const float *weight, const float *bias, int N, int C, float eps);
ck_status ck_cpu_layernorm_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean, const float *rstd, int N,
                               int C);

ck_status ck_cpu_activation_fwd(ck_backend *b, float *out, const float *inp, size_t n, ck_activation act);
ck_status ck_cpu_activation_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, const float *out,
                                size_t n, ck_activation act);
ck_status ck_cpu_glu_fwd(ck_backend *b, float *out, const float *inp, int N, int C);
ck_status ck_cpu_glu_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, int N, int C);

ck_status ck_cpu_dropout_fwd(ck_backend *b, float *out, const float *inp, size_t n, float p, uint64_t seed,
                             uint64_t offset);
ck_status ck_cpu_dropout_bwd(ck_backend *b, float *dinp, const float *dout, size_t n, float p, uint64_t seed,
                             uint64_t offset);

ck_status ck_cpu_softmax_fwd(ck_backend *b, float *out, const float *inp, int N, int C);
ck_status ck_cpu_softmax_bwd(ck_backend *b, float *dinp, const float *dout, const float *out, int N, int C);
/** Row softmax in place on x (rows, C) with row stride ld; a row whose entries are all -inf becomes zeros. */
void ck_cpu_softmax_rows(float *x, int rows, int C, int ld);

ck_status ck_cpu_mean_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C);
ck_status ck_cpu_mean_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C);
ck_status ck_cpu_step_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C, int t);
ck_status ck_cpu_step_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C, int t);

ck_status ck_cpu_copy2d(ck_backend *b, float *dst, int ldd, const float *src, int lds, int rows, int cols,
                        int accumulate);
ck_status ck_cpu_axpy(ck_backend *b, float *y, const float *x, float alpha, size_t n);
ck_status ck_cpu_scale_shift(ck_backend *b, float *x, float alpha, float beta, size_t n);
ck_status ck_cpu_mul_fwd(ck_backend *b, float *out, const float *x, const float *y, size_t n);
ck_status ck_cpu_mul_bwd(ck_backend *b, float *dx, float *dy, const float *dout, const float *x, const float *y,
                         size_t n);
ck_status ck_cpu_row_scale_fwd(ck_backend *b, float *out, const float *x, const float *w, int N, int C);
ck_status ck_cpu_row_scale_bwd(ck_backend *b, float *dx, float *dw, const float *dout, const float *x,
                               const float *w, int N, int C);

ck_status ck_cpu_basis_expand_fwd(ck_backend *b, float *out, const float *theta, const float *basis, int N, int P,
                                  int T, float scale, int accumulate);
ck_status ck_cpu_basis_expand_bwd(ck_backend *b, float *dtheta, const float *dout, const float *basis, int N, int P,
                                  int T, float scale);

ck_status ck_cpu_beta_nll_fwd(ck_backend *b, float *loss, const float *alpha, const float *beta, const float *y,
                              int N);
ck_status ck_cpu_beta_nll_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dloss, const float *alpha,
                              const float *beta, const float *y, int N);
ck_status ck_cpu_dirichlet_nll_fwd(ck_backend *b, float *loss, const float *conc, const float *y, int N, int K);
ck_status ck_cpu_dirichlet_nll_bwd(ck_backend *b, float *dconc, const float *dloss, const float *conc,
                                   const float *y, int N, int K);
/** Digamma (psi) in double: reflection for x < 0, recurrence up to x >= 10, then the asymptotic series. */
ck_status ck_cpu_evidential_beta_fwd(ck_backend *b, float *nll, float *kl, const float *alpha, const float *beta,
                                     const float *y, int N);
ck_status ck_cpu_evidential_beta_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dnll, const float *dkl,
                                     const float *alpha, const float *beta, const float *y, int N);
double ck_cpu_digamma(double x);
double ck_cpu_trigamma(double x);

/** Sum of squares of x in double (used by reduce_sum_squares and global_norm). */
double ck_cpu_sum_squares_double(const float *x, size_t n);
ck_status ck_cpu_reduce_sum(ck_backend *b, float *out, const float *x, size_t n);
ck_status ck_cpu_reduce_sum_squares(ck_backend *b, float *out, const float *x, size_t n);

ck_status ck_cpu_adamw_step(ck_backend *b, float *params, float *m, float *v, const float *grads, size_t n,
                            float lr, float beta1, float beta2, float eps, float weight_decay, int t,
                            float grad_scale);
ck_status ck_cpu_global_norm(ck_backend *b, float *norm_out, const float *grads, size_t n);

#endif /* CK_CPU_INTERNAL_H */
