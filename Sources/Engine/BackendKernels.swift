import CKernels

/// Checked wrappers of the matrix-product and layer kernels of ckernels.h. Argument order follows the C table:
/// outputs, inputs, sizes, hyper-parameters. Backward kernels ACCUMULATE into gradients (the caller zeroes);
/// a nil gradient means "not needed".
///
///     try backend.linearForward(out: y, input: x, weight: w, bias: b, rows: 8, inFeatures: 4, outFeatures: 3)
extension Backend {
    /// C = alpha op(A) op(B) + beta C, row-major; lda/ldb/ldc are the stored row strides.
    public func gemm(_ c: Tensor, _ a: Tensor, _ b: Tensor, m: Int, n: Int, k: Int, transA: Bool = false,
                     transB: Bool = false, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil,
                     alpha: Float = 1, beta: Float = 0) throws(EngineError) {
        let op = "gemm"
        try dims(op, m, n, k)
        let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
        let pa = try stridedIn(a, rows: transA ? k : m, cols: transA ? m : k, ld: lda, op, "A")
        let pb = try stridedIn(b, rows: transB ? n : k, cols: transB ? k : n, ld: ldb, op, "B")
        let pc = try strided(c, rows: m, cols: n, ld: ldc, op, "C")
        try check(fn(\.gemm, op)(raw, pc, pa, pb, c32(m), c32(n), c32(k), transA ? 1 : 0, transB ? 1 : 0,
                                 c32(lda), c32(ldb), c32(ldc), alpha, beta), op)
    }

    /// out (rows, OUT) = input (rows, IN) @ weight^T + bias.
    public func linearForward(out: Tensor, input: Tensor, weight: Tensor, bias: Tensor?, rows: Int,
                              inFeatures: Int, outFeatures: Int) throws(EngineError) {
        let op = "linear_fwd"
        try dims(op, rows, inFeatures, outFeatures)
        try check(fn(\.linear_fwd, op)(raw, self.out(out, rows * outFeatures, op, "out"),
                                       inp(input, rows * inFeatures, op, "inp"),
                                       inp(weight, outFeatures * inFeatures, op, "weight"),
                                       inp(bias, outFeatures, op, "bias"), c32(rows), c32(inFeatures), c32(outFeatures)), op)
    }

    public func linearBackward(dInput: Tensor?, dWeight: Tensor?, dBias: Tensor?, dOut: Tensor, input: Tensor,
                               weight: Tensor, rows: Int, inFeatures: Int, outFeatures: Int) throws(EngineError) {
        let op = "linear_bwd"
        try dims(op, rows, inFeatures, outFeatures)
        try check(fn(\.linear_bwd, op)(raw, out(dInput, rows * inFeatures, op, "dinp"),
                                       out(dWeight, outFeatures * inFeatures, op, "dweight"),
                                       out(dBias, outFeatures, op, "dbias"),
                                       inp(dOut, rows * outFeatures, op, "dout"), inp(input, rows * inFeatures, op, "inp"),
                                       inp(weight, outFeatures * inFeatures, op, "weight"),
                                       c32(rows), c32(inFeatures), c32(outFeatures)), op)
    }

    /// x (rows, C) += bias (C).
    public func biasAddForward(_ x: Tensor, bias: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "bias_add_fwd"
        try dims(op, rows, columns)
        try check(fn(\.bias_add_fwd, op)(raw, out(x, rows * columns, op, "x"), inp(bias, columns, op, "bias"),
                                         c32(rows), c32(columns)), op)
    }

    public func biasAddBackward(dBias: Tensor, dOut: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "bias_add_bwd"
        try dims(op, rows, columns)
        try check(fn(\.bias_add_bwd, op)(raw, out(dBias, columns, op, "dbias"), inp(dOut, rows * columns, op, "dout"),
                                         c32(rows), c32(columns)), op)
    }

    /// Conv1d, stride 1, 'same' padding (odd K), channels last: out (B, L, COUT), input (B, L, CIN).
    public func conv1dForward(out: Tensor, input: Tensor, weight: Tensor, bias: Tensor?, batch: Int, length: Int,
                              inChannels: Int, outChannels: Int, kernelSize: Int) throws(EngineError) {
        let op = "conv1d_fwd"
        try dims(op, batch, length, inChannels, outChannels, kernelSize)
        try check(fn(\.conv1d_fwd, op)(raw, self.out(out, batch * length * outChannels, op, "out"),
                                       inp(input, batch * length * inChannels, op, "inp"),
                                       inp(weight, outChannels * inChannels * kernelSize, op, "weight"),
                                       inp(bias, outChannels, op, "bias"), c32(batch), c32(length), c32(inChannels),
                                       c32(outChannels), c32(kernelSize)), op)
    }

