/* LSTM, one layer, one direction, whole sequence (gate order i, f, g, o as torch.nn.LSTM).
 *
 * Forward: one cuBLAS gemm computes the input projection of every step, pre (B, L, 4H) = inp @ w_ih^T + b_ih + b_hh;
 * then per step one gemm adds h_{t-1} @ w_hh^T into pre[:, t] in place (strided rows, no copies) and one fused
 * kernel applies the gate non-linearities, updates the cell and writes h_t and the cache
 * (cache (B, L, 5H): activated i, f, g, o and the cell c, per step). For small batches (B <= 8, where launch
 * latency dominates) the recurrent loop is captured into a CUDA graph, cached per shape and argument set and
 * replayed (cudaGraphExecUpdate when only the pointers moved); AITRADER_CUDA_GRAPHS=0 turns that off, and any
 * graph error falls back to direct launches for the rest of the instance's life.
 *
 * Backward runs the steps in reverse: a fused kernel turns dh_t (from dh_out plus the recurrent gradient) and the
 * running dc into pre-activation gate gradients dgates (B, L, 4H) (the caller's scratch), then one gemm computes
 * the recurrent gradient dgates[:, t] @ w_hh for the next step. Weight, input and bias gradients are three gemms
 * and a column sum over all steps at once. */
#include "ck_cuda.h"

#include <cstdlib>
#include <cstring>
#include <vector>

__device__ __forceinline__ float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }

/* pre (B, L, 4H) += b_ih + b_hh */
__global__ void lstm_bias_kernel(float *pre, const float *b_ih, const float *b_hh, size_t total, int H4) {
    CK_GRID_STRIDE(i, total) {
        int j = (int)(i % H4);
        pre[i] += (b_ih ? b_ih[j] : 0.f) + (b_hh ? b_hh[j] : 0.f);
    }
}

/* One step's gates for every (b, j): reads pre[b, t] (stride pre_ld), c_prev (stride cprev_ld, NULL = zeros). */
__global__ void lstm_gates_fwd_kernel(float *h_t, size_t h_ld, float *cache_t, size_t cache_ld, float *c_final,
                                      const float *pre_t, size_t pre_ld, const float *c_prev, size_t cprev_ld,
                                      int B, int H) {
    size_t total = (size_t)B * H;
    CK_GRID_STRIDE(idx, total) {
        int bb = (int)(idx / H), j = (int)(idx % H);
        const float *p = pre_t + bb * pre_ld;
        float ig = sigmoidf_(p[j]), fg = sigmoidf_(p[H + j]), gg = tanhf(p[2 * H + j]), og = sigmoidf_(p[3 * H + j]);
        float cp = c_prev ? c_prev[bb * cprev_ld + j] : 0.f;
        float c = fg * cp + ig * gg;
        float h = og * tanhf(c);
        float *cache = cache_t + bb * cache_ld;
        cache[j] = ig;
        cache[H + j] = fg;
        cache[2 * H + j] = gg;
        cache[3 * H + j] = og;
        cache[4 * H + j] = c;
        h_t[bb * h_ld + j] = h;
        if (c_final) c_final[bb * (size_t)H + j] = c;
    }
}

/* One step backward: dh = dh_out[b, t] + dh_rec[b]; dc running in place; writes pre-activation gate gradients. */
__global__ void lstm_gates_bwd_kernel(float *dgates_t, size_t dg_ld, float *dc, const float *dh_rec,
                                      const float *dh_out_t, size_t dho_ld, const float *cache_t, size_t cache_ld,
                                      const float *c_prev, size_t cprev_ld, int B, int H) {
    size_t total = (size_t)B * H;
    CK_GRID_STRIDE(idx, total) {
        int bb = (int)(idx / H), j = (int)(idx % H);
        const float *cache = cache_t + bb * cache_ld;
        float ig = cache[j], fg = cache[H + j], gg = cache[2 * H + j], og = cache[3 * H + j], c = cache[4 * H + j];
        float cp = c_prev ? c_prev[bb * cprev_ld + j] : 0.f;
        float dh = dh_rec[idx] + (dh_out_t ? dh_out_t[bb * dho_ld + j] : 0.f);
        float tc = tanhf(c);
        float d_o = dh * tc;
        float dcell = dc[idx] + dh * og * (1.f - tc * tc);
        float d_i = dcell * gg, d_f = dcell * cp, d_g = dcell * ig;
        dc[idx] = dcell * fg;
        float *dg = dgates_t + bb * dg_ld;
        dg[j] = d_i * ig * (1.f - ig);
        dg[H + j] = d_f * fg * (1.f - fg);
        dg[2 * H + j] = d_g * (1.f - gg * gg);
        dg[3 * H + j] = d_o * og * (1.f - og);
    }
}

