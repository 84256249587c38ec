/*
 * cpu_tests.c — entry point of the CPU backend's C tests (`make -C CKernels/tests cpu`):
 * Philox known answers, finite-difference gradient checks of every op (test_fd*.c), PyTorch parity from
 * fixtures (test_fixtures.c, fixtures written by tools/reference/kernel_fixtures.py), dropout statistics,
 * thread determinism and argument checks (test_misc.c). Prints the largest error per op, then
 * "N passed, N failed".
 *
 *     ./cpu_tests [fixture_dir]     (default: fixtures next to this file, or $CK_FIXTURES)
 */
#include "test_util.h"

#include <cblas.h>

#include <stdlib.h>
#include <string.h>

/* Random123's known-answer vectors for philox4x32_10 (kat_vectors). */
void run_philox_tests(void) {
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

int main(int argc, char **argv) {
    const char *fixtures = argc > 1 ? argv[1] : getenv("CK_FIXTURES");
    if (fixtures == NULL || *fixtures == '\0') fixtures = "fixtures";
    /* Which OpenBLAS kernels serve the products here (OPENBLAS_CORETYPE forces another family; make coretypes). */
    printf("OpenBLAS %s, core %s\n", openblas_get_config(), openblas_get_corename());
    run_philox_tests();
    run_fd_tests();
    run_fixture_tests(fixtures);
    run_misc_tests();
    test_free_all();
    test_print_errors();
    printf("%d passed, %d failed\n", test_passes, test_failures);
    return test_failures == 0 ? 0 : 1;
}
