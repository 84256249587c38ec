/*
 * cpu_backend.c — the CPU backend's table (ck_cpu_backend), its memory functions, options, device information,
 * error reporting and per-thread workspaces. The ops themselves live in one file per concept (gemm.c, conv1d.c...).
 *
 *     ck_backend *cpu = ck_cpu_backend();
 *     float *x = NULL;
 *     if (cpu->alloc(cpu, (void **)&x, 1024 * sizeof(float)) != CK_OK) puts(cpu->last_error(cpu));
 */
#include "cpu_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- errors ------------------------------------------------------------------------------------------------ */

static _Thread_local char cpu_error[512];

ck_status ck_cpu_fail(ck_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(cpu_error, sizeof cpu_error, fmt, args);
    va_end(args);
    return status;
}

static const char *cpu_last_error(ck_backend *b) {
    (void)b;
    return cpu_error;
}

/* ---- workspaces -------------------------------------------------------------------------------------------- */

typedef struct cpu_workspace {
    float *data;
    size_t floats;
} cpu_workspace;

static _Thread_local cpu_workspace workspaces[CK_CPU_WORKSPACE_SLOTS];

float *ck_cpu_workspace(int slot, size_t floats) {
    if (slot < 0 || slot >= CK_CPU_WORKSPACE_SLOTS) return NULL;
    cpu_workspace *w = &workspaces[slot];
    if (floats == 0) floats = 1;
    if (w->floats >= floats) return w->data;
    size_t bytes = ((floats * sizeof(float) + 255u) / 256u) * 256u;
    float *data = aligned_alloc(256, bytes);
    if (data == NULL) return NULL;
    free(w->data);
    w->data = data;
    w->floats = bytes / sizeof(float);
    return data;
}

/* ---- threads and options ----------------------------------------------------------------------------------- */

static int cpu_thread_count = 1;
static int cpu_deterministic = 0;

int ck_cpu_threads(void) { return cpu_thread_count; }

static int default_threads(void) {
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    if (env != NULL && *env != '\0') {
        char *end = NULL;
        long value = strtol(env, &end, 10);
        if (end != env && value >= 1 && value <= 4096) return (int)value;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online >= 1 ? (int)online : 1;
}

static ck_status cpu_set_option(ck_backend *b, ck_option option, int value) {
    (void)b;
    switch (option) {
    case CK_OPT_THREADS:
        CK_REQUIRE(value >= 1 && value <= 4096, "set_option(CK_OPT_THREADS): value must be in 1...4096 (got %d)",
                   value);
        cpu_thread_count = value;
        return CK_OK;
    case CK_OPT_ALLOW_TF32:
        CK_REQUIRE(value == 0 || value == 1, "set_option(CK_OPT_ALLOW_TF32): value must be 0 or 1 (got %d)", value);
        if (value == 1)
            return ck_cpu_fail(CK_ERR_UNSUPPORTED, "set_option(CK_OPT_ALLOW_TF32): the CPU backend has no TF32 "
                                                   "(check caps & CK_CAP_TF32 first)");
        return CK_OK;
    case CK_OPT_DETERMINISTIC:
        /* For a fixed thread count every CPU op is already bit-reproducible; the flag is recorded only. */
        CK_REQUIRE(value == 0 || value == 1, "set_option(CK_OPT_DETERMINISTIC): value must be 0 or 1 (got %d)",
                   value);
        cpu_deterministic = value;
        return CK_OK;
    }
    return ck_cpu_fail(CK_ERR_INVALID_ARGUMENT, "set_option: unknown option %d", (int)option);
}

/* ---- device information ------------------------------------------------------------------------------------ */

/* Reads "<key>: <n> kB" from /proc/meminfo; 0 when absent. */
static uint64_t meminfo_bytes(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL) return 0;
    char line[256];
    uint64_t result = 0;
    size_t keylen = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
            unsigned long long kb = 0;
            if (sscanf(line + keylen + 1, "%llu", &kb) == 1) result = (uint64_t)kb * 1024u;
            break;
        }
    }
    fclose(f);
    return result;
}