    public func conv1dBackward(dInput: Tensor?, dWeight: Tensor?, dBias: Tensor?, dOut: Tensor, input: Tensor,
                               weight: Tensor, batch: Int, length: Int, inChannels: Int, outChannels: Int,
                               kernelSize: Int) throws(EngineError) {
        let op = "conv1d_bwd"
        try dims(op, batch, length, inChannels, outChannels, kernelSize)
        try check(fn(\.conv1d_bwd, op)(raw, out(dInput, batch * length * inChannels, op, "dinp"),
                                       out(dWeight, outChannels * inChannels * kernelSize, op, "dweight"),
                                       out(dBias, outChannels, op, "dbias"),
                                       inp(dOut, batch * length * outChannels, op, "dout"),
                                       inp(input, batch * length * inChannels, op, "inp"),
                                       inp(weight, outChannels * inChannels * kernelSize, op, "weight"),
                                       c32(batch), c32(length), c32(inChannels), c32(outChannels), c32(kernelSize)), op)
    }

    /// One LSTM layer, one direction, whole sequence (gate order i, f, g, o). `cache` holds
    /// `lstmCacheCount` floats for backward.
    public func lstmForward(hOut: Tensor, cFinal: Tensor?, cache: Tensor, input: Tensor, wIH: Tensor, wHH: Tensor,
                            bIH: Tensor?, bHH: Tensor?, h0: Tensor?, c0: Tensor?, batch: Int, length: Int,
                            inputSize: Int, hidden: Int, reverse: Bool) throws(EngineError) {
        let op = "lstm_fwd"
        try dims(op, batch, length, inputSize, hidden)
        let bh = batch * hidden
        try check(fn(\.lstm_fwd, op)(raw, out(hOut, batch * length * hidden, op, "h_out"), out(cFinal, bh, op, "c_final"),
                                     out(cache, Backend.lstmCacheCount(batch: batch, length: length, hidden: hidden), op, "cache"),
                                     inp(input, batch * length * inputSize, op, "inp"),
                                     inp(wIH, 4 * hidden * inputSize, op, "w_ih"), inp(wHH, 4 * hidden * hidden, op, "w_hh"),
                                     inp(bIH, 4 * hidden, op, "b_ih"), inp(bHH, 4 * hidden, op, "b_hh"),
                                     inp(h0, bh, op, "h0"), inp(c0, bh, op, "c0"),
                                     c32(batch), c32(length), c32(inputSize), c32(hidden), reverse ? 1 : 0), op)
    }

    public func lstmBackward(dInput: Tensor?, dWIH: Tensor?, dWHH: Tensor?, dBIH: Tensor?, dBHH: Tensor?,
                             dH0: Tensor?, dC0: Tensor?, scratch: Tensor, dHOut: Tensor, dCFinal: Tensor?,
                             input: Tensor, wIH: Tensor, wHH: Tensor, h0: Tensor?, c0: Tensor?, cache: Tensor,
                             hOut: Tensor, batch: Int, length: Int, inputSize: Int, hidden: Int,
                             reverse: Bool) throws(EngineError) {
        let op = "lstm_bwd"
        try dims(op, batch, length, inputSize, hidden)
        let bh = batch * hidden, blh = batch * length * hidden
        try check(fn(\.lstm_bwd, op)(raw, out(dInput, batch * length * inputSize, op, "dinp"),
                                     out(dWIH, 4 * hidden * inputSize, op, "dw_ih"), out(dWHH, 4 * hidden * hidden, op, "dw_hh"),
                                     out(dBIH, 4 * hidden, op, "db_ih"), out(dBHH, 4 * hidden, op, "db_hh"),
                                     out(dH0, bh, op, "dh0"), out(dC0, bh, op, "dc0"),
                                     out(scratch, Backend.lstmBackwardScratchCount(batch: batch, length: length, hidden: hidden), op, "scratch"),
                                     inp(dHOut, blh, op, "dh_out"), inp(dCFinal, bh, op, "dc_final"),
                                     inp(input, batch * length * inputSize, op, "inp"),
                                     inp(wIH, 4 * hidden * inputSize, op, "w_ih"), inp(wHH, 4 * hidden * hidden, op, "w_hh"),
                                     inp(h0, bh, op, "h0"), inp(c0, bh, op, "c0"),
                                     inp(cache, Backend.lstmCacheCount(batch: batch, length: length, hidden: hidden), op, "cache"),
                                     inp(hOut, blh, op, "h_out"),
                                     c32(batch), c32(length), c32(inputSize), c32(hidden), reverse ? 1 : 0), op)
    }

    /// CK_LSTM_CACHE_FLOATS.
    public static func lstmCacheCount(batch: Int, length: Int, hidden: Int) -> Int { batch * length * 5 * hidden }
    /// CK_LSTM_BWD_SCRATCH_FLOATS.
    public static func lstmBackwardScratchCount(batch: Int, length: Int, hidden: Int) -> Int {
        batch * length * 4 * hidden + 2 * batch * hidden
    }
    /// CK_ATTENTION_BWD_SCRATCH_FLOATS.
    public static func attentionBackwardScratchCount(batch: Int, heads: Int, length: Int) -> Int {
        batch * heads * length * length
    }

