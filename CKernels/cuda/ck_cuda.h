/* Internals of the CUDA backend (libaitrader_cuda.so): the instance context, error reporting, launch helpers.
 * Every op file includes this; nothing outside CKernels/cuda does.
 *
 *     ck_status my_op(ck_backend *b, float *out, const float *x, size_t n) {
 *         ck_cuda *cu = ck_cuda_of(b);
 *         my_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(out, x, n);
 *         return ck_cuda_launched(cu, "my_op");
 *     }
 */
#ifndef CK_CUDA_INTERNAL_H
#define CK_CUDA_INTERNAL_H

#include "ckernels.h"

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include <cstddef>
#include <cstdint>

struct ck_allocator; /* allocator.cu */

/** cuBLAS entry points, resolved with dlsym from libcublas (cublas_loader.cu), so the backend library loads
 *  and reports a clean reason when cuBLAS is missing instead of failing inside dlopen. */
struct ck_cublas_api {
    void *handle;
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSetWorkspace_v2) set_workspace;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasSgemmStridedBatched) sgemm_strided_batched;
    decltype(&cublasGetStatusString) status_string;
};

/** One backend instance: one device, one stream, one cuBLAS handle, one caching allocator. */
struct ck_cuda {
    ck_backend table;           /* first member: a ck_backend* is a ck_cuda* */
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    const ck_cublas_api *api;
    ck_allocator *allocator;
    void *blas_workspace;       /* fixed cuBLAS workspace: needed for graph capture */
    size_t blas_workspace_bytes;
    double *reduce_partials;    /* CK_REDUCE_BLOCKS doubles */
    bool allow_tf32;
    bool deterministic;
    bool use_graphs;            /* CUDA-graph the recurrent loop for small batches (env AITRADER_CUDA_GRAPHS=0 turns off) */
    void *lstm_graphs;          /* lstm.cu: cached graph executables */
    int sm_count;
    bool multi_device;          /* more than one GPU visible: every op first makes this instance's device current */
    char error[1024];
};

/** The instance behind a table pointer; with several GPUs visible, also makes the instance's GPU current for the
 *  calling thread (kernels and copies go to the device of the current context). */
static inline ck_cuda *ck_cuda_of(ck_backend *b) {
    ck_cuda *cu = reinterpret_cast<ck_cuda *>(b);
    if (cu->multi_device) cudaSetDevice(cu->device);
    return cu;
}

