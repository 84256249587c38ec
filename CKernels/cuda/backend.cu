/* The CUDA backend's entry points (ck_backend_abi_version, ck_backend_create) and its lifetime, information,
 * option and memory functions. Loaded by ck_load_backend (CKernels/common/loader.c):
 *
 *     ck_backend *gpu; char why[512];
 *     if (ck_load_backend("libaitrader_cuda.so", 0, &gpu, why, sizeof why) != CK_OK) puts(why);
 *
 * Without a driver or device, ck_backend_create returns CK_ERR_UNAVAILABLE with the CUDA runtime's reason
 * ("cudaGetDeviceCount: cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime
 * version", "... no CUDA-capable device is detected"); the runtime is linked statically and loads libcuda.so.1
 * lazily, so the library itself always loads. */
#include "ck_cuda.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#define CK_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

static const char *cuda_last_error(ck_backend *b) { return ck_cuda_of(b)->error; }

static ck_status cuda_device_info(ck_backend *b, ck_device_info *out) {
    ck_cuda *cu = ck_cuda_of(b);
    if (out == nullptr) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "device_info", "NULL output");
    memset(out, 0, sizeof *out);
    cudaDeviceProp prop;
    CK_TRY_CUDA(cu, cudaGetDeviceProperties(&prop, cu->device));
    CK_TRY_CUDA(cu, cudaSetDevice(cu->device));
    size_t free_bytes = 0, total_bytes = 0;
    CK_TRY_CUDA(cu, cudaMemGetInfo(&free_bytes, &total_bytes));
    int count = 0;
    CK_TRY_CUDA(cu, cudaGetDeviceCount(&count));
    snprintf(out->name, sizeof out->name, "%s", prop.name);
    out->total_memory = total_bytes;
    out->free_memory = free_bytes;
    out->compute_major = prop.major;
    out->compute_minor = prop.minor;
    out->device_index = cu->device;
    out->device_count = count;
    out->threads = 0;
    return CK_OK;
}

static ck_status apply_math_mode(ck_cuda *cu) {
    cublasMath_t mode = cu->allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    cublasStatus_t st = cu->api->set_math_mode(cu->blas, mode);
    return st == CUBLAS_STATUS_SUCCESS ? CK_OK : ck_cublas_error(cu, st, "cublasSetMathMode");
}

static ck_status cuda_set_option(ck_backend *b, ck_option option, int value) {
    ck_cuda *cu = ck_cuda_of(b);
    switch (option) {
    case CK_OPT_ALLOW_TF32:
        if (value != 0 && value != 1)
            return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "set_option", "CK_OPT_ALLOW_TF32 takes 0 or 1, got %d", value);
        cu->allow_tf32 = value == 1;
        return apply_math_mode(cu);
    case CK_OPT_DETERMINISTIC:
        if (value != 0 && value != 1)
            return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "set_option", "CK_OPT_DETERMINISTIC takes 0 or 1, got %d", value);
        /* Every reduction of this backend already runs in a fixed order (no floating-point atomics); the flag
         * is recorded so that a future atomics-based fast path can honour it. */
        cu->deterministic = value == 1;
        return CK_OK;
    case CK_OPT_THREADS:
        return ck_cuda_fail(cu, CK_ERR_UNSUPPORTED, "set_option", "CK_OPT_THREADS applies to the CPU backend only");
    }
    return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "set_option", "unknown option %d", (int)option);
}

static void cuda_destroy(ck_backend *b) {
    if (b == nullptr) return;
    ck_cuda *cu = ck_cuda_of(b);
    cudaSetDevice(cu->device);
    if (cu->stream) cudaStreamSynchronize(cu->stream);
    ck_cuda_lstm_release(cu);
    if (cu->blas) cu->api->destroy(cu->blas);
    if (cu->blas_workspace) cudaFree(cu->blas_workspace);
    if (cu->reduce_partials) cudaFree(cu->reduce_partials);
    ck_allocator_destroy(cu->allocator);
    if (cu->stream) cudaStreamDestroy(cu->stream);
    delete cu;
}

