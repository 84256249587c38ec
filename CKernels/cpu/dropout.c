/*
 * dropout.c — inverted dropout with a counter-based Philox4x32-10 mask, identical on every backend.
 * Element i keeps iff u_i >= p with u_i = (r >> 8) * 2^-24, r = word (i & 3) of
 * philox({i >> 2, i >> 34, offset lo, offset hi}, {seed lo, seed hi}); kept values are scaled by 1/(1-p).
 * Nothing is stored: backward regenerates the mask from (seed, offset).
 *
 *     cpu->dropout_fwd(cpu, y, x, n, 0.1f, seed, offset);
 *     cpu->dropout_bwd(cpu, dx, dy, n, 0.1f, seed, offset);   // dx += mask * dy / (1 - p)
 */
#include "cpu_internal.h"
#include "cpu_math.h"
#include "../common/philox4x32.h"

#include <string.h>

/* Writes the scale (0 or 1/(1-p)) of elements [base, base+4) into s. */
static inline void mask_block(float s[4], uint64_t block, float p, float keep_scale, const uint32_t key[2],
                              uint64_t offset) {
    uint32_t counter[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)offset, (uint32_t)(offset >> 32)};
    uint32_t r[4];
    ck_philox4x32_10(counter, key, r);
    for (int j = 0; j < 4; j++) {
        float u = (float)(r[j] >> 8) * 0x1p-24f;
        s[j] = u >= p ? keep_scale : 0.0f;
    }
}

typedef struct dropout_job {
    float *out;
    const float *inp;
    float p, keep_scale;
    uint32_t key[2];
    uint64_t offset;
    int accumulate; /* backward: out += mask * inp */
} dropout_job;

/* Scales (0 or keep_scale) of the 64 elements 4*j0 ... 4*j0 + 63: sixteen Philox4x32-10 calls side by side, in
 * lanes the compiler maps onto vector registers (same rounds as philox4x32.h, so the same bits). */
CK_VECTOR_CLONES
static void mask_block16(float *restrict scale, uint64_t j0, float p, float keep_scale, const uint32_t key[2],
                         uint64_t offset) {
    uint32_t c0[16], c1[16], c2[16], c3[16];
    for (int l = 0; l < 16; l++) {
        uint64_t j = j0 + (uint64_t)l;
        c0[l] = (uint32_t)j;
        c1[l] = (uint32_t)(j >> 32);
        c2[l] = (uint32_t)offset;
        c3[l] = (uint32_t)(offset >> 32);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < 16; l++) {
            uint64_t p0 = (uint64_t)CK_PHILOX_M0 * c0[l];
            uint64_t p1 = (uint64_t)CK_PHILOX_M1 * c2[l];
            uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
            uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
            c0[l] = hi1 ^ c1[l] ^ k0;
            c1[l] = lo1;
            c2[l] = hi0 ^ c3[l] ^ k1;
            c3[l] = lo0;
        }
        k0 += CK_PHILOX_W0;
        k1 += CK_PHILOX_W1;
    }
    for (int l = 0; l < 16; l++) {
        scale[4 * l + 0] = (float)(c0[l] >> 8) * 0x1p-24f >= p ? keep_scale : 0.0f;
        scale[4 * l + 1] = (float)(c1[l] >> 8) * 0x1p-24f >= p ? keep_scale : 0.0f;
        scale[4 * l + 2] = (float)(c2[l] >> 8) * 0x1p-24f >= p ? keep_scale : 0.0f;
        scale[4 * l + 3] = (float)(c3[l] >> 8) * 0x1p-24f >= p ? keep_scale : 0.0f;
    }
}

#ifdef CK_AVX512_KERNELS
#include <immintrin.h>
/* hi and lo 32-bit halves of m * c for 16 lanes: vpmuludq multiplies the even lanes; the odd ones are shifted down
 * and multiplied the same way, then the halves are blended back into place. */
CK_TARGET_AVX512 static inline void mul_hilo(__m512i c, __m512i m, __m512i *hi, __m512i *lo) {
    __m512i even = _mm512_mul_epu32(c, m);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);
    *lo = _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
    *hi = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

/* mask_block16 with the Philox rounds written out in AVX-512 (the compiler's version of the portable loop spends
 * ~7 instructions per element on the 64-bit products); same bits. */