/* hprev[b, t] = h at the step before t in the run's direction (h0 or zeros for the first). */
__global__ void lstm_hprev_kernel(float *hprev, const float *h_out, const float *h0, int B, int L, int H, int reverse) {
    size_t total = (size_t)B * L * H;
    CK_GRID_STRIDE(idx, total) {
        int j = (int)(idx % H);
        size_t bt = idx / H;
        int t = (int)(bt % L), bb = (int)(bt / L);
        int tp = reverse ? t + 1 : t - 1;
        float v;
        if (tp >= 0 && tp < L) v = h_out[((size_t)bb * L + tp) * H + j];
        else v = h0 ? h0[(size_t)bb * H + j] : 0.f;
        hprev[idx] = v;
    }
}

struct lstm_step_args {
    float *h_out, *c_final, *cache, *pre;
    const float *w_hh, *h0, *c0;
    int B, L, H, reverse;
};

/** Enqueues the whole recurrent loop on the stream (also what a graph capture records). */
static ck_status lstm_recurrence(ck_cuda *cu, const lstm_step_args &a) {
    int B = a.B, L = a.L, H = a.H;
    size_t pre_ld = (size_t)L * 4 * H, cache_ld = (size_t)L * 5 * H, h_ld = (size_t)L * H;
    unsigned grid = ck_grid((size_t)B * H);
    for (int s = 0; s < L; s++) {
        int t = a.reverse ? L - 1 - s : s, tp = a.reverse ? t + 1 : t - 1;
        float *pre_t = a.pre + (size_t)t * 4 * H;
        const float *h_prev = s > 0 ? a.h_out + (size_t)tp * H : a.h0;
        int h_prev_ld = s > 0 ? (int)h_ld : H;
        if (h_prev)
            CK_TRY(ck_cuda_gemm(cu, pre_t, h_prev, a.w_hh, B, 4 * H, H, 0, 1, h_prev_ld, H, (int)pre_ld, 1.f, 1.f));
        const float *c_prev = s > 0 ? a.cache + (size_t)tp * 5 * H + 4 * H : a.c0;
        size_t cprev_ld = s > 0 ? cache_ld : (size_t)H;
        lstm_gates_fwd_kernel<<<grid, CK_BLOCK, 0, cu->stream>>>(a.h_out + (size_t)t * H, h_ld, a.cache + (size_t)t * 5 * H,
                                                                 cache_ld, s == L - 1 ? a.c_final : nullptr, pre_t, pre_ld,
                                                                 c_prev, cprev_ld, B, H);
        CK_TRY(ck_cuda_launched(cu, "lstm_fwd(gates)"));
    }
    return CK_OK;
}

/* ---- graph cache for the recurrent loop ---------------------------------------------------------------- */
struct lstm_graph {
    lstm_step_args args;
    cudaGraphExec_t exec;
};
struct lstm_graph_cache {
    std::vector<lstm_graph> entries;
};
enum { kGraphMaxBatch = 8, kGraphCacheSize = 16 };

static bool same_shape(const lstm_step_args &x, const lstm_step_args &y) {
    return x.B == y.B && x.L == y.L && x.H == y.H && x.reverse == y.reverse && (x.h0 == nullptr) == (y.h0 == nullptr) &&
           (x.c0 == nullptr) == (y.c0 == nullptr) && (x.c_final == nullptr) == (y.c_final == nullptr);
}
static bool same_args(const lstm_step_args &x, const lstm_step_args &y) { return memcmp(&x, &y, sizeof x) == 0; }

void ck_cuda_lstm_release(ck_cuda *cu) {
    auto *cache = static_cast<lstm_graph_cache *>(cu->lstm_graphs);
    if (!cache) return;
    for (auto &e : cache->entries) cudaGraphExecDestroy(e.exec);
    delete cache;
    cu->lstm_graphs = nullptr;
}

