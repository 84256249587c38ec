/*
 * ckernels.h — the AITrader compute backend protocol.
 *
 * A backend is a table of function pointers (`ck_backend`). Two implementations fill it:
 *   - the CPU backend (CKernels/cpu, OpenBLAS for matrix products), always present: ck_cpu_backend();
 *   - the CUDA backend (CKernels/cuda, hand-written kernels + cuBLAS), built by nvcc into
 *     libaitrader_cuda.so and loaded at run time with ck_load_backend() (dlopen), never linked.
 *
 * Conventions (as in karpathy/llm.c):
 *   - Every pointer to float data is a *backend* pointer, obtained from b->alloc. Swift and C callers never
 *     dereference memory of a non-host backend; they move data with copy_h2d / copy_d2h.
 *   - Arguments: the backend, then outputs, then inputs, then sizes, then hyper-parameters.
 *   - All tensors are fp32, row-major, contiguous unless a leading dimension (ld*) is given.
 *   - Backward functions ACCUMULATE (+=) into every gradient they write — input gradients and parameter
 *     gradients alike — so branches compose (residuals, shared inputs). The caller zeroes gradients.
 *     A NULL gradient pointer means "not needed" and is skipped.
 *   - Every function returns ck_status; CK_OK is 0. On failure b->last_error(b) describes it (for CUDA, with
 *     the CUDA error string). No function aborts the process.
 *   - Layouts follow PyTorch: Linear weight (OUT, IN); Conv1d weight (COUT, CIN, K); LSTM weights
 *     (4H, IN) / (4H, H) with gate order i, f, g, o and two bias vectors.
 *   - Sequences are (B, L, C) — batch, time, channels ("batch_first", channels last).
 *   - Operations on one backend instance are ordered (one stream); `sync` waits for all of them.
 */
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped whenever the table's layout or any signature changes. A loaded library must match exactly. */
#define CK_ABI_VERSION 2

typedef enum ck_status {
    CK_OK = 0,
    CK_ERR_INVALID_ARGUMENT = 1, /* a size, pointer or hyper-parameter out of range */
    CK_ERR_OUT_OF_MEMORY = 2,
    CK_ERR_DEVICE = 3,           /* a CUDA / cuBLAS runtime error; see last_error */
    CK_ERR_UNSUPPORTED = 4,      /* this backend does not implement the requested variant */
    CK_ERR_UNAVAILABLE = 5       /* the backend cannot run here (no driver, no device, ABI mismatch) */
} ck_status;

/** Capability flags (ck_backend.caps). */
enum {
    CK_CAP_HOST_MEMORY = 1u << 0, /* backend pointers are ordinary host pointers */
    CK_CAP_TF32 = 1u << 1,        /* matrix products may use TF32 when enabled with set_option */
    CK_CAP_GRAPHS = 1u << 2       /* recurrent loops can be captured (CUDA graphs) */
};

/** Options for set_option. */
typedef enum ck_option {
    CK_OPT_THREADS = 0,    /* CPU: threads of the backend pool (products and loops); value >= 1 */
    CK_OPT_ALLOW_TF32 = 1, /* CUDA: 0 (default, exact fp32 for parity runs) or 1 */
    CK_OPT_DETERMINISTIC = 2 /* 1: prefer deterministic reductions over speed */
} ck_option;

typedef enum ck_activation {
    CK_ACT_IDENTITY = 0,
    CK_ACT_RELU = 1,
    CK_ACT_GELU = 2,     /* exact: 0.5 x (1 + erf(x / sqrt 2)), PyTorch nn.GELU() default */
    CK_ACT_ELU = 3,      /* alpha = 1 */
    CK_ACT_SIGMOID = 4,
    CK_ACT_TANH = 5,
    CK_ACT_SOFTPLUS = 6  /* beta = 1, threshold = 20: x > 20 returns x, as PyTorch */
} ck_activation;

typedef struct ck_device_info {
    char name[256];            /* "NVIDIA H100 80GB HBM3", or "x86_64, 2 threads, OpenBLAS 0.3.21" */
    uint64_t total_memory;     /* bytes; host RAM for the CPU backend */
    uint64_t free_memory;      /* bytes */
    int compute_major;         /* CUDA compute capability; 0 for CPU */
    int compute_minor;
    int device_index;          /* which GPU this instance drives; 0 for CPU */
    int device_count;          /* GPUs visible to the driver; 0 for CPU */
    int threads;               /* CPU worker threads; 0 for CUDA */
} ck_device_info;

