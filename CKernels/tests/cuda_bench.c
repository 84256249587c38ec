/* cuda_bench — times the kernels suite's ops on the CPU backend and on the CUDA backend and prints one JSON
 * document per backend (one per line), in the format of shared/design/benchmarks.md:
 *
 *     {"suite":"kernels","device":"cuda","device_name":"NVIDIA H100 80GB HBM3","threads":0,
 *      "results":[{"name":"gemm","shape":{"M":512,"N":512,"K":512},"ms":0.05,"runs":50,"gflops":5400.0}, ...]}
 *
 *     ./cuda_bench [libaitrader_cuda.so] [--cpu-only] [--gpu-only]
 *
 * Each time is the median wall time of one call (or forward + backward pair) after two warm-up calls, with the
 * backend synchronised after every call. Exit 2 when the CUDA backend is unavailable (the CPU document is still
 * printed, so the command is useful on a machine without a GPU). */
#define _POSIX_C_SOURCE 200809L
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench {
    ck_backend *b;
    int first;
    uint64_t rng;
} bench;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(bench *x, const char *what, ck_status st) {
    fprintf(stderr, "cuda_bench: %s on %s: status %d: %s\n", what, x->b->name, (int)st, x->b->last_error(x->b));
    exit(3);
}

/** A backend buffer of n floats, uniform in [lo, hi). */
static float *tensor(bench *x, size_t n, float lo, float hi) {
    float *h = malloc(n * sizeof(float)), *d = NULL;
    for (size_t i = 0; i < n; i++) {
        x->rng = x->rng * 6364136223846793005ull + 1442695040888963407ull;
        h[i] = lo + (hi - lo) * (float)(x->rng >> 40) / 16777216.0f;
    }
    ck_status st;
    if ((st = x->b->alloc(x->b, (void **)&d, n * sizeof(float))) != CK_OK) die(x, "alloc", st);
    if ((st = x->b->copy_h2d(x->b, d, h, n * sizeof(float))) != CK_OK) die(x, "copy_h2d", st);
    free(h);
    return d;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times `body` (statements using x->b) and prints one result, with "gflops" when FLOPS > 0. */
#define TIME(x, NAME, SHAPE, FLOPS, body)                                                                           \
    do {                                                                                                            \
        ck_backend *b_ = (x)->b;                                                                                    \
        double times_[64];                                                                                          \
        int runs_ = 0;                                                                                              \
        double budget_ = 1500.0, spent_ = 0;                                                                        \
        for (int w_ = 0; w_ < 2; w_++) {                                                                            \
            body;                                                                                                   \
            b_->sync(b_);                                                                                           \
        }                                                                                                           \
        while (runs_ < 64 && (runs_ < 3 || spent_ < budget_)) {                                                     \
            double t0_ = now_ms();                                                                                  \
            body;                                                                                                   \
            ck_status s_ = b_->sync(b_);                                                                            \
            if (s_ != CK_OK) die((x), NAME, s_);                                                                    \
            times_[runs_] = now_ms() - t0_;                                                                         \
            spent_ += times_[runs_++];                                                                              \
        }                                                                                                           \
        qsort(times_, runs_, sizeof(double), cmp_double);                                                           \
        double ms_ = times_[runs_ / 2];                                                                             \
        printf("%s{\"name\":\"%s\",\"shape\":%s,\"ms\":%.4f,\"runs\":%d", (x)->first ? "" : ",", NAME, SHAPE, ms_,  \
               runs_);                                                                                              \
        if ((FLOPS) > 0) printf(",\"gflops\":%.1f", (double)(FLOPS) / (ms_ * 1e6));                                 \
        printf("}");                                                                                                \
        (x)->first = 0;                                                                                             \
        fflush(stdout);                                                                                             \
    } while (0)

#define OK(call)                                                                                                    \
    do {                                                                                                            \
        ck_status s2_ = (call);                                                                                     \
        if (s2_ != CK_OK) die(x, #call, s2_);                                                                       \
    } while (0)

static void bench_gemm(bench *x, int M, int N, int K) {
    ck_backend *b = x->b;
    float *A = tensor(x, (size_t)M * K, -1, 1), *B = tensor(x, (size_t)K * N, -1, 1), *C = tensor(x, (size_t)M * N, 0, 0);
    char shape[96];
    snprintf(shape, sizeof shape, "{\"M\":%d,\"N\":%d,\"K\":%d}", M, N, K);
    TIME(x, "gemm", shape, 2.0 * M * N * K, OK(b->gemm(b, C, A, B, M, N, K, 0, 0, K, N, N, 1.f, 0.f)));
    b->free(b, A); b->free(b, B); b->free(b, C);
}

static void bench_conv(bench *x, int B, int L, int CIN, int COUT, int K) {
    ck_backend *b = x->b;
    float *inp = tensor(x, (size_t)B * L * CIN, -1, 1), *w = tensor(x, (size_t)COUT * CIN * K, -0.1f, 0.1f);
    float *bias = tensor(x, COUT, -1, 1), *out = tensor(x, (size_t)B * L * COUT, 0, 0);
    float *dinp = tensor(x, (size_t)B * L * CIN, 0, 0), *dw = tensor(x, (size_t)COUT * CIN * K, 0, 0), *db = tensor(x, COUT, 0, 0);
    char shape[128];
    snprintf(shape, sizeof shape, "{\"B\":%d,\"L\":%d,\"in\":%d,\"out\":%d,\"k\":%d}", B, L, CIN, COUT, K);
    double flops = 3 * 2.0 * B * L * CIN * COUT * K;
    TIME(x, "conv1d_fwd_bwd", shape, flops, {
        OK(b->conv1d_fwd(b, out, inp, w, bias, B, L, CIN, COUT, K));
        OK(b->conv1d_bwd(b, dinp, dw, db, out, inp, w, B, L, CIN, COUT, K));
    });
    float *all[] = {inp, w, bias, out, dinp, dw, db};
    for (int i = 0; i < 7; i++) b->free(b, all[i]);
}

static void bench_lstm(bench *x, const char *name, int B, int L, int IN, int H, int backward) {
    ck_backend *b = x->b;
    size_t H4 = 4 * (size_t)H;
    float *inp = tensor(x, (size_t)B * L * IN, -1, 1), *wih = tensor(x, H4 * IN, -0.1f, 0.1f), *whh = tensor(x, H4 * H, -0.1f, 0.1f);
    float *bih = tensor(x, H4, -0.1f, 0.1f), *bhh = tensor(x, H4, -0.1f, 0.1f), *hout = tensor(x, (size_t)B * L * H, 0, 0);
    float *cache = tensor(x, CK_LSTM_CACHE_FLOATS(B, L, H), 0, 0), *scratch = tensor(x, CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H), 0, 0);
    float *dinp = tensor(x, (size_t)B * L * IN, 0, 0), *dwih = tensor(x, H4 * IN, 0, 0), *dwhh = tensor(x, H4 * H, 0, 0);
    float *dbih = tensor(x, H4, 0, 0), *dbhh = tensor(x, H4, 0, 0);
    char shape[128];
    snprintf(shape, sizeof shape, "{\"B\":%d,\"L\":%d,\"in\":%d,\"hidden\":%d}", B, L, IN, H);
    double flops = (backward ? 3.0 : 1.0) * 2.0 * B * L * H4 * (IN + H);
    TIME(x, name, shape, flops, {
        OK(b->lstm_fwd(b, hout, NULL, cache, inp, wih, whh, bih, bhh, NULL, NULL, B, L, IN, H, 0));
        if (backward)
            OK(b->lstm_bwd(b, dinp, dwih, dwhh, dbih, dbhh, NULL, NULL, scratch, hout, NULL, inp, wih, whh, NULL, NULL,
                           cache, hout, B, L, IN, H, 0));
    });
    float *all[] = {inp, wih, whh, bih, bhh, hout, cache, scratch, dinp, dwih, dwhh, dbih, dbhh};
    for (int i = 0; i < 13; i++) b->free(b, all[i]);
}

static void bench_attention(bench *x, int B, int L, int D, int NH) {
    ck_backend *b = x->b;
    int HS = D / NH, ld = 3 * D;
    float *qkv = tensor(x, (size_t)B * L * ld, -1, 1), *out = tensor(x, (size_t)B * L * D, 0, 0);
    float *probs = tensor(x, (size_t)B * NH * L * L, 0, 0), *dqkv = tensor(x, (size_t)B * L * ld, 0, 0);
    float *scratch = tensor(x, CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L), 0, 0);
    float *mask_h = malloc((size_t)L * L * sizeof(float)), *mask = NULL;
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) mask_h[i * L + j] = j > i ? -1.0f / 0.0f : 0.f;
    OK(b->alloc(b, (void **)&mask, (size_t)L * L * sizeof(float)));
    OK(b->copy_h2d(b, mask, mask_h, (size_t)L * L * sizeof(float)));
    free(mask_h);
    char shape[128];
    snprintf(shape, sizeof shape, "{\"B\":%d,\"L\":%d,\"d\":%d,\"heads\":%d}", B, L, D, NH);
    double flops = 3 * 2.0 * 2.0 * B * NH * L * L * HS;
    TIME(x, "attention_fwd_bwd", shape, flops, {
        OK(b->attention_fwd(b, out, probs, qkv, qkv + D, qkv + 2 * D, mask, B, L, NH, HS, ld, ld, ld, D, 0));
        OK(b->attention_bwd(b, dqkv, dqkv + D, dqkv + 2 * D, scratch, out, qkv, qkv + D, qkv + 2 * D, probs, B, L, NH,
                            HS, ld, ld, ld, D, 0));
    });
    float *all[] = {qkv, out, probs, dqkv, scratch, mask};
    for (int i = 0; i < 6; i++) b->free(b, all[i]);
}