/** Runs the loop through a cached graph. Returns false (and leaves the stream clean) when graphs fail here. */
static bool lstm_recurrence_graph(ck_cuda *cu, const lstm_step_args &a) {
    auto *cache = static_cast<lstm_graph_cache *>(cu->lstm_graphs);
    if (!cache) cu->lstm_graphs = cache = new (std::nothrow) lstm_graph_cache();
    if (!cache) return false;
    for (auto &e : cache->entries)
        if (same_args(e.args, a)) return cudaGraphLaunch(e.exec, cu->stream) == cudaSuccess;

    cudaGraph_t graph = nullptr;
    if (cudaStreamBeginCapture(cu->stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    ck_status st = lstm_recurrence(cu, a);
    cudaError_t end = cudaStreamEndCapture(cu->stream, &graph);
    if (st != CK_OK || end != cudaSuccess || graph == nullptr) {
        if (graph) cudaGraphDestroy(graph);
        cudaGetLastError();
        return false;
    }
    bool ok = false;
    for (auto &e : cache->entries) {
        if (!same_shape(e.args, a)) continue;
        cudaGraphExecUpdateResultInfo info;
        if (cudaGraphExecUpdate(e.exec, graph, &info) == cudaSuccess) {
            e.args = a;
            ok = cudaGraphLaunch(e.exec, cu->stream) == cudaSuccess;
            cudaGraphDestroy(graph);
            return ok;
        }
        cudaGetLastError();
    }
    cudaGraphExec_t exec = nullptr;
    if (cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess) {
        if (cache->entries.size() >= kGraphCacheSize) {
            cudaGraphExecDestroy(cache->entries.front().exec);
            cache->entries.erase(cache->entries.begin());
        }
        cache->entries.push_back(lstm_graph{a, exec});
        ok = cudaGraphLaunch(exec, cu->stream) == cudaSuccess;
    }
    cudaGraphDestroy(graph);
    if (!ok) cudaGetLastError();
    return ok;
}

static ck_status check(ck_cuda *cu, const char *what, int B, int L, int IN, int H, int reverse) {
    if (B < 0 || L < 0 || IN < 0 || H < 0 || (reverse != 0 && reverse != 1))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "bad sizes B=%d L=%d IN=%d H=%d reverse=%d", B, L, IN, H, reverse);
    return CK_OK;
}

static ck_status lstm_fwd(ck_backend *b, float *h_out, float *c_final, float *cache, const float *inp,
                          const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                          const float *c0, int B, int L, int IN, int H, int reverse) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "lstm_fwd", B, L, IN, H, reverse));
    if (B == 0 || H == 0) return CK_OK;
    if (L == 0) { /* an empty sequence leaves the state unchanged */
        if (c_final && c0) CK_TRY_CUDA(cu, cudaMemcpyAsync(c_final, c0, (size_t)B * H * sizeof(float), cudaMemcpyDeviceToDevice, cu->stream));
        else if (c_final) CK_TRY_CUDA(cu, cudaMemsetAsync(c_final, 0, (size_t)B * H * sizeof(float), cu->stream));
        return CK_OK;
    }
    CK_REQUIRE(cu, h_out != nullptr && cache != nullptr && w_hh != nullptr, "lstm_fwd");
    int rows = B * L, H4 = 4 * H;
    ck_scratch pre(cu);
    CK_TRY(pre.get((size_t)rows * H4 * sizeof(float)));
    if (IN > 0) CK_TRY(ck_cuda_gemm(cu, pre.f(), inp, w_ih, rows, H4, IN, 0, 1, IN, IN, H4, 1.f, 0.f));
    else CK_TRY_CUDA(cu, cudaMemsetAsync(pre.f(), 0, (size_t)rows * H4 * sizeof(float), cu->stream));
    if (b_ih || b_hh) {
        size_t total = (size_t)rows * H4;
        lstm_bias_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(pre.f(), b_ih, b_hh, total, H4);
        CK_TRY(ck_cuda_launched(cu, "lstm_fwd(bias)"));
    }
    lstm_step_args args{h_out, c_final, cache, pre.f(), w_hh, h0, c0, B, L, H, reverse};
    if (cu->use_graphs && B <= kGraphMaxBatch && L > 1) {
        if (lstm_recurrence_graph(cu, args)) return CK_OK;
        cu->use_graphs = false; /* not supported here: direct launches from now on */
        cu->table.caps &= ~(uint32_t)CK_CAP_GRAPHS;
    }
    return lstm_recurrence(cu, args);
}