/* Scratch sizes (in floats) that callers must provide to ops that need temporary storage. */
#define CK_LSTM_CACHE_FLOATS(B, L, H) ((size_t)(B) * (size_t)(L) * 5u * (size_t)(H))   /* gates i,f,g,o + cell */
#define CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H) ((size_t)(B) * (size_t)(L) * 4u * (size_t)(H) + 2u * (size_t)(B) * (size_t)(H))
#define CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L) ((size_t)(B) * (size_t)(NH) * (size_t)(L) * (size_t)(L))

typedef struct ck_backend ck_backend;

struct ck_backend {
    uint32_t abi_version; /* CK_ABI_VERSION of the code that filled the table */
    const char *name;     /* "cpu" or "cuda" */
    uint32_t caps;        /* CK_CAP_* */
    void *ctx;            /* implementation private */

    /* ---- lifetime, errors, information ---------------------------------------------------------- */
    const char *(*last_error)(ck_backend *b);                      /* never NULL; "" when none */
    ck_status (*device_info)(ck_backend *b, ck_device_info *out);
    ck_status (*set_option)(ck_backend *b, ck_option option, int value);
    void (*destroy)(ck_backend *b);                                /* no-op for the CPU singleton */

    /* ---- memory --------------------------------------------------------------------------------- */
    ck_status (*alloc)(ck_backend *b, void **ptr, size_t bytes);  /* 256-byte aligned; zero bytes gives NULL */
    ck_status (*free)(ck_backend *b, void *ptr);                  /* NULL is allowed */
    ck_status (*copy_h2d)(ck_backend *b, void *dst, const void *host_src, size_t bytes);
    ck_status (*copy_d2h)(ck_backend *b, void *host_dst, const void *src, size_t bytes);
    ck_status (*copy_d2d)(ck_backend *b, void *dst, const void *src, size_t bytes);
    ck_status (*memset_zero)(ck_backend *b, void *dst, size_t bytes);
    ck_status (*sync)(ck_backend *b);

    /* ---- matrix products ------------------------------------------------------------------------ */
    /** C = alpha * op(A) @ op(B) + beta * C, row-major. op(A) is (M, K), op(B) is (K, N), C is (M, N).
     *  trans_a / trans_b: 0 or 1. lda/ldb/ldc are row strides of A, B, C as stored. */
    ck_status (*gemm)(ck_backend *b, float *C, const float *A, const float *Bm,
                      int M, int N, int K, int trans_a, int trans_b, int lda, int ldb, int ldc,
                      float alpha, float beta);
    /** batch_count independent gemms; matrix i starts at A + i*stride_a (etc). */
    ck_status (*gemm_strided_batched)(ck_backend *b, float *C, const float *A, const float *Bm,
                                      int M, int N, int K, int trans_a, int trans_b, int lda, int ldb, int ldc,
                                      long long stride_a, long long stride_b, long long stride_c,
                                      int batch_count, float alpha, float beta);

    /* ---- linear layer: out (N, OUT) = inp (N, IN) @ weight^T (OUT, IN) + bias (OUT); bias may be NULL -- */
    ck_status (*linear_fwd)(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int N, int IN, int OUT);
    ck_status (*linear_bwd)(ck_backend *b, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight, int N, int IN, int OUT);

    /* ---- broadcast add: x (N, C) += bias (C) in place; backward sums dout over N into dbias ----------- */
    ck_status (*bias_add_fwd)(ck_backend *b, float *x, const float *bias, int N, int C);
    ck_status (*bias_add_bwd)(ck_backend *b, float *dbias, const float *dout, int N, int C);

    /* ---- conv1d, stride 1, 'same' zero padding (K odd, pad = K/2), channels last ---------------------
     *  out (B, L, COUT), inp (B, L, CIN), weight (COUT, CIN, K) as PyTorch, bias (COUT) or NULL.
     *  Equals PyTorch conv1d on inp.transpose(1, 2) with padding = K/2, transposed back. */
    ck_status (*conv1d_fwd)(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int B, int L, int CIN, int COUT, int K);
    ck_status (*conv1d_bwd)(ck_backend *b, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int B, int L, int CIN, int COUT, int K);