    /// Scaled dot-product attention over (B, L, NH*HS) q/k (row strides ldq/ldk). Standard: v and out
    /// (B, L, NH*HS); interpretable (`sharedValue`): v (B, L, HS) shared by the heads and out (B, L, HS) the head
    /// mean. probs (B, NH, L, L). mask: nil or (L, L) additive.
    public func attentionForward(out: Tensor, probs: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: Tensor?,
                                 batch: Int, length: Int, heads: Int, headSize: Int, ldq: Int, ldk: Int, ldv: Int,
                                 ldo: Int, sharedValue: Bool) throws(EngineError) {
        let op = "attention_fwd"
        try dims(op, batch, length, heads, headSize)
        let rows = batch * length, qk = heads * headSize, vo = sharedValue ? headSize : qk
        try check(fn(\.attention_fwd, op)(raw, strided(out, rows: rows, cols: vo, ld: ldo, op, "out"),
                                          self.out(probs, batch * heads * length * length, op, "probs"),
                                          stridedIn(q, rows: rows, cols: qk, ld: ldq, op, "q"),
                                          stridedIn(k, rows: rows, cols: qk, ld: ldk, op, "k"),
                                          stridedIn(v, rows: rows, cols: vo, ld: ldv, op, "v"),
                                          inp(mask, length * length, op, "mask"),
                                          c32(batch), c32(length), c32(heads), c32(headSize), c32(ldq), c32(ldk),
                                          c32(ldv), c32(ldo), sharedValue ? 1 : 0), op)
    }

    public func attentionBackward(dQ: Tensor?, dK: Tensor?, dV: Tensor?, scratch: Tensor, dOut: Tensor, q: Tensor,
                                  k: Tensor, v: Tensor, probs: Tensor, batch: Int, length: Int, heads: Int,
                                  headSize: Int, ldq: Int, ldk: Int, ldv: Int, ldo: Int,
                                  sharedValue: Bool) throws(EngineError) {
        let op = "attention_bwd"
        try dims(op, batch, length, heads, headSize)
        let rows = batch * length, qk = heads * headSize, vo = sharedValue ? headSize : qk
        try check(fn(\.attention_bwd, op)(raw, stridedOpt(dQ, rows: rows, cols: qk, ld: ldq, op, "dq"),
                                          stridedOpt(dK, rows: rows, cols: qk, ld: ldk, op, "dk"),
                                          stridedOpt(dV, rows: rows, cols: vo, ld: ldv, op, "dv"),
                                          out(scratch, Backend.attentionBackwardScratchCount(batch: batch, heads: heads, length: length), op, "scratch"),
                                          stridedIn(dOut, rows: rows, cols: vo, ld: ldo, op, "dout"),
                                          stridedIn(q, rows: rows, cols: qk, ld: ldq, op, "q"),
                                          stridedIn(k, rows: rows, cols: qk, ld: ldk, op, "k"),
                                          stridedIn(v, rows: rows, cols: vo, ld: ldv, op, "v"),
                                          inp(probs, batch * heads * length * length, op, "probs"),
                                          c32(batch), c32(length), c32(heads), c32(headSize), c32(ldq), c32(ldk),
                                          c32(ldv), c32(ldo), sharedValue ? 1 : 0), op)
    }

    /// Layer norm over the last dimension: out (N, C); mean, rstd (N) saved for backward.
    public func layerNormForward(out: Tensor, mean: Tensor, rstd: Tensor, input: Tensor, weight: Tensor, bias: Tensor,
                                 rows: Int, columns: Int, eps: Float) throws(EngineError) {
        let op = "layernorm_fwd"
        try dims(op, rows, columns)
        let n = rows * columns
        try check(fn(\.layernorm_fwd, op)(raw, self.out(out, n, op, "out"), self.out(mean, rows, op, "mean"),
                                          self.out(rstd, rows, op, "rstd"), inp(input, n, op, "inp"),
                                          inp(weight, columns, op, "weight"), inp(bias, columns, op, "bias"),
                                          c32(rows), c32(columns), eps), op)
    }

    public func layerNormBackward(dInput: Tensor?, dWeight: Tensor?, dBias: Tensor?, dOut: Tensor, input: Tensor,
                                  weight: Tensor, mean: Tensor, rstd: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "layernorm_bwd"
        try dims(op, rows, columns)
        let n = rows * columns
        try check(fn(\.layernorm_bwd, op)(raw, out(dInput, n, op, "dinp"), out(dWeight, columns, op, "dweight"),
                                          out(dBias, columns, op, "dbias"), inp(dOut, n, op, "dout"),
                                          inp(input, n, op, "inp"), inp(weight, columns, op, "weight"),
                                          inp(mean, rows, op, "mean"), inp(rstd, rows, op, "rstd"),
                                          c32(rows), c32(columns)), op)
    }
}
