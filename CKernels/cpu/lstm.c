/*
 * lstm.c — one LSTM layer, one direction, over a whole sequence (PyTorch nn.LSTM equations, gates i, f, g, o):
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(...)   g = tanh(...)   o = σ(...)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g              h_t = o ⊙ tanh(c_t)
 *
 * Forward: one sgemm projects every step's input at once (B*L, IN) @ w_ih^T into the cache; then, per step,
 * one split over hidden units adds h_{t-1} @ w_hh^T for those units' gates and applies the cell update. Backward
 * keeps every step's gate gradients (scratch) so that dinp, dw_ih, dw_hh and the biases are each one sgemm / sum
 * over all steps. From a batch of 4 (with AVX-512) the recurrent products run on w_hh packed once per call
 * (packed_gemm.c: OpenBLAS would re-pack it every step), and the state / gate gradients each step produces are
 * packed by the threads that compute them; below that, a step is a matrix-vector product (gemm.c).
 *
 * Cache layout (private to this backend; CK_LSTM_CACHE_FLOATS): (B, L, 5H), row (b, t) = activated gates
 * [i | f | g | o] (4H) followed by the cell state c_t (H).
 *
 *     cpu->lstm_fwd(cpu, h_out, NULL, cache, x, w_ih, w_hh, b_ih, b_hh, NULL, NULL, B, L, IN, H, 0);
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <string.h>

/* One sequence's step over hidden units [j0, j1): row = pre-activations [i|f|g|o] (4H) without the biases
 * -> activated gates, then c (H) and h (H). bias = b_ih + b_hh (4H). */
CK_VECTOR_CLONES
static void lstm_cell_forward(float *restrict row, const float *restrict bias, const float *restrict cprev,
                              float *restrict h, int H, int j0, int j1) {
    float *restrict gi = row, *restrict gf = row + H, *restrict gg = row + 2 * H, *restrict go = row + 3 * H;
    const float *restrict bi = bias, *restrict bf = bias + H, *restrict bg = bias + 2 * H, *restrict bo = bias + 3 * H;
    float *restrict c = row + 4 * H;
    for (int j = j0; j < j1; j++) {
        float i = ck_sigmoidf(gi[j] + bi[j]), f = ck_sigmoidf(gf[j] + bf[j]), g = ck_tanhf(gg[j] + bg[j]),
              o = ck_sigmoidf(go[j] + bo[j]);
        float cn = f * cprev[j] + i * g;
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        c[j] = cn;
        h[j] = o * ck_tanhf(cn);
    }
}

/* One sequence's step backward: gate gradients dg (4H) from dh (this step's output gradient + the carry dhn)
 * and the cell carry dcn, which is replaced by the carry to the previous step. */
CK_VECTOR_CLONES
static void lstm_cell_backward(const float *restrict row, const float *restrict cprev, const float *restrict dh_step,
                               const float *restrict dhn, float *restrict dcn, float *restrict dg, int H, int j0,
                               int j1) {
    const float *restrict gi = row, *restrict gf = row + H, *restrict gg = row + 2 * H, *restrict go = row + 3 * H;
    const float *restrict c = row + 4 * H;
    for (int j = j0; j < j1; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j];
        float tc = ck_tanhf(c[j]);
        float dh = dh_step[j] + dhn[j];
        float dc = dcn[j] + dh * o * (1.0f - tc * tc);
        dg[j] = dc * g * i * (1.0f - i);
        dg[H + j] = dc * cprev[j] * f * (1.0f - f);
        dg[2 * H + j] = dc * i * (1.0f - g * g);
        dg[3 * H + j] = dh * tc * o * (1.0f - o);
        dcn[j] = dc * f;
    }
}

/* H zeros: the initial cell state when c0 is NULL (per-thread workspace slot 1). */
static const float *zeros(int H) {
    float *z = ck_cpu_workspace(1, (size_t)H);
    if (z != NULL) memset(z, 0, (size_t)H * sizeof(float));
    return z;
}