    /* ---- LSTM, one layer, one direction, whole sequence ------------------------------------------------
     *  h_out (B, L, H) hidden state at every step; cache (CK_LSTM_CACHE_FLOATS) keeps the activated gates
     *  and cells for backward; inp (B, L, IN); w_ih (4H, IN); w_hh (4H, H); b_ih, b_hh (4H) or NULL;
     *  h0, c0 (B, H) or NULL for zeros. reverse = 1 runs t = L-1 .. 0 (the backward half of a BiLSTM);
     *  the output for step t is still stored at position t. Gate order i, f, g, o as nn.LSTM.
     *  h_final / c_final (B, H) may be NULL. */
    ck_status (*lstm_fwd)(ck_backend *b, float *h_out, float *c_final, float *cache,
                          const float *inp, const float *w_ih, const float *w_hh,
                          const float *b_ih, const float *b_hh, const float *h0, const float *c0,
                          int B, int L, int IN, int H, int reverse);
    /** dh_out (B, L, H) gradient of h_out; dc_final (B, H) or NULL. dh0, dc0 may be NULL.
     *  scratch: CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H) floats. */
    ck_status (*lstm_bwd)(ck_backend *b, float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                          float *dh0, float *dc0, float *scratch,
                          const float *dh_out, const float *dc_final,
                          const float *inp, const float *w_ih, const float *w_hh,
                          const float *h0, const float *c0, const float *cache, const float *h_out,
                          int B, int L, int IN, int H, int reverse);

    /* ---- scaled dot-product multi-head attention ------------------------------------------------------
     *  q, k: (B, L, NH*HS) with row strides ldq, ldk (so they may be column slices of a packed qkv tensor).
     *  probs (B, NH, L, L): softmax(q k^T / sqrt(HS) + mask) per head; kept for backward and interpretation.
     *  mask: NULL, or (L, L) additive (0 or -INFINITY), shared over batch and heads.
     *  Standard (v_shared = 0): v (B, L, NH*HS) stride ldv; out (B, L, NH*HS) stride ldo; head h uses
     *    columns h*HS .. h*HS+HS-1 of q, k, v and out.
     *  Interpretable (v_shared = 1, TFT): v (B, L, HS) stride ldv is shared by all heads and
     *    out (B, L, HS) = mean over heads of probs_h @ v. */
    ck_status (*attention_fwd)(ck_backend *b, float *out, float *probs,
                               const float *q, const float *k, const float *v, const float *mask,
                               int B, int L, int NH, int HS, int ldq, int ldk, int ldv, int ldo, int v_shared);
    /** scratch: CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L) floats. dq/dk/dv use the strides of q/k/v. */
    ck_status (*attention_bwd)(ck_backend *b, float *dq, float *dk, float *dv, float *scratch,
                               const float *dout, const float *q, const float *k, const float *v,
                               const float *probs,
                               int B, int L, int NH, int HS, int ldq, int ldk, int ldv, int ldo, int v_shared);

    /* ---- layer norm over the last dimension: out (N, C); mean, rstd (N) saved for backward ----------- */
    ck_status (*layernorm_fwd)(ck_backend *b, float *out, float *mean, float *rstd,
                               const float *inp, const float *weight, const float *bias, int N, int C, float eps);
    ck_status (*layernorm_bwd)(ck_backend *b, float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int N, int C);

    /* ---- element-wise activations (ck_activation); out may alias inp in forward ----------------------
     *  backward receives both inp and out (each activation uses whichever is cheaper). */
    ck_status (*activation_fwd)(ck_backend *b, float *out, const float *inp, size_t n, ck_activation act);
    ck_status (*activation_bwd)(ck_backend *b, float *dinp, const float *dout, const float *inp, const float *out,
                                size_t n, ck_activation act);

    /* ---- GLU as torch.nn.functional.glu(x, dim=-1): inp (N, 2C) = [a | g], out (N, C) = a * sigmoid(g) */
    ck_status (*glu_fwd)(ck_backend *b, float *out, const float *inp, int N, int C);
    ck_status (*glu_bwd)(ck_backend *b, float *dinp, const float *dout, const float *inp, int N, int C);