static void bench_small_ops(bench *x) {
    ck_backend *b = x->b;
    int N = 4096, C = 256;
    size_t n = (size_t)N * C, big = 1u << 22;
    float *inp = tensor(x, n, -1, 1), *out = tensor(x, n, 0, 0), *w = tensor(x, C, 0.5f, 1.5f), *bias = tensor(x, C, -1, 1);
    float *mean = tensor(x, N, 0, 0), *rstd = tensor(x, N, 0, 0), *dinp = tensor(x, n, 0, 0);
    float *dw = tensor(x, C, 0, 0), *db = tensor(x, C, 0, 0);
    char shape[96];
    snprintf(shape, sizeof shape, "{\"N\":%d,\"C\":%d}", N, C);
    TIME(x, "layernorm_fwd_bwd", shape, 0, {
        OK(b->layernorm_fwd(b, out, mean, rstd, inp, w, bias, N, C, 1e-5f));
        OK(b->layernorm_bwd(b, dinp, dw, db, out, inp, w, mean, rstd, N, C));
    });
    TIME(x, "softmax_fwd_bwd", shape, 0, {
        OK(b->softmax_fwd(b, out, inp, N, C));
        OK(b->softmax_bwd(b, dinp, inp, out, N, C));
    });
    float *p = tensor(x, big, -1, 1), *m = tensor(x, big, 0, 0), *v = tensor(x, big, 0, 0), *g = tensor(x, big, -1, 1);
    float *norm = tensor(x, 1, 0, 0);
    snprintf(shape, sizeof shape, "{\"n\":%zu}", big);
    TIME(x, "adamw_step", shape, 0, OK(b->adamw_step(b, p, m, v, g, big, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, 1.f)));
    TIME(x, "global_norm", shape, 0, OK(b->global_norm(b, norm, g, big)));
    TIME(x, "dropout_fwd", shape, 0, OK(b->dropout_fwd(b, m, g, big, 0.1f, 42, 0)));
    TIME(x, "gelu_fwd_bwd", shape, 0, {
        OK(b->activation_fwd(b, m, g, big, CK_ACT_GELU));
        OK(b->activation_bwd(b, v, p, g, m, big, CK_ACT_GELU));
    });
    int NB = 1 << 16;
    float *alpha = tensor(x, NB, 0.5f, 10), *beta = tensor(x, NB, 0.5f, 10), *y = tensor(x, NB, 0.05f, 0.95f);
    snprintf(shape, sizeof shape, "{\"N\":%d}", NB);
    TIME(x, "beta_nll_fwd_bwd", shape, 0, {
        OK(b->beta_nll_fwd(b, m, alpha, beta, y, NB));
        OK(b->beta_nll_bwd(b, v, p, m, alpha, beta, y, NB));
    });
    float *all[] = {inp, out, w, bias, mean, rstd, dinp, dw, db, p, m, v, g, norm, alpha, beta, y};
    for (int i = 0; i < 17; i++) b->free(b, all[i]);
}