/* Step s in processing order (forward in time, or backward when reverse): its time index t and the time index
 * tp of the step processed before it (-1 for the first: the state is h0/c0, or zeros). */
static void step_times(int s, int L, int reverse, int *t, int *tp) {
    *t = reverse ? L - 1 - s : s;
    *tp = s == 0 ? -1 : (reverse ? *t + 1 : *t - 1);
}

/* Items per thread so that a split carries at least ~2^15 multiply-adds (a split costs about a microsecond). */
static int min_items_per_thread(long long per_item) {
    long long n = ((1LL << 15) + per_item - 1) / (per_item > 0 ? per_item : 1);
    return n < 1 ? 1 : (int)n;
}

/* One forward step for all sequences over a range of hidden units: the recurrent product for those units'
 * four gates (+= h_prev @ w_hh[rows of those gates]^T), then their cell update. A hidden unit's gates, c and h
 * depend on h_prev only, so ranges are independent and a whole step is one split over the pool. */
enum { LSTM_UNIT = 16 };
typedef struct lstm_step_job {
    float *cache, *h_out;
    const float *w_hh, *h0, *c0, *zero, *bias; /* bias: b_ih + b_hh (4H) */
    int B, L, H, t, tp;                        /* tp < 0: the first step (state h0/c0, or zeros) */
    int group;                                 /* lstm_fwd_general: LSTM_UNIT-unit blocks per group */
} lstm_step_job;

/* The cell update of hidden units [j0, j1) of step t for every sequence. */
static void lstm_cells_forward(const lstm_step_job *j, int j0, int j1) {
    const int L = j->L, H = j->H;
    const size_t ROW = 5u * (size_t)H;
    for (int bi = 0; bi < j->B; bi++) {
        float *row = j->cache + ((size_t)bi * (size_t)L + (size_t)j->t) * ROW;
        const float *cprev = j->zero;
        if (j->tp >= 0) cprev = j->cache + ((size_t)bi * (size_t)L + (size_t)j->tp) * ROW + 4 * H;
        else if (j->c0 != NULL) cprev = j->c0 + (size_t)bi * (size_t)H;
        lstm_cell_forward(row, j->bias, cprev, j->h_out + ((size_t)bi * (size_t)L + (size_t)j->t) * (size_t)H, H, j0,
                          j1);
    }
}

/* Groups [begin, end) of `group` units: per group, one product per gate (the group's columns), then the cell
 * updates. The groups depend on the shape alone (lstm_fwd_general), so each product is the same OpenBLAS call
 * whatever the thread count: results are bit-identical for any thread count. */
static void lstm_step_range(void *ctx, int begin, int end) {
    const lstm_step_job *j = ctx;
    const int L = j->L, H = j->H;
    const size_t ROW = 5u * (size_t)H;
    float *pre_t = j->cache + (size_t)j->t * ROW;
    const float *hprev = j->tp >= 0 ? j->h_out + (size_t)j->tp * (size_t)H : j->h0;
    int ldh = j->tp >= 0 ? L * H : H;
    for (int g = begin; g < end; g++) {
        int j0 = g * j->group * LSTM_UNIT, j1 = j0 + j->group * LSTM_UNIT;
        if (j1 > H) j1 = H;
        if (hprev != NULL) {
            for (int q = 0; q < 4; q++) /* pre[:, qH + j0 : qH + j1] += h_prev @ w_hh[qH + j0 : qH + j1, :]^T */
                ck_cpu_sgemm(0, 1, j->B, j1 - j0, H, 1.0f, hprev, ldh,
                             j->w_hh + ((size_t)q * H + (size_t)j0) * (size_t)H, H, 1.0f, pre_t + (size_t)q * H + j0,
                             (int)((size_t)L * ROW));
        }
        lstm_cells_forward(j, j0, j1);
    }
}

