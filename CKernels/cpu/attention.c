/*
 * attention.c — scaled dot-product multi-head attention, per (batch, head) sgemms on strided views of q, k, v.
 *
 * Forward:  P = softmax(Q K^T / sqrt(HS) + mask);  O = P V  (standard), or  O = mean_h P_h V  (v_shared, TFT).
 * Backward: dP = dO V^T;  dV += P^T dO;  dS = P ⊙ (dP - rowsum(dP ⊙ P));  dQ += dS K / sqrt(HS);
 *           dK += dS^T Q / sqrt(HS).  The scratch holds dP / dS for every (batch, head).
 *
 *     // q, k, v column slices of a packed qkv (B, L, 3D): ld = 3D
 *     cpu->attention_fwd(cpu, out, probs, qkv, qkv + D, qkv + 2 * D, NULL, B, L, NH, HS, 3 * D, 3 * D, 3 * D, D, 0);
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>

/* One head's product: the AVX-512 tiles of small_gemm.c, or OpenBLAS without them. */
static void head_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *Bm, int ldb, float beta, float *C, int ldc) {
    if (!ck_cpu_small_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc))
        ck_cpu_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
}

/* dS = P * (dP - rowsum(dP * P)) in place over the (L, L) block of one head. */
CK_VECTOR_CLONES
static void softmax_backward_rows(float *restrict ds, const float *restrict p, int L) {
    for (int i = 0; i < L; i++) {
        const float *restrict pr = p + (size_t)i * (size_t)L;
        float *restrict dr = ds + (size_t)i * (size_t)L;
        float d = ck_dotf(pr, dr, L);
        for (int j = 0; j < L; j++) dr[j] = pr[j] * (dr[j] - d);
    }
}

static ck_status check_attention(const char *op, int B, int L, int NH, int HS, int ldq, int ldk, int ldv, int ldo,
                                 int v_shared) {
    CK_REQUIRE(B >= 0 && L >= 0 && NH >= 1 && HS >= 1, "%s: need B, L >= 0 and NH, HS >= 1 (B=%d L=%d NH=%d HS=%d)",
               op, B, L, NH, HS);
    CK_REQUIRE(v_shared == 0 || v_shared == 1, "%s: v_shared must be 0 or 1 (got %d)", op, v_shared);
    int D = NH * HS, DV = v_shared ? HS : D;
    CK_REQUIRE(ldq >= D && ldk >= D, "%s: ldq=%d and ldk=%d must be >= NH*HS=%d", op, ldq, ldk, D);
    CK_REQUIRE(ldv >= DV && ldo >= DV, "%s: ldv=%d and ldo=%d must be >= %d", op, ldv, ldo, DV);
    return CK_OK;
}

/* The arguments of one call, shared by the workers that each take a range of batch elements. */
typedef struct attention_args {
    float *out, *probs, *dq, *dk, *dv, *scratch; /* probs: written by forward */
    const float *q, *k, *v, *mask, *dout, *saved_probs; /* saved_probs: read by backward */
    int L, NH, HS, ldq, ldk, ldv, ldo, v_shared;
} attention_args;

/* Work is split over the pool by unit: one (batch element, head) pair, or one batch element when the heads share
 * V (their outputs accumulate into the same rows, in head order). Each unit's products run single-threaded inside
 * its thread, so every head is computed the same way whatever the thread count; with a single unit (B = 1,
 * shared V) the products themselves are split by gemm.c. */
static int attention_units(int B, int NH, int v_shared) { return v_shared ? B : B * NH; }

static void attention_fwd_units(void *ctx, int begin, int end) {
    const attention_args *a = ctx;
    const int L = a->L, NH = a->NH, HS = a->HS;
    const float scale = 1.0f / sqrtf((float)HS);
    const size_t LL = (size_t)L * (size_t)L;
    const int per = a->v_shared ? NH : 1; /* heads per unit */
    for (int unit = begin; unit < end; unit++) {
        const int bi = a->v_shared ? unit : unit / NH, h0 = a->v_shared ? 0 : unit % NH;
        const float *qb = a->q + (size_t)bi * (size_t)L * (size_t)a->ldq;
        const float *kb = a->k + (size_t)bi * (size_t)L * (size_t)a->ldk;
        const float *vb = a->v + (size_t)bi * (size_t)L * (size_t)a->ldv;
        float *ob = a->out + (size_t)bi * (size_t)L * (size_t)a->ldo;
        for (int h = h0; h < h0 + per; h++) {
            float *p = a->probs + ((size_t)bi * (size_t)NH + (size_t)h) * LL;
            head_gemm(0, 1, L, L, HS, scale, qb + h * HS, a->ldq, kb + h * HS, a->ldk, 0.0f, p, L);
            if (a->mask != NULL)
                for (size_t j = 0; j < LL; j++) p[j] += a->mask[j];
            ck_cpu_softmax_rows(p, L, L, L);
            if (a->v_shared) {
                head_gemm(0, 0, L, HS, L, 1.0f / (float)NH, p, L, vb, a->ldv, h == 0 ? 0.0f : 1.0f, ob, a->ldo);
            } else {
                head_gemm(0, 0, L, HS, L, 1.0f, p, L, vb + h * HS, a->ldv, 0.0f, ob + h * HS, a->ldo);
            }
        }
    }
}