    /* ---- dropout with a counter-based mask (Philox4x32-10), reproducible on every backend ---------------
     *  Element i keeps iff u_i >= p, where u_i = (r >> 8) * 2^-24 and r is word (i & 3) of
     *  philox4x32_10(counter = {i >> 2 (low 32), i >> 34 (high 32), offset low 32, offset high 32},
     *                key = {seed low 32, seed high 32}).  Kept values are scaled by 1 / (1 - p).
     *  Backward regenerates the same mask from (seed, offset): no mask is stored. p = 0 copies. */
    ck_status (*dropout_fwd)(ck_backend *b, float *out, const float *inp, size_t n, float p,
                             uint64_t seed, uint64_t offset);
    ck_status (*dropout_bwd)(ck_backend *b, float *dinp, const float *dout, size_t n, float p,
                             uint64_t seed, uint64_t offset);

    /* ---- softmax over the last dimension: out (N, C) ---------------------------------------------------- */
    ck_status (*softmax_fwd)(ck_backend *b, float *out, const float *inp, int N, int C);
    ck_status (*softmax_bwd)(ck_backend *b, float *dinp, const float *dout, const float *out, int N, int C);

    /* ---- pooling over time: inp (B, L, C) -> out (B, C) -------------------------------------------------- */
    ck_status (*mean_pool_fwd)(ck_backend *b, float *out, const float *inp, int B, int L, int C);
    ck_status (*mean_pool_bwd)(ck_backend *b, float *dinp, const float *dout, int B, int L, int C);
    /** selects time step t (0 <= t < L): out[b] = inp[b, t] (last-step pooling uses t = L-1). */
    ck_status (*step_pool_fwd)(ck_backend *b, float *out, const float *inp, int B, int L, int C, int t);
    ck_status (*step_pool_bwd)(ck_backend *b, float *dinp, const float *dout, int B, int L, int C, int t);

    /* ---- element-wise algebra (data movement for concat/split, residuals, gates) ------------------------ */
    /** dst (rows, cols) with row stride ldd  (=|+=)  src (rows, cols) with row stride lds; accumulate 0/1.
     *  Concatenation along the last axis is copy2d into a column offset; its backward is copy2d back. */
    ck_status (*copy2d)(ck_backend *b, float *dst, int ldd, const float *src, int lds, int rows, int cols,
                        int accumulate);
    /** y += alpha * x */
    ck_status (*axpy)(ck_backend *b, float *y, const float *x, float alpha, size_t n);
    /** x = alpha * x + beta (in place) */
    ck_status (*scale_shift)(ck_backend *b, float *x, float alpha, float beta, size_t n);
    /** out = a * b (element-wise); out may alias a or b */
    ck_status (*mul_fwd)(ck_backend *b, float *out, const float *x, const float *y, size_t n);
    ck_status (*mul_bwd)(ck_backend *b, float *dx, float *dy, const float *dout, const float *x, const float *y,
                         size_t n);
    /** rows-times-vector product with broadcasting: out (N, C) = x (N, C) * w (N) (a per-row scale) */
    ck_status (*row_scale_fwd)(ck_backend *b, float *out, const float *x, const float *w, int N, int C);
    ck_status (*row_scale_bwd)(ck_backend *b, float *dx, float *dw, const float *dout, const float *x,
                               const float *w, int N, int C);

    /* ---- N-BEATS block pieces ------------------------------------------------------------------------
     *  Basis expansion of a block's theta through a fixed basis:
     *  out (N, T) (=|+=) theta (N, P) @ basis (P, T); accumulate 0/1 (the doubly residual stack sums
     *  forecasts with accumulate = 1, and subtracts backcasts by calling it with scale = -1). */
    ck_status (*basis_expand_fwd)(ck_backend *b, float *out, const float *theta, const float *basis,
                                  int N, int P, int T, float scale, int accumulate);
    ck_status (*basis_expand_bwd)(ck_backend *b, float *dtheta, const float *dout, const float *basis,
                                  int N, int P, int T, float scale);

