/* A stand-in backend library for the loader tests (loader_tests.c) and for the Swift device-selection tests:
 * it loads like libaitrader_cuda.so but, as on a machine without a GPU, ck_backend_create reports
 * CK_ERR_UNAVAILABLE with a reason. Built three ways:
 *   libfake_nodevice.so   (default)                       -> "no CUDA-capable device is detected (fake backend)"
 *   libfake_badabi.so     -DFAKE_ABI=999                  -> ABI mismatch reported by ck_load_backend
 *   libfake_noentry.so    -DFAKE_NO_ENTRY                 -> not a backend (no ck_backend_create)
 * The reason can be overridden at run time with AITRADER_FAKE_BACKEND_REASON. */
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef FAKE_ABI
#define FAKE_ABI CK_ABI_VERSION
#endif

__attribute__((visibility("default"))) int ck_backend_abi_version(void) { return FAKE_ABI; }

#ifndef FAKE_NO_ENTRY
__attribute__((visibility("default"))) ck_status ck_backend_create(int device_index, ck_backend **out, char *err,
                                                                   size_t errlen) {
    (void)device_index;
    if (out) *out = NULL;
    const char *reason = getenv("AITRADER_FAKE_BACKEND_REASON");
    if (err && errlen) snprintf(err, errlen, "%s", reason && *reason ? reason : "no CUDA-capable device is detected (fake backend)");
    return CK_ERR_UNAVAILABLE;
}
#endif