static ck_status lstm_bwd(ck_backend *b, float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                          float *dh0, float *dc0, float *scratch, const float *dh_out, const float *dc_final,
                          const float *inp, const float *w_ih, const float *w_hh, const float *h0, const float *c0,
                          const float *cache, const float *h_out, int B, int L, int IN, int H, int reverse) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "lstm_bwd", B, L, IN, H, reverse));
    if (B == 0 || H == 0) return CK_OK;
    if (L == 0) { /* the state passed through unchanged: dc0 += dc_final */
        if (dc0 && dc_final) CK_TRY(b->axpy(b, dc0, dc_final, 1.f, (size_t)B * H));
        return CK_OK;
    }
    CK_REQUIRE(cu, scratch != nullptr && cache != nullptr && h_out != nullptr, "lstm_bwd");
    int rows = B * L, H4 = 4 * H;
    size_t dg_ld = (size_t)L * H4, cache_ld = (size_t)L * 5 * H, h_ld = (size_t)L * H;
    float *dgates = scratch, *dh = scratch + (size_t)rows * H4, *dc = dh + (size_t)B * H;
    size_t bh_bytes = (size_t)B * H * sizeof(float);
    CK_TRY_CUDA(cu, cudaMemsetAsync(dh, 0, bh_bytes, cu->stream));
    if (dc_final) CK_TRY_CUDA(cu, cudaMemcpyAsync(dc, dc_final, bh_bytes, cudaMemcpyDeviceToDevice, cu->stream));
    else CK_TRY_CUDA(cu, cudaMemsetAsync(dc, 0, bh_bytes, cu->stream));
    unsigned grid = ck_grid((size_t)B * H);
    for (int s = L - 1; s >= 0; s--) {
        int t = reverse ? L - 1 - s : s, tp = reverse ? t + 1 : t - 1;
        const float *c_prev = s > 0 ? cache + (size_t)tp * 5 * H + 4 * H : c0;
        size_t cprev_ld = s > 0 ? cache_ld : (size_t)H;
        float *dg_t = dgates + (size_t)t * H4;
        lstm_gates_bwd_kernel<<<grid, CK_BLOCK, 0, cu->stream>>>(dg_t, dg_ld, dc, dh, dh_out ? dh_out + (size_t)t * H : nullptr,
                                                                 h_ld, cache + (size_t)t * 5 * H, cache_ld, c_prev,
                                                                 cprev_ld, B, H);
        CK_TRY(ck_cuda_launched(cu, "lstm_bwd(gates)"));
        if (s > 0 || dh0) /* recurrent gradient: dh = dgates[:, t] @ w_hh */
            CK_TRY(ck_cuda_gemm(cu, dh, dg_t, w_hh, B, H, H4, 0, 0, (int)dg_ld, H, H, 1.f, 0.f));
    }
    if (dh0) CK_TRY(b->axpy(b, dh0, dh, 1.f, (size_t)B * H));
    if (dc0) CK_TRY(b->axpy(b, dc0, dc, 1.f, (size_t)B * H));
    if (dinp && IN > 0) CK_TRY(ck_cuda_gemm(cu, dinp, dgates, w_ih, rows, IN, H4, 0, 0, H4, IN, IN, 1.f, 1.f));
    if (dw_ih && IN > 0) CK_TRY(ck_cuda_gemm(cu, dw_ih, dgates, inp, H4, IN, rows, 1, 0, H4, IN, IN, 1.f, 1.f));
    if (dw_hh) {
        ck_scratch hprev(cu);
        CK_TRY(hprev.get((size_t)rows * H * sizeof(float)));
        lstm_hprev_kernel<<<ck_grid((size_t)rows * H), CK_BLOCK, 0, cu->stream>>>(hprev.f(), h_out, h0, B, L, H, reverse);
        CK_TRY(ck_cuda_launched(cu, "lstm_bwd(hprev)"));
        CK_TRY(ck_cuda_gemm(cu, dw_hh, dgates, hprev.f(), H4, H, rows, 1, 0, H4, H, H, 1.f, 1.f));
    }
    if (db_ih) CK_TRY(ck_cuda_column_sum(cu, db_ih, dgates, rows, H4, H4, 1.f));
    if (db_hh) CK_TRY(ck_cuda_column_sum(cu, db_hh, dgates, rows, H4, H4, 1.f));
    return CK_OK;
}

void ck_cuda_fill_lstm_ops(ck_backend *t) {
    t->lstm_fwd = lstm_fwd;
    t->lstm_bwd = lstm_bwd;
}
