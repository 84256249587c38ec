/* Philox4x32-10 counter-based random numbers (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11). The rounds live in philox4x32.h, which CKernels/cuda compiles for the device too, so a
 * dropout mask drawn from (seed, offset) is identical on every backend. */
#include "ckernels.h"
#include "philox4x32.h"

void ck_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    ck_philox4x32_10_inline(counter, key, out);
}