static void attention_bwd_units(void *ctx, int begin, int end) {
    const attention_args *a = ctx;
    const int L = a->L, NH = a->NH, HS = a->HS, ldq = a->ldq, ldk = a->ldk, ldv = a->ldv, ldo = a->ldo;
    const float scale = 1.0f / sqrtf((float)HS);
    const float vscale = a->v_shared ? 1.0f / (float)NH : 1.0f;
    const size_t LL = (size_t)L * (size_t)L;
    const int per = a->v_shared ? NH : 1; /* heads per unit: with shared V, dV accumulates over heads in order */
    for (int unit = begin; unit < end; unit++) {
        const int bi = a->v_shared ? unit : unit / NH, h0 = a->v_shared ? 0 : unit % NH;
        const float *qb = a->q + (size_t)bi * (size_t)L * (size_t)ldq;
        const float *kb = a->k + (size_t)bi * (size_t)L * (size_t)ldk;
        const float *vb = a->v + (size_t)bi * (size_t)L * (size_t)ldv;
        const float *gb = a->dout + (size_t)bi * (size_t)L * (size_t)ldo;
        for (int h = h0; h < h0 + per; h++) {
            size_t head = (size_t)bi * (size_t)NH + (size_t)h;
            const float *p = a->saved_probs + head * LL;
            float *ds = a->scratch + head * LL;
            int vcol = a->v_shared ? 0 : h * HS;
            const float *g = gb + vcol;
            /* dP = vscale * dO V^T;  dV += vscale * P^T dO */
            head_gemm(0, 1, L, L, HS, vscale, g, ldo, vb + vcol, ldv, 0.0f, ds, L);
            if (a->dv != NULL)
                head_gemm(1, 0, L, HS, L, vscale, p, L, g, ldo, 1.0f,
                             a->dv + (size_t)bi * (size_t)L * (size_t)ldv + vcol, ldv);
            softmax_backward_rows(ds, p, L);
            if (a->dq != NULL)
                head_gemm(0, 0, L, HS, L, scale, ds, L, kb + h * HS, ldk, 1.0f,
                             a->dq + (size_t)bi * (size_t)L * (size_t)ldq + h * HS, ldq);
            if (a->dk != NULL)
                head_gemm(1, 0, L, HS, L, scale, ds, L, qb + h * HS, ldq, 1.0f,
                             a->dk + (size_t)bi * (size_t)L * (size_t)ldk + h * HS, ldk);
        }
    }
}

ck_status ck_cpu_attention_fwd(ck_backend *b, float *out, float *probs, const float *q, const float *k,
                               const float *v, const float *mask, int B, int L, int NH, int HS, int ldq, int ldk,
                               int ldv, int ldo, int v_shared) {
    (void)b;
    ck_status st = check_attention("attention_fwd", B, L, NH, HS, ldq, ldk, ldv, ldo, v_shared);
    if (st != CK_OK) return st;
    if (B == 0 || L == 0) return CK_OK;
    CK_REQUIRE(out != NULL && probs != NULL && q != NULL && k != NULL && v != NULL,
               "attention_fwd: out, probs, q, k or v is NULL");
    attention_args args = {.out = out, .probs = probs, .q = q, .k = k, .v = v, .mask = mask, .L = L, .NH = NH,
                           .HS = HS, .ldq = ldq, .ldk = ldk, .ldv = ldv, .ldo = ldo, .v_shared = v_shared};
    ck_cpu_parallel_for(attention_units(B, NH, v_shared), 1, attention_fwd_units, &args);
    return CK_OK;
}

ck_status ck_cpu_attention_bwd(ck_backend *b, float *dq, float *dk, float *dv, float *scratch, const float *dout,
                               const float *q, const float *k, const float *v, const float *probs, int B, int L,
                               int NH, int HS, int ldq, int ldk, int ldv, int ldo, int v_shared) {
    (void)b;
    ck_status st = check_attention("attention_bwd", B, L, NH, HS, ldq, ldk, ldv, ldo, v_shared);
    if (st != CK_OK) return st;
    if (B == 0 || L == 0) return CK_OK;
    CK_REQUIRE(scratch != NULL && dout != NULL && q != NULL && k != NULL && v != NULL && probs != NULL,
               "attention_bwd: scratch, dout, q, k, v or probs is NULL");
    attention_args args = {.dq = dq, .dk = dk, .dv = dv, .scratch = scratch, .dout = dout, .q = q, .k = k, .v = v,
                           .saved_probs = probs, .L = L, .NH = NH, .HS = HS, .ldq = ldq, .ldk = ldk, .ldv = ldv, .ldo = ldo,
                           .v_shared = v_shared};
    ck_cpu_parallel_for(attention_units(B, NH, v_shared), 1, attention_bwd_units, &args);
    return CK_OK;
}
