/*
 * cpu_math.h — vectorisable float exp / sigmoid / tanh for the CPU backend's hot loops (LSTM gates, softmax,
 * GLU), after Cephes expf and tanhf (S. Moshier): range reduction x = n ln2 + r, a degree-6 polynomial for e^r,
 * 2^n through the exponent bits; tanh by an odd polynomial below |x| = 0.625, 1 - 2/(e^2|x| + 1) above.
 * Branch-free, so loops over them vectorise; accuracy a few ulp (checked against libm in the C tests).
 * exp underflows to exactly 0 below -87.3 (so a -inf logit gives probability 0) and saturates at e^88.3.
 *
 * CK_VECTOR_CLONES compiles a function for AVX-512, AVX2 and baseline x86-64 and picks one at load time
 * (GNU ifunc), so the binary stays portable while the loops use the machine's vector width.
 */
#ifndef CK_CPU_MATH_H
#define CK_CPU_MATH_H

#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__linux__) && !defined(CK_NO_CLONES)
#define CK_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CK_VECTOR_CLONES
#endif

/* Hand-written AVX-512 kernels (gemm.c, small_gemm.c, linear.c, dropout.c) are compiled where this is defined,
 * each beside a portable version, and chosen at run time by ck_cpu_has_avx512f(). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CK_NO_CLONES)
#define CK_AVX512_KERNELS 1
#define CK_TARGET_AVX512 __attribute__((target("avx512f")))
/* Whether this CPU runs AVX-512F (asked once). */
static inline int ck_cpu_has_avx512f(void) {
    static int state = -1;
    if (state < 0) state = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return state;
}
#endif

static inline float ck_expf(float x) {
    const float lo = -87.3f, hi = 88.3f;
    float xc = x < lo ? lo : (x > hi ? hi : x);
    /* n = floor(x log2 e + 1/2) without a libm call: truncate, then step down for negatives */
    float fx = xc * 1.44269504088896341f + 0.5f;
    float n = (float)(int32_t)fx;
    n = n > fx ? n - 1.0f : n;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
               1.6666665459e-1f) * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {((int32_t)n + 127) << 23};
    float result = y * scale.f;
    return x < lo ? 0.0f : result;
}

static inline float ck_sigmoidf(float x) { return 1.0f / (1.0f + ck_expf(-x)); }

/* e^x - 1 without cancellation near 0: the Taylor series to x^8 for |x| <= 1/2 (truncation < 2.5e-7
 * relative), ck_expf(x) - 1 elsewhere. Branch-free, so loops over it vectorise. */
static inline float ck_expm1f(float x) {
    float p = x * (1.0f + x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720 +
              x * (1.0f / 5040 + x * (1.0f / 40320))))))));
    float e = ck_expf(x) - 1.0f;
    return fabsf(x) <= 0.5f ? p : e;
}

/* erfc(z) for z >= 0 by the Chebyshev fit of Numerical Recipes (erfcc: t e^(-z^2 + P(t)), t = 1/(1 + z/2),
 * fractional error below 1.2e-7 in exact arithmetic), so tails keep their relative accuracy. Branch-free. */
static inline float ck_erfc_nonneg(float z) {
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = -8.2215223e-01f + t * 1.7087277e-01f;
    p = 1.48851587f + t * p;
    p = -1.13520398f + t * p;
    p = 2.7886807e-01f + t * p;
    p = -1.8628806e-01f + t * p;
    p = 9.678418e-02f + t * p;
    p = 3.7409196e-01f + t * p;
    p = 1.00002368f + t * p;
    p = -1.26551223f + t * p;
    return t * ck_expf(p - z * z);
}

/* 2 * Phi(x) = 1 + erf(x / sqrt 2), the doubled standard normal CDF that exact GELU uses (x Phi(x)), with
 * relative accuracy in the left tail (no 1 + erf cancellation). */
static inline float ck_two_normal_cdf(float x) {
    float e = ck_erfc_nonneg(fabsf(x) * 0.70710678118654752f);
    return x >= 0.0f ? 2.0f - e : e;
}

static inline float ck_tanhf(float x) {
    float ax = x < 0.0f ? -x : x;
    /* |x| >= 0.625: 1 - 2 / (e^{2|x|} + 1), sign restored */
    float e = ck_expf(2.0f * ax);
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0.0f ? -big : big;
    /* |x| < 0.625: odd polynomial */
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) *
                       z - 3.33332819422e-1f) * z * x + x;
    return ax < 0.625f ? small : big;
}

/** Independent accumulators of the lane-wise reductions (max, sum, dot): 16 floats = one AVX-512 register. */
#define CK_LANES 16

/** Pairwise sum of CK_LANES partial sums (fixed order). */
static inline float ck_lane_sum(const float lane[CK_LANES]) {
    float a[CK_LANES / 2];
    for (int l = 0; l < CK_LANES / 2; l++) a[l] = lane[l] + lane[l + CK_LANES / 2];
    float b[CK_LANES / 4];
    for (int l = 0; l < CK_LANES / 4; l++) b[l] = a[l] + a[l + CK_LANES / 4];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

/** Dot product of n floats in CK_LANES lanes (vectorisable, same result for any vector width). */
static inline float ck_dotf(const float *restrict x, const float *restrict y, int n) {
    float lane[CK_LANES] = {0};
    int j = 0;
    for (; j + CK_LANES <= n; j += CK_LANES)
        for (int l = 0; l < CK_LANES; l++) lane[l] += x[j + l] * y[j + l];
    float tail = 0.0f;
    for (; j < n; j++) tail += x[j] * y[j];
    return ck_lane_sum(lane) + tail;
}

#endif /* CK_CPU_MATH_H */
