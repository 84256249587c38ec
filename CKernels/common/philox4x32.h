/* Philox4x32-10 as an inline function usable from C (the CPU backend, philox.c) and from CUDA device code
 * (CKernels/cuda/dropout.cu), so that a dropout mask drawn from (seed, offset) is bit-identical on every backend.
 *
 *     uint32_t ctr[4] = {0, 0, 0, 0}, key[2] = {0, 0}, out[4];
 *     ck_philox4x32_10_inline(ctr, key, out);   // out = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}
 */
#ifndef CK_PHILOX4X32_H
#define CK_PHILOX4X32_H

#include <stdint.h>

#if defined(__CUDACC__)
#define CK_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define CK_HOST_DEVICE static inline
#endif

#define CK_PHILOX_M0 0xD2511F53u
#define CK_PHILOX_M1 0xCD9E8D57u
#define CK_PHILOX_W0 0x9E3779B9u
#define CK_PHILOX_W1 0xBB67AE85u

/** Ten rounds of Philox4x32 on `counter` under `key` (Salmon et al., SC'11). */
CK_HOST_DEVICE void ck_philox4x32_10_inline(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)CK_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)CK_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += CK_PHILOX_W0;
        k1 += CK_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/** The dropout uniform of element i (see ckernels.h, dropout_fwd): u_i = (r >> 8) * 2^-24, r = word (i & 3) of
 *  philox(counter = {i >> 2, i >> 34, offset lo, offset hi}, key = {seed lo, seed hi}). Fills u for the four
 *  elements 4j .. 4j+3 sharing one Philox call (j = i >> 2). */
CK_HOST_DEVICE void ck_dropout_uniforms4(uint64_t j, uint64_t seed, uint64_t offset, float u[4]) {
    uint32_t ctr[4] = {(uint32_t)j, (uint32_t)(j >> 32), (uint32_t)offset, (uint32_t)(offset >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t r[4];
    ck_philox4x32_10_inline(ctr, key, r);
    for (int w = 0; w < 4; w++) u[w] = (float)(r[w] >> 8) * (1.0f / 16777216.0f);
}

#endif /* CK_PHILOX4X32_H */