CK_TARGET_AVX512 static void mask_block16_avx512(float *restrict scale, uint64_t j0, float p, float keep_scale,
                                                 const uint32_t key[2], uint64_t offset) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    /* counters j0 + l: low words (with carry into the high word when j0's low word wraps) */
    __m512i lo32 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)j0), lanes);
    __mmask16 carry = _mm512_cmplt_epu32_mask(lo32, _mm512_set1_epi32((int)(uint32_t)j0));
    __m512i c0 = lo32;
    __m512i c1 = _mm512_mask_add_epi32(_mm512_set1_epi32((int)(uint32_t)(j0 >> 32)), carry,
                                       _mm512_set1_epi32((int)(uint32_t)(j0 >> 32)), _mm512_set1_epi32(1));
    __m512i c2 = _mm512_set1_epi32((int)(uint32_t)offset), c3 = _mm512_set1_epi32((int)(uint32_t)(offset >> 32));
    const __m512i m0 = _mm512_set1_epi64(CK_PHILOX_M0), m1 = _mm512_set1_epi64(CK_PHILOX_M1);
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        __m512i hi0, lo0, hi1, lo1;
        mul_hilo(c0, m0, &hi0, &lo0);
        mul_hilo(c2, m1, &hi1, &lo1);
        __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32((int)k0));
        __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32((int)k1));
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += CK_PHILOX_W0;
        k1 += CK_PHILOX_W1;
    }
    /* Element 4 (j0 + l) + w takes word w of counter j0 + l: interleave the four word vectors (a 4 x 16 transpose
     * by unpacks and 128-bit shuffles), so the 64 scales come out in element order. */
    __m512i t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    __m512i t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    __m512i a01 = _mm512_shuffle_i32x4(u0, u1, 0x44), a23 = _mm512_shuffle_i32x4(u2, u3, 0x44);
    __m512i b01 = _mm512_shuffle_i32x4(u0, u1, 0xEE), b23 = _mm512_shuffle_i32x4(u2, u3, 0xEE);
    __m512i v[4] = {_mm512_shuffle_i32x4(a01, a23, 0x88), _mm512_shuffle_i32x4(a01, a23, 0xDD),
                    _mm512_shuffle_i32x4(b01, b23, 0x88), _mm512_shuffle_i32x4(b01, b23, 0xDD)};
    const __m512 pv = _mm512_set1_ps(p), ks = _mm512_set1_ps(keep_scale), unit = _mm512_set1_ps(0x1p-24f);
    for (int q = 0; q < 4; q++) {
        __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v[q], 8)), unit);
        _mm512_storeu_ps(scale + 16 * q, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(u, pv, _CMP_GE_OQ), ks));
    }
}

#endif

/* Elements [lo, hi) with lo a multiple of 4 (spans start at multiples of CK_SPAN_BLOCK): the mask depends only on
 * the element index, so any split gives the same result. */
static void dropout_span(void *ctx, size_t lo, size_t hi) {
    const dropout_job *j = ctx;
    float s[64];
    size_t i = lo;
    for (; i + 64 <= hi; i += 64) {
#ifdef CK_AVX512_KERNELS
        if (ck_cpu_has_avx512f()) mask_block16_avx512(s, (uint64_t)i >> 2, j->p, j->keep_scale, j->key, j->offset);
        else
#endif
            mask_block16(s, (uint64_t)i >> 2, j->p, j->keep_scale, j->key, j->offset);
        float *restrict out = j->out + i;
        const float *restrict inp = j->inp + i;
        if (j->accumulate)
            for (int k = 0; k < 64; k++) out[k] += inp[k] * s[k];
        else
            for (int k = 0; k < 64; k++) out[k] = inp[k] * s[k];
    }
    for (; i < hi; i += 4) {
        mask_block(s, (uint64_t)i >> 2, j->p, j->keep_scale, j->key, j->offset);
        size_t m = hi - i < 4 ? hi - i : 4;
        if (j->accumulate)
            for (size_t k = 0; k < m; k++) j->out[i + k] += j->inp[i + k] * s[k];
        else
            for (size_t k = 0; k < m; k++) j->out[i + k] = j->inp[i + k] * s[k];
    }
}

static ck_status check_dropout(const char *op, float p) {
    CK_REQUIRE(p >= 0.0f && p <= 1.0f, "%s: p must be in [0, 1] (got %g)", op, (double)p);
    return CK_OK;
}

ck_status ck_cpu_dropout_fwd(ck_backend *b, float *out, const float *inp, size_t n, float p, uint64_t seed,
                             uint64_t offset) {
    (void)b;
    ck_status st = check_dropout("dropout_fwd", p);
    if (st != CK_OK) return st;
    if (n == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "dropout_fwd: out or inp is NULL");
    if (p == 0.0f) {
        if (out != inp) memmove(out, inp, n * sizeof(float));
        return CK_OK;
    }
    if (p >= 1.0f) { /* every element dropped */
        memset(out, 0, n * sizeof(float));
        return CK_OK;
    }
    dropout_job job = {out, inp, p, 1.0f / (1.0f - p), {(uint32_t)seed, (uint32_t)(seed >> 32)}, offset, 0};
    ck_cpu_parallel_span(n, dropout_span, &job);
    return CK_OK;
}

ck_status ck_cpu_dropout_bwd(ck_backend *b, float *dinp, const float *dout, size_t n, float p, uint64_t seed,
                             uint64_t offset) {
    (void)b;
    ck_status st = check_dropout("dropout_bwd", p);
    if (st != CK_OK) return st;
    if (n == 0 || dinp == NULL || p >= 1.0f) return CK_OK;
    CK_REQUIRE(dout != NULL, "dropout_bwd: dout is NULL");
    if (p == 0.0f) {
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
        return CK_OK;
    }
    dropout_job job = {dinp, dout, p, 1.0f / (1.0f - p), {(uint32_t)seed, (uint32_t)(seed >> 32)}, offset, 1};
    ck_cpu_parallel_span(n, dropout_span, &job);
    return CK_OK;
}