    /* ---- distribution losses (per sample; means and weights are the caller's) --------------------------
     *  Beta: loss[i] = -log Beta(y[i] | alpha[i], beta[i])
     *       = lgamma(a) + lgamma(b) - lgamma(a+b) - (a-1) log y - (b-1) log(1-y).
     *  Backward: dalpha[i] += dloss[i] * (digamma(a) - digamma(a+b) - log y), likewise dbeta. */
    ck_status (*beta_nll_fwd)(ck_backend *b, float *loss, const float *alpha, const float *beta, const float *y,
                              int N);
    ck_status (*beta_nll_bwd)(ck_backend *b, float *dalpha, float *dbeta, const float *dloss,
                              const float *alpha, const float *beta, const float *y, int N);
    /** Dirichlet: loss[i] = -log Dir(y[i] | conc[i]) = sum_k lgamma(c_k) - lgamma(sum_k c_k)
     *  - sum_k (c_k - 1) log y_k; conc, y (N, K), y on the simplex with y_k > 0. */
    ck_status (*dirichlet_nll_fwd)(ck_backend *b, float *loss, const float *conc, const float *y, int N, int K);
    ck_status (*dirichlet_nll_bwd)(ck_backend *b, float *dconc, const float *dloss, const float *conc,
                                   const float *y, int N, int K);
    /** Evidential Beta-Bernoulli (Sensoy et al. 2018, eq. 3 + the evidence regulariser), y in [0, 1]:
     *  nll[i] = -log E_{p~Beta(a,b)}[p^y (1-p)^(1-y)] = log(a+b) - y log a - (1-y) log b;
     *  kl[i]  = KL(Beta(a~, b~) || Beta(1, 1)) with the true class's parameter set to 1: a~ = y + (1-y) a,
     *           b~ = (1-y) + y b; KL = lgamma(a~+b~) - lgamma(a~) - lgamma(b~) + (a~-1)(digamma(a~) - digamma(a~+b~))
     *           + (b~-1)(digamma(b~) - digamma(a~+b~)).
     *  Backward: dalpha[i] += dnll[i] * (1/(a+b) - y/a) + dkl[i] * (1-y) * ((a~-1) trigamma(a~)
     *  - (a~+b~-2) trigamma(a~+b~)), likewise dbeta with (1-y)/b and y. kl may be NULL (not computed) and dkl NULL
     *  (no regulariser gradient). */
    ck_status (*evidential_beta_fwd)(ck_backend *b, float *nll, float *kl, const float *alpha, const float *beta,
                                     const float *y, int N);
    ck_status (*evidential_beta_bwd)(ck_backend *b, float *dalpha, float *dbeta, const float *dnll, const float *dkl,
                                     const float *alpha, const float *beta, const float *y, int N);

    /* ---- reductions (results are single floats in backend memory) ---------------------------------------- */
    ck_status (*reduce_sum)(ck_backend *b, float *out, const float *x, size_t n);
    ck_status (*reduce_sum_squares)(ck_backend *b, float *out, const float *x, size_t n);

    /* ---- optimizer -----------------------------------------------------------------------------------
     *  AdamW as torch.optim.AdamW: p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     *  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).  step t >= 1.
     *  grad_scale multiplies every gradient first (1 for none; clipping passes min(1, max_norm / norm)). */
    ck_status (*adamw_step)(ck_backend *b, float *params, float *m, float *v, const float *grads, size_t n,
                            float lr, float beta1, float beta2, float eps, float weight_decay, int t,
                            float grad_scale);
    /** global gradient norm: *norm_out (backend memory) = sqrt(sum g^2) over the whole buffer */
    ck_status (*global_norm)(ck_backend *b, float *norm_out, const float *grads, size_t n);
};

/** The CPU backend (process-wide singleton, never NULL). Threads default to OPENBLAS_NUM_THREADS, else the
 *  number of online CPUs. */
ck_backend *ck_cpu_backend(void);

/** Entry point every backend shared library exports (the CUDA one among them):
 *    ck_status ck_backend_create(int device_index, ck_backend **out, char *err, size_t errlen);
 *  and int ck_backend_abi_version(void). */
typedef ck_status (*ck_backend_create_fn)(int device_index, ck_backend **out, char *err, size_t errlen);
typedef int (*ck_backend_abi_version_fn)(void);

/** dlopen()s a backend library, checks its ABI version, creates an instance on device_index.
 *  On failure returns non-OK and writes the exact reason (dlerror text, ABI mismatch, "no CUDA device", the
 *  CUDA error string) into err. */
ck_status ck_load_backend(const char *library_path, int device_index, ck_backend **out, char *err, size_t errlen);

/** The library half of ck_load_backend without creating an instance: CK_OK when library_path loads, is an
 *  AITrader backend and has this ABI version (whether or not a device is there); else the reason in err. Tells
 *  "this machine has no GPU" (the library is fine) from "the library is broken" (a CI failure). */
ck_status ck_check_backend_library(const char *library_path, char *err, size_t errlen);

/** Philox4x32-10 (Salmon et al., SC'11) as used by dropout; exposed for tests and for other backends. */
void ck_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

#ifdef __cplusplus
}
#endif
#endif /* CKERNELS_H */
