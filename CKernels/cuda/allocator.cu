/* Caching device allocator: cudaMalloc (never managed memory) behind size-class free lists, so that the many
 * short-lived activations and scratch buffers of a training step do not pay cudaMalloc/cudaFree (which also
 * synchronise the device) on every step.
 *
 * Size classes: requests round up to 512 bytes below 1 MiB, then to a quarter of the next power of two (at most
 * 25% waste). A freed block goes to its class's list; alloc takes from the list first. When cudaMalloc reports
 * out-of-memory, every cached block is released and the request retried once.
 *
 * One instance owns one allocator and one stream: a block freed while kernels still use it can be handed out at
 * once, because its next user is enqueued on the same stream behind them. */
#include "ck_cuda.h"

#include <mutex>
#include <unordered_map>
#include <vector>

struct ck_allocator {
    std::mutex lock;
    std::unordered_map<size_t, std::vector<void *>> free_lists; /* class bytes -> cached blocks */
    std::unordered_map<void *, size_t> live;                     /* block -> class bytes */
    size_t cached_bytes = 0;
    size_t live_bytes = 0;
};

static size_t size_class(size_t bytes) {
    const size_t small = 512, mib = 1u << 20;
    if (bytes <= mib) return (bytes + small - 1) / small * small;
    size_t pow2 = mib;
    while (pow2 < bytes) pow2 <<= 1;
    size_t quarter = pow2 / 8; /* pow2/2 < bytes <= pow2: step pow2/8 keeps waste under 25% */
    return (bytes + quarter - 1) / quarter * quarter;
}

ck_allocator *ck_allocator_create(void) { return new (std::nothrow) ck_allocator(); }

void ck_allocator_trim(ck_allocator *a) {
    std::lock_guard<std::mutex> guard(a->lock);
    for (auto &entry : a->free_lists)
        for (void *p : entry.second) cudaFree(p);
    a->free_lists.clear();
    a->cached_bytes = 0;
}

void ck_allocator_destroy(ck_allocator *a) {
    if (!a) return;
    ck_allocator_trim(a);
    for (auto &entry : a->live) cudaFree(entry.first);
    delete a;
}

ck_status ck_cuda_alloc(ck_cuda *cu, void **ptr, size_t bytes) {
    if (ptr == nullptr) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "alloc", "NULL output pointer");
    *ptr = nullptr;
    if (bytes == 0) return CK_OK;
    ck_allocator *a = cu->allocator;
    size_t cls = size_class(bytes);
    {
        std::lock_guard<std::mutex> guard(a->lock);
        auto it = a->free_lists.find(cls);
        if (it != a->free_lists.end() && !it->second.empty()) {
            *ptr = it->second.back();
            it->second.pop_back();
            a->cached_bytes -= cls;
            a->live.emplace(*ptr, cls);
            a->live_bytes += cls;
            return CK_OK;
        }
    }
    void *p = nullptr;
    cudaError_t err = cudaMalloc(&p, cls);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* clear it: out-of-memory is not sticky */
        cudaStreamSynchronize(cu->stream);
        ck_allocator_trim(a);
        err = cudaMalloc(&p, cls);
    }
    if (err != cudaSuccess) {
        cudaGetLastError();
        ck_cuda_error(cu, err, "alloc");
        size_t used = a->live_bytes;
        return ck_cuda_fail(cu, err == cudaErrorMemoryAllocation ? CK_ERR_OUT_OF_MEMORY : CK_ERR_DEVICE, "alloc",
                            "cudaMalloc(%zu bytes) failed: %s (%zu bytes live in this backend)", cls,
                            cudaGetErrorString(err), used);
    }
    std::lock_guard<std::mutex> guard(a->lock);
    a->live.emplace(p, cls);
    a->live_bytes += cls;
    *ptr = p;
    return CK_OK;
}

ck_status ck_cuda_free(ck_cuda *cu, void *ptr) {
    if (ptr == nullptr) return CK_OK;
    ck_allocator *a = cu->allocator;
    std::lock_guard<std::mutex> guard(a->lock);
    auto it = a->live.find(ptr);
    if (it == a->live.end())
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "free", "%p was not allocated by this backend", ptr);
    size_t cls = it->second;
    a->live.erase(it);
    a->live_bytes -= cls;
    a->free_lists[cls].push_back(ptr);
    a->cached_bytes += cls;
    return CK_OK;
}