/* ---- errors (errors.cu) --------------------------------------------------------------------------------- */
/** Records "what: message" as the instance's last error and returns code. */
ck_status ck_cuda_fail(ck_cuda *cu, ck_status code, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** Maps a CUDA runtime error to a status (out of memory vs device error), recording "what: cudaError: text". */
ck_status ck_cuda_error(ck_cuda *cu, cudaError_t err, const char *what);
/** Maps a cuBLAS status, recording "what: CUBLAS_STATUS_...". */
ck_status ck_cublas_error(ck_cuda *cu, cublasStatus_t st, const char *what);
/** After a kernel launch: CK_OK, or the launch error. */
ck_status ck_cuda_launched(ck_cuda *cu, const char *what);

#define CK_TRY_CUDA(cu, call)                                                                                       \
    do {                                                                                                            \
        cudaError_t ck_err_ = (call);                                                                               \
        if (ck_err_ != cudaSuccess) return ck_cuda_error((cu), ck_err_, #call);                                     \
    } while (0)
#define CK_TRY(call)                                                                                                \
    do {                                                                                                            \
        ck_status ck_st_ = (call);                                                                                  \
        if (ck_st_ != CK_OK) return ck_st_;                                                                         \
    } while (0)
#define CK_REQUIRE(cu, cond, what)                                                                                  \
    do {                                                                                                            \
        if (!(cond)) return ck_cuda_fail((cu), CK_ERR_INVALID_ARGUMENT, (what), "requirement failed: %s", #cond);   \
    } while (0)

/* ---- launch geometry ------------------------------------------------------------------------------------ */
#define CK_BLOCK 256
#define CK_REDUCE_BLOCKS 1024
/** Blocks for a grid-stride loop over n elements (capped: the loop covers the rest). */
static inline unsigned ck_grid(size_t n) {
    size_t blocks = (n + CK_BLOCK - 1) / CK_BLOCK;
    if (blocks < 1) blocks = 1;
    if (blocks > 65535u * 8u) blocks = 65535u * 8u;
    return (unsigned)blocks;
}
/** for (size_t i = ...; i < n; i += grid size): the grid-stride loop of every element-wise kernel. */
#define CK_GRID_STRIDE(i, n)                                                                                        \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)
/** Blocks for one warp per row, 8 warps per block. */
static inline unsigned ck_warp_rows_grid(size_t rows) { return (unsigned)((rows + 7) / 8 > 0 ? (rows + 7) / 8 : 1); }

/* ---- memory (allocator.cu) ---------------------------------------------------------------------------- */
ck_allocator *ck_allocator_create(void);
void ck_allocator_destroy(ck_allocator *a);
/** cudaMalloc behind size-class free lists; on out-of-memory the cache is released and the call retried. */
ck_status ck_cuda_alloc(ck_cuda *cu, void **ptr, size_t bytes);
ck_status ck_cuda_free(ck_cuda *cu, void *ptr);
/** Returns every cached (free) block to the driver. */
void ck_allocator_trim(ck_allocator *a);
/** Temporary device buffer for one op; released (to the cache) when it goes out of scope. Stream ordering
 *  makes the reuse safe: every user of a block is enqueued on the instance's one stream. */
struct ck_scratch {
    ck_cuda *cu;
    void *ptr = nullptr;
    explicit ck_scratch(ck_cuda *c) : cu(c) {}
    ck_status get(size_t bytes) { return ck_cuda_alloc(cu, &ptr, bytes); }
    float *f() const { return static_cast<float *>(ptr); }
    ~ck_scratch() { if (ptr) ck_cuda_free(cu, ptr); }
    ck_scratch(const ck_scratch &) = delete;
    ck_scratch &operator=(const ck_scratch &) = delete;
};

/* ---- cuBLAS (cublas_loader.cu, gemm.cu) ------------------------------------------------------------------ */
/** dlopens libcublas (next to this library, then the usual paths) once per process. nullptr + reason on failure. */
const ck_cublas_api *ck_cublas_load(char *err, size_t errlen);
/** Row-major C = alpha op(A) op(B) + beta C on the instance's stream (see ckernels.h gemm). */
ck_status ck_cuda_gemm(ck_cuda *cu, float *C, const float *A, const float *B, int M, int N, int K, int trans_a,
                       int trans_b, int lda, int ldb, int ldc, float alpha, float beta);
ck_status ck_cuda_gemm_batched(ck_cuda *cu, float *C, const float *A, const float *B, int M, int N, int K,
                               int trans_a, int trans_b, int lda, int ldb, int ldc, long long stride_a,
                               long long stride_b, long long stride_c, int batch, float alpha, float beta);
/** dst (C) += sum over N rows of src (N, C) with row stride ld (deterministic column reduction). */
ck_status ck_cuda_column_sum(ck_cuda *cu, float *dst, const float *src, int N, int C, int ld, float scale);

/* ---- warp and block reductions ------------------------------------------------------------------------ */
#ifdef __CUDACC__
template <typename T> __device__ __forceinline__ T ck_warp_sum(T v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}
__device__ __forceinline__ float ck_warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}
/** Sum over a block of up to 1024 threads; every thread gets the result. `shared` holds 32 values. */
template <typename T> __device__ __forceinline__ T ck_block_sum(T v, T *shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = ck_warp_sum(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = (lane < warps) ? shared[lane] : T(0);
    return ck_warp_sum(v);
}
#endif

/* ---- op tables: each file fills its part of the backend table -------------------------------------------- */
void ck_cuda_fill_memory_ops(ck_backend *t);
void ck_cuda_fill_gemm_ops(ck_backend *t);
void ck_cuda_fill_elementwise_ops(ck_backend *t);
void ck_cuda_fill_algebra_ops(ck_backend *t);
void ck_cuda_fill_conv_ops(ck_backend *t);
void ck_cuda_fill_lstm_ops(ck_backend *t);
void ck_cuda_fill_attention_ops(ck_backend *t);
void ck_cuda_fill_norm_ops(ck_backend *t);
void ck_cuda_fill_loss_ops(ck_backend *t);
void ck_cuda_fill_optim_ops(ck_backend *t);
void ck_cuda_lstm_release(ck_cuda *cu);

#endif /* CK_CUDA_INTERNAL_H */