static ck_status cpu_device_info(ck_backend *b, ck_device_info *out) {
    (void)b;
    CK_REQUIRE(out != NULL, "device_info: out is NULL");
    memset(out, 0, sizeof *out);
    /* OPENBLAS_VERSION is " OpenBLAS 0.3.21 " (with spaces) in openblas_config.h. */
    const char *version = OPENBLAS_VERSION;
    while (*version == ' ') version++;
    char trimmed[64];
    snprintf(trimmed, sizeof trimmed, "%s", version);
    size_t len = strlen(trimmed);
    while (len > 0 && trimmed[len - 1] == ' ') trimmed[--len] = '\0';
#if defined(__x86_64__)
    const char *arch = "x86_64";
#elif defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "cpu";
#endif
    snprintf(out->name, sizeof out->name, "%s, %d threads, %s", arch, cpu_thread_count, trimmed);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    out->total_memory = (pages > 0 && page > 0) ? (uint64_t)pages * (uint64_t)page : meminfo_bytes("MemTotal");
    out->free_memory = meminfo_bytes("MemAvailable");
    if (out->free_memory == 0) {
        long avail = sysconf(_SC_AVPHYS_PAGES);
        out->free_memory = (avail > 0 && page > 0) ? (uint64_t)avail * (uint64_t)page : 0;
    }
    out->threads = cpu_thread_count;
    return CK_OK;
}

static void cpu_destroy(ck_backend *b) { (void)b; }

/* ---- memory ------------------------------------------------------------------------------------------------ */

static ck_status cpu_alloc(ck_backend *b, void **ptr, size_t bytes) {
    (void)b;
    CK_REQUIRE(ptr != NULL, "alloc: ptr is NULL");
    *ptr = NULL;
    if (bytes == 0) return CK_OK;
    CK_REQUIRE(bytes <= SIZE_MAX - 255u, "alloc: %zu bytes is too large", bytes);
    size_t rounded = ((bytes + 255u) / 256u) * 256u;
    void *p = aligned_alloc(256, rounded);
    if (p == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "alloc: out of host memory for %zu bytes", bytes);
    *ptr = p;
    return CK_OK;
}

static ck_status cpu_free(ck_backend *b, void *ptr) {
    (void)b;
    free(ptr);
    return CK_OK;
}

typedef struct copy_job {
    char *dst;
    const char *src;
} copy_job;

static void copy_span(void *ctx, size_t lo, size_t hi) {
    const copy_job *j = ctx;
    memcpy(j->dst + lo, j->src + lo, hi - lo);
}

static ck_status cpu_copy(ck_backend *b, void *dst, const void *src, size_t bytes) {
    (void)b;
    if (bytes == 0) return CK_OK;
    CK_REQUIRE(dst != NULL && src != NULL, "copy: NULL pointer for %zu bytes", bytes);
    const char *d = dst, *s = src;
    /* Large disjoint copies (activations, gradients) are shared by the pool; overlapping ones stay a memmove. */
    if (bytes >= (size_t)1 << 20 && (d + bytes <= s || s + bytes <= d)) {
        copy_job job = {dst, src};
        ck_cpu_parallel_span(bytes, copy_span, &job);
    } else {
        memmove(dst, src, bytes);
    }
    return CK_OK;
}

static void zero_span(void *ctx, size_t lo, size_t hi) { memset((char *)ctx + lo, 0, hi - lo); }

static ck_status cpu_memset_zero(ck_backend *b, void *dst, size_t bytes) {
    (void)b;
    if (bytes == 0) return CK_OK;
    CK_REQUIRE(dst != NULL, "memset_zero: dst is NULL");
    /* Large buffers (gradients, accumulators) are cleared by all threads: the pages are touched in parallel. */
    if (bytes >= (size_t)1 << 20) ck_cpu_parallel_span(bytes, zero_span, dst);
    else memset(dst, 0, bytes);
    return CK_OK;
}

static ck_status cpu_sync(ck_backend *b) {
    (void)b;
    return CK_OK;
}

/* ---- the table --------------------------------------------------------------------------------------------- */