static void run_suite(ck_backend *b) {
    bench x = {b, 1, 0x1234};
    ck_device_info info;
    memset(&info, 0, sizeof info);
    b->device_info(b, &info);
    printf("{\"suite\":\"kernels\",\"device\":\"%s\",\"device_name\":\"%s\",\"threads\":%d,\"results\":[", b->name,
           info.name, info.threads);
    bench_gemm(&x, 512, 512, 512);
    bench_gemm(&x, 64, 1024, 256);
    bench_conv(&x, 64, 64, 128, 256, 7);
    bench_lstm(&x, "lstm_fwd_bwd", 64, 64, 256, 256, 1);
    bench_lstm(&x, "lstm_infer", 1, 64, 32, 128, 0);
    bench_attention(&x, 64, 64, 256, 8);
    bench_small_ops(&x);
    printf("]}\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *lib = NULL;
    int cpu = 1, gpu = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cpu-only") == 0) gpu = 0;
        else if (strcmp(argv[i], "--gpu-only") == 0) cpu = 0;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [libaitrader_cuda.so] [--cpu-only|--gpu-only]\n", argv[0]);
            return 3;
        } else lib = argv[i];
    }
    if (lib == NULL) lib = getenv("AITRADER_CUDA_LIB");
    if (lib == NULL || !*lib) lib = "build/cuda/libaitrader_cuda.so";
    ck_backend *g = NULL;
    char why[1024] = "";
    ck_status st = gpu ? ck_load_backend(lib, 0, &g, why, sizeof why) : CK_OK;
    if (g) run_suite(g);
    if (cpu) run_suite(ck_cpu_backend());
    if (g) g->destroy(g);
    if (gpu && st != CK_OK) {
        fprintf(stderr, "CUDA backend unavailable (status %d): %s\n", (int)st, why);
        return 2;
    }
    return 0;
}