/* The same step with w_hh packed once per call (packed_gemm.c): ranges of 32-unit panels; P holds the four
 * gates' w_hh^T one after another, each ck_cpu_packed_floats(H, H) floats. h_prev comes packed (Acur, by the
 * previous step's ranges); each range packs its own columns of h_t into Anext for the next step. */
typedef struct lstm_packed_job {
    lstm_step_job step;
    const float *P, *Acur;
    float *Anext;
    int has_prev, pack_next;
} lstm_packed_job;

static void lstm_step_panels(void *ctx, int begin, int end) {
    const lstm_packed_job *pj = ctx;
    const lstm_step_job *j = &pj->step;
    const int B = j->B, L = j->L, H = j->H;
    const size_t ROW = 5u * (size_t)H, gate = ck_cpu_packed_floats(H, H);
    int j0 = begin * CK_PANEL, j1 = end * CK_PANEL;
    if (j1 > H) j1 = H;
    float *pre_t = j->cache + (size_t)j->t * ROW;
    if (pj->has_prev)
        for (int q = 0; q < 4; q++) /* pre[:, qH + j0 : qH + j1] += h_prev @ w_hh[qH + j0 : qH + j1, :]^T */
            ck_cpu_packed_gemm(B, begin, end, H, pj->Acur, pj->P + (size_t)q * gate, H, 1.0f, pre_t + (size_t)q * H,
                               (int)((size_t)L * ROW));
    lstm_cells_forward(j, j0, j1);
    if (pj->pack_next)
        ck_cpu_pack_a_cols(pj->Anext, j->h_out + (size_t)j->t * (size_t)H, L * H, B, H, j0, j1);
}

#ifdef CK_AVX512_KERNELS
/* Batch 1 (the robot's live call): w_hh rearranged once per call so that a block of 16 hidden units has its 64
 * gate rows (i, f, g, o; 16 each) next to each other, then each step runs, per block, four 16-row
 * matrix-vector kernels (ck_cpu_gemv_rows16: the same kernel and the same bits as the 1-row products of the
 * general path) and the block's cell update, with no per-gate product calls in between. */
typedef struct lstm_vector_job {
    lstm_step_job step;
    const float *Wb; /* (4H, H): block u's gate q rows at u*64 + q*16 */
} lstm_vector_job;

static void lstm_step_vector(void *ctx, int begin, int end) {
    const lstm_vector_job *vj = ctx;
    const lstm_step_job *j = &vj->step;
    const int H = j->H;
    const size_t ROW = 5u * (size_t)H;
    float *row = j->cache + (size_t)j->t * ROW;
    const float *hprev = j->tp >= 0 ? j->h_out + (size_t)j->tp * (size_t)H : j->h0;
    const float *cprev = j->tp >= 0 ? j->cache + (size_t)j->tp * ROW + 4 * H : (j->c0 != NULL ? j->c0 : j->zero);
    for (int u = begin; u < end; u++) {
        const int j0 = u * LSTM_UNIT;
        if (hprev != NULL) {
            float sums[4 * LSTM_UNIT];
            for (int q = 0; q < 4; q++)
                ck_cpu_gemv_rows16(sums + q * LSTM_UNIT, H, vj->Wb + ((size_t)u * 4 * LSTM_UNIT + (size_t)q * LSTM_UNIT) * (size_t)H,
                                   H, hprev);
            for (int q = 0; q < 4; q++)
                for (int r = 0; r < LSTM_UNIT; r++) row[(size_t)q * H + j0 + r] += sums[q * LSTM_UNIT + r];
        }
        lstm_cell_forward(row, j->bias, cprev, j->h_out + (size_t)j->t * (size_t)H, H, j0, j0 + LSTM_UNIT);
    }
}

typedef struct lstm_block_pack_job {
    float *Wb;
    const float *w_hh;
    int H;
} lstm_block_pack_job;

