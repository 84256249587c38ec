/* Error reporting of the CUDA backend: every failure becomes a ck_status plus a readable last_error naming the
 * call and the CUDA / cuBLAS error string. Nothing here aborts. */
#include "ck_cuda.h"

#include <cstdarg>
#include <cstdio>

ck_status ck_cuda_fail(ck_cuda *cu, ck_status code, const char *what, const char *fmt, ...) {
    int used = snprintf(cu->error, sizeof cu->error, "%s: ", what);
    if (used < 0 || (size_t)used >= sizeof cu->error) return code;
    va_list args;
    va_start(args, fmt);
    vsnprintf(cu->error + used, sizeof cu->error - (size_t)used, fmt, args);
    va_end(args);
    return code;
}

ck_status ck_cuda_error(ck_cuda *cu, cudaError_t err, const char *what) {
    ck_status code = (err == cudaErrorMemoryAllocation) ? CK_ERR_OUT_OF_MEMORY : CK_ERR_DEVICE;
    return ck_cuda_fail(cu, code, what, "%s: %s", cudaGetErrorName(err), cudaGetErrorString(err));
}

ck_status ck_cublas_error(ck_cuda *cu, cublasStatus_t st, const char *what) {
    const char *text = cu->api && cu->api->status_string ? cu->api->status_string(st) : "cuBLAS error";
    ck_status code = (st == CUBLAS_STATUS_ALLOC_FAILED) ? CK_ERR_OUT_OF_MEMORY
                     : (st == CUBLAS_STATUS_INVALID_VALUE) ? CK_ERR_INVALID_ARGUMENT
                     : (st == CUBLAS_STATUS_NOT_SUPPORTED) ? CK_ERR_UNSUPPORTED
                                                           : CK_ERR_DEVICE;
    return ck_cuda_fail(cu, code, what, "cuBLAS status %d: %s", (int)st, text);
}

ck_status ck_cuda_launched(ck_cuda *cu, const char *what) {
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return ck_cuda_error(cu, err, what);
    return CK_OK;
}