/* ---- memory ------------------------------------------------------------------------------------------------ */
static ck_status cuda_alloc(ck_backend *b, void **ptr, size_t bytes) { return ck_cuda_alloc(ck_cuda_of(b), ptr, bytes); }
static ck_status cuda_free(ck_backend *b, void *ptr) { return ck_cuda_free(ck_cuda_of(b), ptr); }

static ck_status cuda_copy_h2d(ck_backend *b, void *dst, const void *src, size_t bytes) {
    ck_cuda *cu = ck_cuda_of(b);
    if (bytes == 0) return CK_OK;
    /* From pageable memory the call returns once the source is staged, so the caller may reuse it at once. */
    CK_TRY_CUDA(cu, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cu->stream));
    return CK_OK;
}

static ck_status cuda_copy_d2h(ck_backend *b, void *dst, const void *src, size_t bytes) {
    ck_cuda *cu = ck_cuda_of(b);
    if (bytes == 0) return CK_OK;
    CK_TRY_CUDA(cu, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cu->stream));
    CK_TRY_CUDA(cu, cudaStreamSynchronize(cu->stream));
    return CK_OK;
}

static ck_status cuda_copy_d2d(ck_backend *b, void *dst, const void *src, size_t bytes) {
    ck_cuda *cu = ck_cuda_of(b);
    if (bytes == 0 || dst == src) return CK_OK;
    CK_TRY_CUDA(cu, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cu->stream));
    return CK_OK;
}

static ck_status cuda_memset_zero(ck_backend *b, void *dst, size_t bytes) {
    ck_cuda *cu = ck_cuda_of(b);
    if (bytes == 0) return CK_OK;
    CK_TRY_CUDA(cu, cudaMemsetAsync(dst, 0, bytes, cu->stream));
    return CK_OK;
}

static ck_status cuda_sync(ck_backend *b) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY_CUDA(cu, cudaStreamSynchronize(cu->stream));
    return CK_OK;
}

void ck_cuda_fill_memory_ops(ck_backend *t) {
    t->last_error = cuda_last_error;
    t->device_info = cuda_device_info;
    t->set_option = cuda_set_option;
    t->destroy = cuda_destroy;
    t->alloc = cuda_alloc;
    t->free = cuda_free;
    t->copy_h2d = cuda_copy_h2d;
    t->copy_d2h = cuda_copy_d2h;
    t->copy_d2d = cuda_copy_d2d;
    t->memset_zero = cuda_memset_zero;
    t->sync = cuda_sync;
}

/* ---- entry points ------------------------------------------------------------------------------------------ */
CK_CUDA_EXPORT int ck_backend_abi_version(void) { return CK_ABI_VERSION; }

static ck_status unavailable(char *err, size_t errlen, ck_status code, const char *fmt, const char *a, const char *b2) {
    if (err && errlen) snprintf(err, errlen, fmt, a, b2);
    return code;
}

/** Creates an instance on device_index: checks the driver and device, loads cuBLAS, makes the stream, the cuBLAS
 *  handle (pinned to the stream, default fp32 math) and the allocator. */