static void lstm_block_pack_range(void *ctx, int begin, int end) {
    const lstm_block_pack_job *j = ctx;
    const size_t H = (size_t)j->H, rows = LSTM_UNIT * H;
    for (int u = begin; u < end; u++)
        for (int q = 0; q < 4; q++)
            memcpy(j->Wb + ((size_t)u * 4 + (size_t)q) * rows, j->w_hh + ((size_t)q * H + (size_t)u * LSTM_UNIT) * H,
                   rows * sizeof(float));
}
#endif

/* Packing w_hh over the pool: items are (gate, panel) pairs (gates = 4, w_hh^T per gate: forward) or panels of
 * w_hh itself (gates = 0: backward, op(B) = w_hh (4H, H)). */
typedef struct lstm_pack_job {
    float *P;
    const float *w_hh;
    int H, gates;
} lstm_pack_job;

static void lstm_pack_range(void *ctx, int begin, int end) {
    const lstm_pack_job *j = ctx;
    const int H = j->H, panels = ck_cpu_panels(H);
    if (j->gates == 0) {
        ck_cpu_pack_b_panels(j->P, j->w_hh, H, 0, 4 * H, H, begin, end);
        return;
    }
    const size_t gate = ck_cpu_packed_floats(H, H);
    for (int item = begin; item < end; item++) {
        int q = item / panels, p = item % panels;
        ck_cpu_pack_b_panels(j->P + (size_t)q * gate, j->w_hh + (size_t)q * (size_t)H * (size_t)H, H, 1, H, H, p,
                             p + 1);
    }
}

/* Batches from this size on run the packed steps (where the AVX-512 tiles exist): below it a step is a
 * matrix-vector product that streams w_hh once, and packing would only add a copy. */
enum { LSTM_PACKED_MIN_BATCH = 4 };
static int lstm_packed(int B, int H) {
    return B >= LSTM_PACKED_MIN_BATCH && H > 0 && ck_cpu_packed_gemm_available();
}

