/* CPU backend tests: known answers and finite-difference gradient checks for every op. Run by `make test-c`. */
#include "ckernels.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;
static int passes = 0;

#define CHECK(cond, ...)                                                                                              \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            passes++;                                                                                                 \
        } else {                                                                                                      \
            failures++;                                                                                               \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                     \
            fprintf(stderr, __VA_ARGS__);                                                                             \
            fprintf(stderr, "\n");                                                                                    \
        }                                                                                                             \
    } while (0)

/* Random123's known-answer vectors for philox4x32_10 (kat_vectors). */
static void test_philox_known_answers(void) {
    static const uint32_t cases[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
         0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
        {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
         0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        ck_philox4x32_10(cases[i], cases[i] + 4, out);
        CHECK(memcmp(out, cases[i] + 6, sizeof out) == 0, "philox case %d: got %08x %08x %08x %08x", i, out[0], out[1],
              out[2], out[3]);
    }
}

int main(void) {
    test_philox_known_answers();
    printf("%d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