static ck_backend cpu_backend = {
    .abi_version = CK_ABI_VERSION,
    .name = "cpu",
    .caps = CK_CAP_HOST_MEMORY,
    .ctx = NULL,
    .last_error = cpu_last_error,
    .device_info = cpu_device_info,
    .set_option = cpu_set_option,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .copy_h2d = cpu_copy,
    .copy_d2h = cpu_copy,
    .copy_d2d = cpu_copy,
    .memset_zero = cpu_memset_zero,
    .sync = cpu_sync,
    .gemm = ck_cpu_gemm,
    .gemm_strided_batched = ck_cpu_gemm_strided_batched,
    .linear_fwd = ck_cpu_linear_fwd,
    .linear_bwd = ck_cpu_linear_bwd,
    .bias_add_fwd = ck_cpu_bias_add_fwd,
    .bias_add_bwd = ck_cpu_bias_add_bwd,
    .conv1d_fwd = ck_cpu_conv1d_fwd,
    .conv1d_bwd = ck_cpu_conv1d_bwd,
    .lstm_fwd = ck_cpu_lstm_fwd,
    .lstm_bwd = ck_cpu_lstm_bwd,
    .attention_fwd = ck_cpu_attention_fwd,
    .attention_bwd = ck_cpu_attention_bwd,
    .layernorm_fwd = ck_cpu_layernorm_fwd,
    .layernorm_bwd = ck_cpu_layernorm_bwd,
    .activation_fwd = ck_cpu_activation_fwd,
    .activation_bwd = ck_cpu_activation_bwd,
    .glu_fwd = ck_cpu_glu_fwd,
    .glu_bwd = ck_cpu_glu_bwd,
    .dropout_fwd = ck_cpu_dropout_fwd,
    .dropout_bwd = ck_cpu_dropout_bwd,
    .softmax_fwd = ck_cpu_softmax_fwd,
    .softmax_bwd = ck_cpu_softmax_bwd,
    .mean_pool_fwd = ck_cpu_mean_pool_fwd,
    .mean_pool_bwd = ck_cpu_mean_pool_bwd,
    .step_pool_fwd = ck_cpu_step_pool_fwd,
    .step_pool_bwd = ck_cpu_step_pool_bwd,
    .copy2d = ck_cpu_copy2d,
    .axpy = ck_cpu_axpy,
    .scale_shift = ck_cpu_scale_shift,
    .mul_fwd = ck_cpu_mul_fwd,
    .mul_bwd = ck_cpu_mul_bwd,
    .row_scale_fwd = ck_cpu_row_scale_fwd,
    .row_scale_bwd = ck_cpu_row_scale_bwd,
    .basis_expand_fwd = ck_cpu_basis_expand_fwd,
    .basis_expand_bwd = ck_cpu_basis_expand_bwd,
    .beta_nll_fwd = ck_cpu_beta_nll_fwd,
    .beta_nll_bwd = ck_cpu_beta_nll_bwd,
    .dirichlet_nll_fwd = ck_cpu_dirichlet_nll_fwd,
    .dirichlet_nll_bwd = ck_cpu_dirichlet_nll_bwd,
    .evidential_beta_fwd = ck_cpu_evidential_beta_fwd,
    .evidential_beta_bwd = ck_cpu_evidential_beta_bwd,
    .reduce_sum = ck_cpu_reduce_sum,
    .reduce_sum_squares = ck_cpu_reduce_sum_squares,
    .adamw_step = ck_cpu_adamw_step,
    .global_norm = ck_cpu_global_norm,
};

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

/* The pthread build of OpenBLAS exports this; other builds (serial, OpenMP) may not, hence weak. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static void cpu_init(void) {
    cpu_thread_count = default_threads();
    /* OpenBLAS computes single-threaded; large products are split over the backend's own pool (gemm.c). Its
     * own worker threads, started when the library loaded, are stopped: idle, they poll (sched_yield) for a
     * while after each use and would take cycles from the pool (measured: two single-threaded sgemm calls
     * side by side ran at 75 GFLOP/s with them alive, 128 without). With one thread it never restarts them. */
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_ != NULL) blas_thread_shutdown_();
}

ck_backend *ck_cpu_backend(void) {
    pthread_once(&cpu_once, cpu_init);
    return &cpu_backend;
}