/* The steps of a forward call, by path (job.t / job.tp are set per step). */
static ck_status lstm_fwd_packed(lstm_step_job job, int reverse) {
    const int B = job.B, L = job.L, H = job.H, panels = ck_cpu_panels(H);
    /* slot 3: w_hh^T packed per gate, then two packed states (the step's h_prev and the next one's) */
    const size_t wsize = 4 * ck_cpu_packed_floats(H, H), asize = ck_cpu_packed_a_floats(B, H);
    float *P = ck_cpu_workspace(3, wsize + 2 * asize);
    if (P == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_fwd: no memory for the packed w_hh");
    float *A[2] = {P + wsize, P + wsize + asize};
    lstm_pack_job pack = {P, job.w_hh, H, 4};
    ck_cpu_parallel_for(4 * panels, 1, lstm_pack_range, &pack);
    if (job.h0 != NULL) ck_cpu_pack_a_cols(A[0], job.h0, H, B, H, 0, H);
    lstm_packed_job pj = {job, P, NULL, NULL, 0, 0};
    const int min_panels = min_items_per_thread((long long)B * 4 * CK_PANEL * H);
    for (int s = 0; s < L; s++) {
        step_times(s, L, reverse, &pj.step.t, &pj.step.tp);
        pj.Acur = A[s & 1];
        pj.Anext = A[(s + 1) & 1];
        pj.has_prev = s > 0 || job.h0 != NULL;
        pj.pack_next = s + 1 < L;
        ck_cpu_parallel_for(panels, min_panels, lstm_step_panels, &pj);
    }
    return CK_OK;
}

#ifdef CK_AVX512_KERNELS
static ck_status lstm_fwd_blocks(lstm_step_job job, int reverse) {
    const int L = job.L, H = job.H, units = H / LSTM_UNIT;
    float *Wb = ck_cpu_workspace(3, 4 * (size_t)H * (size_t)H);
    if (Wb == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_fwd: no memory for the rearranged w_hh");
    lstm_block_pack_job pack = {Wb, job.w_hh, H};
    ck_cpu_parallel_items(units, 4LL * LSTM_UNIT * H, lstm_block_pack_range, &pack);
    lstm_vector_job vj = {job, Wb};
    const int min_units = min_items_per_thread(4LL * LSTM_UNIT * H);
    for (int s = 0; s < L; s++) {
        step_times(s, L, reverse, &vj.step.t, &vj.step.tp);
        ck_cpu_parallel_for(units, min_units, lstm_step_vector, &vj);
    }
    return CK_OK;
}
#endif

/* At most LSTM_GROUPS groups of whole units per step, fixed by H (see lstm_step_range). */
enum { LSTM_GROUPS = 8 };
static void lstm_fwd_general(lstm_step_job job, int reverse) {
    const int units = (job.H + LSTM_UNIT - 1) / LSTM_UNIT;
    job.group = (units + LSTM_GROUPS - 1) / LSTM_GROUPS;
    const int groups = (units + job.group - 1) / job.group;
    const int min_groups = min_items_per_thread((long long)job.B * 4 * LSTM_UNIT * job.group * job.H);
    for (int s = 0; s < job.L; s++) {
        step_times(s, job.L, reverse, &job.t, &job.tp);
        ck_cpu_parallel_for(groups, min_groups, lstm_step_range, &job);
    }
}

static ck_status check_lstm(const char *op, int B, int L, int IN, int H, int reverse) {
    CK_REQUIRE(B >= 0 && L >= 0 && IN >= 0 && H >= 0, "%s: sizes must be >= 0 (B=%d L=%d IN=%d H=%d)", op, B, L, IN,
               H);
    CK_REQUIRE(reverse == 0 || reverse == 1, "%s: reverse must be 0 or 1 (got %d)", op, reverse);
    return CK_OK;
}

ck_status ck_cpu_lstm_fwd(ck_backend *b, float *h_out, float *c_final, float *cache, const float *inp,
                          const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                          const float *c0, int B, int L, int IN, int H, int reverse) {
    (void)b;
    ck_status st = check_lstm("lstm_fwd", B, L, IN, H, reverse);
    if (st != CK_OK) return st;
    if (B == 0 || H == 0) return CK_OK;
    if (L == 0) {
        /* An empty sequence leaves the state unchanged. */
        if (c_final != NULL) {
            if (c0 != NULL) memcpy(c_final, c0, (size_t)B * (size_t)H * sizeof(float));
            else memset(c_final, 0, (size_t)B * (size_t)H * sizeof(float));
        }
        return CK_OK;
    }
    CK_REQUIRE(h_out != NULL && cache != NULL && w_hh != NULL, "lstm_fwd: h_out, cache or w_hh is NULL");
    CK_REQUIRE(IN == 0 || (inp != NULL && w_ih != NULL), "lstm_fwd: inp or w_ih is NULL");
    const size_t G = 4u * (size_t)H, ROW = 5u * (size_t)H;
    const size_t rows = (size_t)B * (size_t)L;
    const float *zero = zeros(H);
    if (zero == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_fwd: no memory for the zero state");

    /* Pre-activations of all steps without the biases: inp @ w_ih^T, written straight into the cache; each step
     * adds h_prev @ w_hh^T and the cell update adds b_ih + b_hh. */
    float *bias = ck_cpu_workspace(2, G);
    if (bias == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_fwd: no memory for the bias sum");
    for (size_t j = 0; j < G; j++) bias[j] = (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
    ck_cpu_sgemm(0, 1, (int)rows, (int)G, IN, 1.0f, inp, IN > 0 ? IN : 1, w_ih, IN > 0 ? IN : 1, 0.0f, cache,
                 (int)ROW);

    lstm_step_job job = {cache, h_out, w_hh, h0, c0, zero, bias, B, L, H, 0, 0, 0};
    if (lstm_packed(B, H)) st = lstm_fwd_packed(job, reverse);
#ifdef CK_AVX512_KERNELS
    else if (B == 1 && H % LSTM_UNIT == 0 && ck_cpu_has_avx512f()) st = lstm_fwd_blocks(job, reverse);
#endif
    else lstm_fwd_general(job, reverse);
    if (st != CK_OK) return st;
    if (c_final != NULL) {
        int tlast = reverse ? 0 : L - 1;
        for (int bi = 0; bi < B; bi++)
            memcpy(c_final + (size_t)bi * (size_t)H, cache + ((size_t)bi * (size_t)L + (size_t)tlast) * ROW + 4 * H,
                   (size_t)H * sizeof(float));
    }
    return CK_OK;
}

/* One backward step's cell update for a range of sequences (rows are independent). */
typedef struct lstm_back_job {
    const float *cache, *c0, *zero, *dh_out;
    float *dh_next, *dc_next, *dgates;
    int L, H, t, tp; /* tp < 0: the first step */
} lstm_back_job;

/* The cell backward of sequences [b0, b1), hidden units [j0, j1), of step t. */
static void lstm_cells_backward(const lstm_back_job *j, int b0, int b1, int j0, int j1) {
    const int L = j->L, H = j->H;
    const size_t ROW = 5u * (size_t)H, G = 4u * (size_t)H;
    for (int bi = b0; bi < b1; bi++) {
        size_t r = (size_t)bi * (size_t)L + (size_t)j->t;
        const float *cprev = j->zero;
        if (j->tp >= 0) cprev = j->cache + ((size_t)bi * (size_t)L + (size_t)j->tp) * ROW + 4 * H;
        else if (j->c0 != NULL) cprev = j->c0 + (size_t)bi * (size_t)H;
        lstm_cell_backward(j->cache + r * ROW, cprev, j->dh_out + r * (size_t)H, j->dh_next + (size_t)bi * (size_t)H,
                           j->dc_next + (size_t)bi * (size_t)H, j->dgates + r * G, H, j0, j1);
    }
}

static void lstm_back_rows(void *ctx, int begin, int end) {
    const lstm_back_job *j = ctx;
    lstm_cells_backward(j, begin, end, 0, j->H);
}

/* Backward with w_hh packed once per call: one split per step over 32-unit panels. A range first finishes the
 * product of the step processed before (dh_next[:, its units] = dgates_tn (B, 4H) @ w_hh[:, its units], from
 * dgates_tn packed in Aprev by the previous split), then runs its units' cell update of step t and packs their
 * gate columns of dgates_t into Acur for the next split. */
typedef struct lstm_back_packed_job {
    lstm_back_job back;
    const float *P, *Aprev;
    float *Acur;
    int B, product, cell, pack; /* product: a step was processed before; cell 0: the product only */
} lstm_back_packed_job;

static void lstm_back_panels(void *ctx, int begin, int end) {
    const lstm_back_packed_job *pj = ctx;
    const lstm_back_job *j = &pj->back;
    const int L = j->L, H = j->H, B = pj->B;
    const size_t G = 4u * (size_t)H;
    int j0 = begin * CK_PANEL, j1 = end * CK_PANEL;
    if (j1 > H) j1 = H;
    if (pj->product) ck_cpu_packed_gemm(B, begin, end, (int)G, pj->Aprev, pj->P, H, 0.0f, j->dh_next, H);
    if (!pj->cell) return;
    lstm_cells_backward(j, 0, B, j0, j1);
    if (pj->pack)
        for (int q = 0; q < 4; q++)
            ck_cpu_pack_a_cols(pj->Acur, j->dgates + (size_t)j->t * G, (int)((size_t)L * G), B, (int)G, q * H + j0,
                               q * H + j1);
}

/* The recurrent part of a backward call, by path: every step's gate gradients into job.dgates and, when
 * want_dh0, the gradient reaching h0 left in job.dh_next. */
static ck_status lstm_bwd_packed(lstm_back_job job, int B, const float *w_hh, int reverse, int want_dh0) {
    const int L = job.L, H = job.H, panels = ck_cpu_panels(H);
    const size_t G = 4u * (size_t)H;
    /* slot 3: w_hh packed, then two packed gate-gradient blocks (the step's and the previous one's) */
    const size_t wsize = ck_cpu_packed_floats((int)G, H), asize = ck_cpu_packed_a_floats(B, (int)G);
    float *P = ck_cpu_workspace(3, wsize + 2 * asize);
    if (P == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the packed w_hh");
    float *A[2] = {P + wsize, P + wsize + asize};
    lstm_pack_job pack = {P, w_hh, H, 0};
    ck_cpu_parallel_for(panels, 1, lstm_pack_range, &pack);
    lstm_back_packed_job pj = {job, P, NULL, NULL, B, 0, 1, 0};
    const int min_panels = min_items_per_thread((long long)B * (long long)G * CK_PANEL);
    for (int s = L - 1; s >= 0; s--) {
        step_times(s, L, reverse, &pj.back.t, &pj.back.tp);
        pj.Aprev = A[(s + 1) & 1];
        pj.Acur = A[s & 1];
        pj.product = s < L - 1;
        pj.pack = s > 0 || want_dh0;
        ck_cpu_parallel_for(panels, min_panels, lstm_back_panels, &pj);
    }
    if (want_dh0) { /* the gradient reaching h0: the product of the last step processed (s = 0) */
        pj.Aprev = A[0];
        pj.product = 1;
        pj.cell = 0;
        ck_cpu_parallel_for(panels, min_panels, lstm_back_panels, &pj);
    }
    return CK_OK;
}

static void lstm_bwd_general(lstm_back_job job, int B, const float *w_hh, int reverse, int want_dh0) {
    const int L = job.L, H = job.H;
    const size_t G = 4u * (size_t)H;
    int min_rows = (int)((8192 + (size_t)H - 1) / (size_t)H); /* split the cell update at >= 8192 units */
    for (int s = L - 1; s >= 0; s--) {
        step_times(s, L, reverse, &job.t, &job.tp);
        ck_cpu_parallel_for(B, min_rows, lstm_back_rows, &job);
        /* dh reaching the previous step: dgates_t (B, 4H) @ w_hh (4H, H). */
        if (s > 0 || want_dh0)
            ck_cpu_sgemm(0, 0, B, H, (int)G, 1.0f, job.dgates + (size_t)job.t * G, (int)((size_t)L * G), w_hh, H,
                         0.0f, job.dh_next, H);
    }
}

ck_status ck_cpu_lstm_bwd(ck_backend *b, float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                          float *dh0, float *dc0, float *scratch, const float *dh_out, const float *dc_final,
                          const float *inp, const float *w_ih, const float *w_hh, const float *h0, const float *c0,
                          const float *cache, const float *h_out, int B, int L, int IN, int H, int reverse) {
    (void)b;
    ck_status st = check_lstm("lstm_bwd", B, L, IN, H, reverse);
    if (st != CK_OK) return st;
    if (B == 0 || H == 0) return CK_OK;
    const size_t BH = (size_t)B * (size_t)H;
    if (L == 0) {
        /* h_out is empty; the final cell is c0, so its gradient flows straight through. */
        if (dc0 != NULL && dc_final != NULL)
            for (size_t j = 0; j < BH; j++) dc0[j] += dc_final[j];
        return CK_OK;
    }
    CK_REQUIRE(scratch != NULL && cache != NULL && h_out != NULL && w_hh != NULL,
               "lstm_bwd: scratch, cache, h_out or w_hh is NULL");
    CK_REQUIRE(dh_out != NULL, "lstm_bwd: dh_out is NULL");
    CK_REQUIRE(IN == 0 || dinp == NULL || w_ih != NULL, "lstm_bwd: w_ih is NULL");
    CK_REQUIRE(IN == 0 || dw_ih == NULL || inp != NULL, "lstm_bwd: inp is NULL");
    const size_t G = 4u * (size_t)H;
    const size_t rows = (size_t)B * (size_t)L;
    float *dgates = scratch;          /* (B, L, 4H) pre-activation gradients */
    float *dh_next = scratch + rows * G; /* (B, H) gradient reaching h of the current step from the next one */
    float *dc_next = dh_next + BH;    /* (B, H) gradient reaching c of the current step from the next one */
    const float *zero = zeros(H);
    if (zero == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the zero state");
    memset(dh_next, 0, BH * sizeof(float));
    if (dc_final != NULL) memcpy(dc_next, dc_final, BH * sizeof(float));
    else memset(dc_next, 0, BH * sizeof(float));

    lstm_back_job job = {cache, c0, zero, dh_out, dh_next, dc_next, dgates, L, H, 0, 0};
    if (lstm_packed(B, H)) {
        st = lstm_bwd_packed(job, B, w_hh, reverse, dh0 != NULL);
        if (st != CK_OK) return st;
    } else {
        lstm_bwd_general(job, B, w_hh, reverse, dh0 != NULL);
    }
    if (dh0 != NULL)
        for (size_t j = 0; j < BH; j++) dh0[j] += dh_next[j];
    if (dc0 != NULL)
        for (size_t j = 0; j < BH; j++) dc0[j] += dc_next[j];

    if (IN > 0 && dinp != NULL) /* dinp (B*L, IN) += dgates (B*L, 4H) @ w_ih (4H, IN) */
        ck_cpu_sgemm(0, 0, (int)rows, IN, (int)G, 1.0f, dgates, (int)G, w_ih, IN, 1.0f, dinp, IN);
    if (IN > 0 && dw_ih != NULL) /* dw_ih (4H, IN) += dgates^T @ inp */
        ck_cpu_sgemm(1, 0, (int)G, IN, (int)rows, 1.0f, dgates, (int)G, inp, IN, 1.0f, dw_ih, IN);
    if (dw_hh != NULL) {
        /* dw_hh (4H, H) += dgates^T @ h_prev, with h_prev (B*L, H) the state each step started from. */
        float *hprev = ck_cpu_workspace(0, rows * (size_t)H);
        if (hprev == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the previous states");
        for (int bi = 0; bi < B; bi++) {
            for (int t = 0; t < L; t++) {
                int tp = reverse ? t + 1 : t - 1;
                float *dst = hprev + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)H;
                if (tp >= 0 && tp < L) memcpy(dst, h_out + ((size_t)bi * (size_t)L + (size_t)tp) * (size_t)H,
                                              (size_t)H * sizeof(float));
                else if (h0 != NULL) memcpy(dst, h0 + (size_t)bi * (size_t)H, (size_t)H * sizeof(float));
                else memset(dst, 0, (size_t)H * sizeof(float));
            }
        }
        ck_cpu_sgemm(1, 0, (int)G, H, (int)rows, 1.0f, dgates, (int)G, hprev, H, 1.0f, dw_hh, H);
    }
    if (db_ih != NULL && db_hh != NULL) {
        /* Both biases get the same column sums: sum once (+= onto zeros gives the same float), add twice. */
        float *sums = ck_cpu_workspace(2, G);
        if (sums == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the bias sums");
        memset(sums, 0, G * sizeof(float));
        ck_cpu_column_sums_add(sums, dgates, (int)rows, (int)G, (int)G);
        for (size_t j = 0; j < G; j++) {
            db_ih[j] += sums[j];
            db_hh[j] += sums[j];
        }
    } else {
        if (db_ih != NULL) ck_cpu_column_sums_add(db_ih, dgates, (int)rows, (int)G, (int)G);
        if (db_hh != NULL) ck_cpu_column_sums_add(db_hh, dgates, (int)rows, (int)G, (int)G);
    }
    return CK_OK;
}
