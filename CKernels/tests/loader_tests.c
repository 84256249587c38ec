/* Loader tests: ck_load_backend on libraries that load but cannot run (no device), that have the wrong ABI,
 * that are not backends, that do not exist — each must come back non-OK with the exact reason, never abort.
 * With an argument (the path of a real libaitrader_cuda.so), also checks that the real CUDA library loads on this
 * machine and, with no GPU here, reports why (the fallback path of `--device auto`). Run by `make test-c`. */
#define _POSIX_C_SOURCE 200809L
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passes = 0, failures = 0;

#define CHECK(cond, ...)                                                                                            \
    do {                                                                                                            \
        if (cond) passes++;                                                                                         \
        else {                                                                                                      \
            failures++;                                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                    \
            fprintf(stderr, __VA_ARGS__);                                                                           \
            fprintf(stderr, "\n");                                                                                  \
        }                                                                                                           \
    } while (0)

/* library_ok: what ck_check_backend_library must say (the library itself is usable: only the device is missing). */
static void expect(const char *lib, ck_status want, const char *reason_part, int library_ok) {
    ck_backend *b = (ck_backend *)0x1;
    char err[1024] = "untouched";
    ck_status st = ck_load_backend(lib, 0, &b, err, sizeof err);
    CHECK(st == want, "%s: status %d, want %d (%s)", lib, (int)st, (int)want, err);
    CHECK(b == NULL, "%s: out must be NULL on failure", lib);
    CHECK(strstr(err, reason_part) != NULL, "%s: reason \"%s\" lacks \"%s\"", lib, err, reason_part);
    printf("  %-34s -> %s\n", strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib, err);
    char why[1024] = "untouched";
    ck_status checked = ck_check_backend_library(lib, why, sizeof why);
    CHECK((checked == CK_OK) == library_ok, "%s: library check %d, want %s (%s)", lib, (int)checked,
          library_ok ? "ok" : "a failure", why);
    if (!library_ok) CHECK(strstr(why, reason_part) != NULL, "%s: check reason \"%s\" lacks \"%s\"", lib, why, reason_part);
}

int main(int argc, char **argv) {
    expect("./libfake_nodevice.so", CK_ERR_UNAVAILABLE, "no CUDA-capable device is detected", 1);
    setenv("AITRADER_FAKE_BACKEND_REASON", "cudaGetDeviceCount: cudaErrorInsufficientDriver: custom", 1);
    expect("./libfake_nodevice.so", CK_ERR_UNAVAILABLE, "cudaErrorInsufficientDriver: custom", 1);
    unsetenv("AITRADER_FAKE_BACKEND_REASON");
    expect("./libfake_badabi.so", CK_ERR_UNAVAILABLE, "has backend ABI version 999, this program needs", 0);
    expect("./libfake_noentry.so", CK_ERR_UNAVAILABLE, "is not an AITrader backend", 0);
    expect("./no_such_library.so", CK_ERR_UNAVAILABLE, "cannot load ./no_such_library.so", 0);
    {
        char err[64];
        CHECK(ck_load_backend(NULL, 0, NULL, err, sizeof err) == CK_ERR_INVALID_ARGUMENT, "NULL arguments");
        CHECK(ck_check_backend_library(NULL, err, sizeof err) == CK_ERR_INVALID_ARGUMENT, "NULL library path");
    }
    if (argc > 1) {
        /* The real library: it must load (static cudart, lazily loaded driver) and, on a machine without a GPU,
         * say why. On a GPU machine it creates an instance instead. */
        ck_backend *b = NULL;
        char err[1024] = "";
        ck_status st = ck_load_backend(argv[1], 0, &b, err, sizeof err);
        if (st == CK_OK) {
            ck_device_info info;
            CHECK(b->device_info(b, &info) == CK_OK, "device_info: %s", b->last_error(b));
            printf("  real CUDA library: available: %s\n", info.name);
            b->destroy(b);
            passes++;
        } else {
            CHECK(st == CK_ERR_UNAVAILABLE, "real library: status %d (%s)", (int)st, err);
            CHECK(strstr(err, "cannot load") == NULL, "real library failed to load at all: %s", err);
            CHECK(strlen(err) > 0, "real library: empty reason");
            char why[1024] = "";
            CHECK(ck_check_backend_library(argv[1], why, sizeof why) == CK_OK, "real library is not usable: %s", why);
            printf("  real CUDA library: unavailable: %s\n", err);
        }
    }
    printf("%d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