CK_CUDA_EXPORT ck_status ck_backend_create(int device_index, ck_backend **out, char *err, size_t errlen) {
    if (out == nullptr) return unavailable(err, errlen, CK_ERR_INVALID_ARGUMENT, "%s%s", "ck_backend_create: NULL out", "");
    *out = nullptr;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return unavailable(err, errlen, CK_ERR_UNAVAILABLE, "cudaGetDeviceCount: %s: %s", cudaGetErrorName(e),
                           cudaGetErrorString(e));
    }
    if (count == 0) return unavailable(err, errlen, CK_ERR_UNAVAILABLE, "%s%s", "no CUDA-capable device is detected", "");
    if (device_index < 0 || device_index >= count) {
        if (err && errlen)
            snprintf(err, errlen, "CUDA device %d requested, but the driver sees %d device%s (indices 0..%d)",
                     device_index, count, count == 1 ? "" : "s", count - 1);
        return CK_ERR_UNAVAILABLE;
    }
    cudaDeviceProp prop;
    if ((e = cudaGetDeviceProperties(&prop, device_index)) != cudaSuccess)
        return unavailable(err, errlen, CK_ERR_UNAVAILABLE, "cudaGetDeviceProperties: %s: %s", cudaGetErrorName(e),
                           cudaGetErrorString(e));
    const ck_cublas_api *api = ck_cublas_load(err, errlen);
    if (api == nullptr) return CK_ERR_UNAVAILABLE;

    ck_cuda *cu = new (std::nothrow) ck_cuda();
    if (cu == nullptr) return unavailable(err, errlen, CK_ERR_OUT_OF_MEMORY, "%s%s", "ck_backend_create: out of host memory", "");
    cu->device = device_index;
    cu->api = api;
    cu->sm_count = prop.multiProcessorCount;
    cu->multi_device = count > 1;
    const char *graphs = getenv("AITRADER_CUDA_GRAPHS");
    cu->use_graphs = !(graphs && strcmp(graphs, "0") == 0);
    ck_cuda_fill_memory_ops(&cu->table);
    ck_cuda_fill_gemm_ops(&cu->table);
    ck_cuda_fill_elementwise_ops(&cu->table);
    ck_cuda_fill_algebra_ops(&cu->table);
    ck_cuda_fill_conv_ops(&cu->table);
    ck_cuda_fill_lstm_ops(&cu->table);
    ck_cuda_fill_attention_ops(&cu->table);
    ck_cuda_fill_norm_ops(&cu->table);
    ck_cuda_fill_loss_ops(&cu->table);
    ck_cuda_fill_optim_ops(&cu->table);
    cu->table.abi_version = CK_ABI_VERSION;
    cu->table.name = "cuda";
    cu->table.caps = CK_CAP_TF32 | (cu->use_graphs ? CK_CAP_GRAPHS : 0u);
    cu->table.ctx = cu;

    const char *step = "cudaSetDevice";
    cublasStatus_t bst = CUBLAS_STATUS_SUCCESS;
    cu->allocator = ck_allocator_create();
    cu->blas_workspace_bytes = 32u << 20; /* cuBLAS's advice for Hopper; needed to capture gemms into graphs */
    if ((e = cudaSetDevice(device_index)) != cudaSuccess) goto cuda_failed;
    step = "cudaStreamCreateWithFlags";
    if ((e = cudaStreamCreateWithFlags(&cu->stream, cudaStreamNonBlocking)) != cudaSuccess) goto cuda_failed;
    step = "cudaMalloc(workspace)";
    if ((e = cudaMalloc(&cu->blas_workspace, cu->blas_workspace_bytes)) != cudaSuccess) goto cuda_failed;
    step = "cudaMalloc(reduction partials)";
    if ((e = cudaMalloc(reinterpret_cast<void **>(&cu->reduce_partials), CK_REDUCE_BLOCKS * sizeof(double))) != cudaSuccess)
        goto cuda_failed;
    if (cu->allocator == nullptr) {
        if (err && errlen) snprintf(err, errlen, "ck_backend_create: out of host memory");
        cuda_destroy(&cu->table);
        return CK_ERR_OUT_OF_MEMORY;
    }
    step = "cublasCreate";
    if ((bst = api->create(&cu->blas)) != CUBLAS_STATUS_SUCCESS) goto blas_failed;
    step = "cublasSetStream";
    if ((bst = api->set_stream(cu->blas, cu->stream)) != CUBLAS_STATUS_SUCCESS) goto blas_failed;
    step = "cublasSetWorkspace";
    if ((bst = api->set_workspace(cu->blas, cu->blas_workspace, cu->blas_workspace_bytes)) != CUBLAS_STATUS_SUCCESS)
        goto blas_failed;
    step = "cublasSetMathMode";
    if ((bst = api->set_math_mode(cu->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS) goto blas_failed;
    *out = &cu->table;
    return CK_OK;

cuda_failed:
    if (err && errlen) snprintf(err, errlen, "%s: %s: %s", step, cudaGetErrorName(e), cudaGetErrorString(e));
    cudaGetLastError();
    cuda_destroy(&cu->table);
    return e == cudaErrorMemoryAllocation ? CK_ERR_OUT_OF_MEMORY : CK_ERR_UNAVAILABLE;
blas_failed:
    if (err && errlen) snprintf(err, errlen, "%s: cuBLAS status %d: %s", step, (int)bst, api->status_string(bst));
    cuda_destroy(&cu->table);
    return CK_ERR_UNAVAILABLE;
}
