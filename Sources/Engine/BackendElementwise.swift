import CKernels

/// Element-wise activations of ckernels.h (`ck_activation`).
public enum Activation: Sendable, Equatable, CaseIterable {
    case identity, relu, gelu, elu, sigmoid, tanh, softplus

    var kernel: ck_activation {
        switch self {
        case .identity: CK_ACT_IDENTITY
        case .relu: CK_ACT_RELU
        case .gelu: CK_ACT_GELU
        case .elu: CK_ACT_ELU
        case .sigmoid: CK_ACT_SIGMOID
        case .tanh: CK_ACT_TANH
        case .softplus: CK_ACT_SOFTPLUS
        }
    }
}

/// Checked wrappers of the element-wise, data-movement, loss, reduction and optimizer kernels of ckernels.h.
///
///     try backend.activationForward(out: y, input: x, count: x.count, .relu)
extension Backend {
    public func activationForward(out: Tensor, input: Tensor, count n: Int, _ act: Activation) throws(EngineError) {
        let op = "activation_fwd"
        try check(fn(\.activation_fwd, op)(raw, self.out(out, n, op, "out"), inp(input, n, op, "inp"), n, act.kernel), op)
    }

    public func activationBackward(dInput: Tensor, dOut: Tensor, input: Tensor, out: Tensor, count n: Int,
                                   _ act: Activation) throws(EngineError) {
        let op = "activation_bwd"
        try check(fn(\.activation_bwd, op)(raw, self.out(dInput, n, op, "dinp"), inp(dOut, n, op, "dout"),
                                           inp(input, n, op, "inp"), inp(out, n, op, "out"), n, act.kernel), op)
    }

    /// out (N, C) = a * sigmoid(g) for input (N, 2C) = [a | g].
    public func gluForward(out: Tensor, input: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "glu_fwd"
        try dims(op, rows, columns)
        try check(fn(\.glu_fwd, op)(raw, self.out(out, rows * columns, op, "out"), inp(input, 2 * rows * columns, op, "inp"),
                                    c32(rows), c32(columns)), op)
    }

    public func gluBackward(dInput: Tensor, dOut: Tensor, input: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "glu_bwd"
        try dims(op, rows, columns)
        try check(fn(\.glu_bwd, op)(raw, out(dInput, 2 * rows * columns, op, "dinp"), inp(dOut, rows * columns, op, "dout"),
                                    inp(input, 2 * rows * columns, op, "inp"), c32(rows), c32(columns)), op)
    }

    /// Philox dropout: keeps element i iff its uniform >= p, scales kept values by 1/(1-p).
    public func dropoutForward(out: Tensor, input: Tensor, count n: Int, p: Float, seed: UInt64,
                               offset: UInt64) throws(EngineError) {
        let op = "dropout_fwd"
        try check(fn(\.dropout_fwd, op)(raw, self.out(out, n, op, "out"), inp(input, n, op, "inp"), n, p, seed, offset), op)
    }

    public func dropoutBackward(dInput: Tensor, dOut: Tensor, count n: Int, p: Float, seed: UInt64,
                                offset: UInt64) throws(EngineError) {
        let op = "dropout_bwd"
        try check(fn(\.dropout_bwd, op)(raw, out(dInput, n, op, "dinp"), inp(dOut, n, op, "dout"), n, p, seed, offset), op)
    }

    public func softmaxForward(out: Tensor, input: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "softmax_fwd"
        try dims(op, rows, columns)
        try check(fn(\.softmax_fwd, op)(raw, self.out(out, rows * columns, op, "out"), inp(input, rows * columns, op, "inp"),
                                        c32(rows), c32(columns)), op)
    }

    public func softmaxBackward(dInput: Tensor, dOut: Tensor, out: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "softmax_bwd"
        try dims(op, rows, columns)
        let n = rows * columns
        try check(fn(\.softmax_bwd, op)(raw, self.out(dInput, n, op, "dinp"), inp(dOut, n, op, "dout"), inp(out, n, op, "out"),
                                        c32(rows), c32(columns)), op)
    }

    /// out (B, C) = mean over L of input (B, L, C).
    public func meanPoolForward(out: Tensor, input: Tensor, batch: Int, length: Int, channels: Int) throws(EngineError) {
        let op = "mean_pool_fwd"
        try dims(op, batch, length, channels)
        try check(fn(\.mean_pool_fwd, op)(raw, self.out(out, batch * channels, op, "out"),
                                          inp(input, batch * length * channels, op, "inp"), c32(batch), c32(length), c32(channels)), op)
    }

    public func meanPoolBackward(dInput: Tensor, dOut: Tensor, batch: Int, length: Int, channels: Int) throws(EngineError) {
        let op = "mean_pool_bwd"
        try dims(op, batch, length, channels)
        try check(fn(\.mean_pool_bwd, op)(raw, out(dInput, batch * length * channels, op, "dinp"),
                                          inp(dOut, batch * channels, op, "dout"), c32(batch), c32(length), c32(channels)), op)
    }

    /// out (B, C) = input[:, step, :].
    public func stepPoolForward(out: Tensor, input: Tensor, batch: Int, length: Int, channels: Int, step: Int) throws(EngineError) {
        let op = "step_pool_fwd"
        try dims(op, batch, length, channels)
        guard step >= 0, step < length else { throw .invalidArgument(context: op, message: "step \(step) outside 0..<\(length)") }
        try check(fn(\.step_pool_fwd, op)(raw, self.out(out, batch * channels, op, "out"),
                                          inp(input, batch * length * channels, op, "inp"), c32(batch), c32(length),
                                          c32(channels), c32(step)), op)
    }

    public func stepPoolBackward(dInput: Tensor, dOut: Tensor, batch: Int, length: Int, channels: Int, step: Int) throws(EngineError) {
        let op = "step_pool_bwd"
        try dims(op, batch, length, channels)
        guard step >= 0, step < length else { throw .invalidArgument(context: op, message: "step \(step) outside 0..<\(length)") }
        try check(fn(\.step_pool_bwd, op)(raw, out(dInput, batch * length * channels, op, "dinp"),
                                          inp(dOut, batch * channels, op, "dout"), c32(batch), c32(length), c32(channels),
                                          c32(step)), op)
    }

    /// dst (rows, cols; row stride ldd) = or += src (rows, cols; row stride lds).
    public func copy2D(_ dst: Tensor, ldd: Int, _ src: Tensor, lds: Int, rows: Int, columns: Int,
                       accumulate: Bool) throws(EngineError) {
        let op = "copy2d"
        try dims(op, rows, columns)
        try check(fn(\.copy2d, op)(raw, strided(dst, rows: rows, cols: columns, ld: ldd, op, "dst"), c32(ldd),
                                   stridedIn(src, rows: rows, cols: columns, ld: lds, op, "src"), c32(lds),
                                   c32(rows), c32(columns), accumulate ? 1 : 0), op)
    }

    /// y += alpha x.
    public func axpy(_ y: Tensor, _ x: Tensor, alpha: Float = 1, count n: Int) throws(EngineError) {
        let op = "axpy"
        try check(fn(\.axpy, op)(raw, out(y, n, op, "y"), inp(x, n, op, "x"), alpha, n), op)
    }

    /// x = alpha x + beta, in place.
    public func scaleShift(_ x: Tensor, alpha: Float, beta: Float = 0, count n: Int) throws(EngineError) {
        let op = "scale_shift"
        try check(fn(\.scale_shift, op)(raw, out(x, n, op, "x"), alpha, beta, n), op)
    }

    /// out = x * y element-wise.
    public func mulForward(out: Tensor, _ x: Tensor, _ y: Tensor, count n: Int) throws(EngineError) {
        let op = "mul_fwd"
        try check(fn(\.mul_fwd, op)(raw, self.out(out, n, op, "out"), inp(x, n, op, "x"), inp(y, n, op, "y"), n), op)
    }

    public func mulBackward(dX: Tensor?, dY: Tensor?, dOut: Tensor, _ x: Tensor, _ y: Tensor, count n: Int) throws(EngineError) {
        let op = "mul_bwd"
        try check(fn(\.mul_bwd, op)(raw, out(dX, n, op, "dx"), out(dY, n, op, "dy"), inp(dOut, n, op, "dout"),
                                    inp(x, n, op, "x"), inp(y, n, op, "y"), n), op)
    }

    /// out (N, C) = x (N, C) * w (N) per row.
    public func rowScaleForward(out: Tensor, _ x: Tensor, _ w: Tensor, rows: Int, columns: Int) throws(EngineError) {
        let op = "row_scale_fwd"
        try dims(op, rows, columns)
        try check(fn(\.row_scale_fwd, op)(raw, self.out(out, rows * columns, op, "out"), inp(x, rows * columns, op, "x"),
                                          inp(w, rows, op, "w"), c32(rows), c32(columns)), op)
    }

    public func rowScaleBackward(dX: Tensor?, dW: Tensor?, dOut: Tensor, _ x: Tensor, _ w: Tensor, rows: Int,
                                 columns: Int) throws(EngineError) {
        let op = "row_scale_bwd"
        try dims(op, rows, columns)
        let n = rows * columns
        try check(fn(\.row_scale_bwd, op)(raw, out(dX, n, op, "dx"), out(dW, rows, op, "dw"), inp(dOut, n, op, "dout"),
                                          inp(x, n, op, "x"), inp(w, rows, op, "w"), c32(rows), c32(columns)), op)
    }

    /// out (N, T) (=|+=) scale * theta (N, P) @ basis (P, T).
    public func basisExpandForward(out: Tensor, theta: Tensor, basis: Tensor, rows: Int, thetaSize: Int, length: Int,
                                   scale: Float, accumulate: Bool) throws(EngineError) {
        let op = "basis_expand_fwd"
        try dims(op, rows, thetaSize, length)
        try check(fn(\.basis_expand_fwd, op)(raw, self.out(out, rows * length, op, "out"), inp(theta, rows * thetaSize, op, "theta"),
                                             inp(basis, thetaSize * length, op, "basis"), c32(rows), c32(thetaSize),
                                             c32(length), scale, accumulate ? 1 : 0), op)
    }

    public func basisExpandBackward(dTheta: Tensor, dOut: Tensor, basis: Tensor, rows: Int, thetaSize: Int, length: Int,
                                    scale: Float) throws(EngineError) {
        let op = "basis_expand_bwd"
        try dims(op, rows, thetaSize, length)
        try check(fn(\.basis_expand_bwd, op)(raw, out(dTheta, rows * thetaSize, op, "dtheta"), inp(dOut, rows * length, op, "dout"),
                                             inp(basis, thetaSize * length, op, "basis"), c32(rows), c32(thetaSize),
                                             c32(length), scale), op)
    }

    /// loss[i] = -log Beta(y[i] | alpha[i], beta[i]).
    public func betaNLLForward(loss: Tensor, alpha: Tensor, beta: Tensor, y: Tensor, count n: Int) throws(EngineError) {
        let op = "beta_nll_fwd"
        try dims(op, n)
        try check(fn(\.beta_nll_fwd, op)(raw, out(loss, n, op, "loss"), inp(alpha, n, op, "alpha"), inp(beta, n, op, "beta"),
                                         inp(y, n, op, "y"), c32(n)), op)
    }

    public func betaNLLBackward(dAlpha: Tensor?, dBeta: Tensor?, dLoss: Tensor, alpha: Tensor, beta: Tensor, y: Tensor,
                                count n: Int) throws(EngineError) {
        let op = "beta_nll_bwd"
        try dims(op, n)
        try check(fn(\.beta_nll_bwd, op)(raw, out(dAlpha, n, op, "dalpha"), out(dBeta, n, op, "dbeta"),
                                         inp(dLoss, n, op, "dloss"), inp(alpha, n, op, "alpha"), inp(beta, n, op, "beta"),
                                         inp(y, n, op, "y"), c32(n)), op)
    }

    /// The evidential Beta-Bernoulli loss (Sensoy et al. 2018): nll[i] = log(a+b) − y log a − (1−y) log b and, when
    /// `kl` is given, kl[i] = KL(Beta(y + (1−y) a, (1−y) + y b) ‖ Beta(1, 1)) (the misleading evidence).
    public func evidentialBetaForward(nll: Tensor, kl: Tensor?, alpha: Tensor, beta: Tensor, y: Tensor,
                                      count n: Int) throws(EngineError) {
        let op = "evidential_beta_fwd"
        try dims(op, n)
        try check(fn(\.evidential_beta_fwd, op)(raw, out(nll, n, op, "nll"), out(kl, n, op, "kl"), inp(alpha, n, op, "alpha"),
                                                inp(beta, n, op, "beta"), inp(y, n, op, "y"), c32(n)), op)
    }

    /// Accumulates dnll[i] · ∂nll/∂(a, b) + dkl[i] · ∂kl/∂(a, b) into dAlpha, dBeta (`dKL` nil: no regulariser).
    public func evidentialBetaBackward(dAlpha: Tensor?, dBeta: Tensor?, dNLL: Tensor, dKL: Tensor?, alpha: Tensor, beta: Tensor,
                                       y: Tensor, count n: Int) throws(EngineError) {
        let op = "evidential_beta_bwd"
        try dims(op, n)
        try check(fn(\.evidential_beta_bwd, op)(raw, out(dAlpha, n, op, "dalpha"), out(dBeta, n, op, "dbeta"),
                                                inp(dNLL, n, op, "dnll"), inp(dKL, n, op, "dkl"), inp(alpha, n, op, "alpha"),
                                                inp(beta, n, op, "beta"), inp(y, n, op, "y"), c32(n)), op)
    }

    /// loss[i] = -log Dir(y[i] | conc[i]); conc, y (N, K).
    public func dirichletNLLForward(loss: Tensor, concentration: Tensor, y: Tensor, rows: Int, classes: Int) throws(EngineError) {
        let op = "dirichlet_nll_fwd"
        try dims(op, rows, classes)
        try check(fn(\.dirichlet_nll_fwd, op)(raw, out(loss, rows, op, "loss"), inp(concentration, rows * classes, op, "conc"),
                                              inp(y, rows * classes, op, "y"), c32(rows), c32(classes)), op)
    }

    public func dirichletNLLBackward(dConcentration: Tensor, dLoss: Tensor, concentration: Tensor, y: Tensor, rows: Int,
                                     classes: Int) throws(EngineError) {
        let op = "dirichlet_nll_bwd"
        try dims(op, rows, classes)
        try check(fn(\.dirichlet_nll_bwd, op)(raw, out(dConcentration, rows * classes, op, "dconc"), inp(dLoss, rows, op, "dloss"),
                                              inp(concentration, rows * classes, op, "conc"), inp(y, rows * classes, op, "y"),
                                              c32(rows), c32(classes)), op)
    }

    /// out[0] = sum of x (backend memory).
    public func reduceSum(out: Tensor, _ x: Tensor, count n: Int) throws(EngineError) {
        let op = "reduce_sum"
        try check(fn(\.reduce_sum, op)(raw, self.out(out, 1, op, "out"), inp(x, n, op, "x"), n), op)
    }

    public func reduceSumSquares(out: Tensor, _ x: Tensor, count n: Int) throws(EngineError) {
        let op = "reduce_sum_squares"
        try check(fn(\.reduce_sum_squares, op)(raw, self.out(out, 1, op, "out"), inp(x, n, op, "x"), n), op)
    }

    /// One AdamW update of the whole buffer (torch.optim.AdamW semantics), gradients scaled by `gradScale` first.
    public func adamWStep(params: Tensor, m: Tensor, v: Tensor, grads: Tensor, count n: Int, lr: Float, beta1: Float,
                          beta2: Float, eps: Float, weightDecay: Float, step: Int, gradScale: Float) throws(EngineError) {
        let op = "adamw_step"
        guard step >= 1 else { throw .invalidArgument(context: op, message: "step must be >= 1, got \(step)") }
        try check(fn(\.adamw_step, op)(raw, out(params, n, op, "params"), out(m, n, op, "m"), out(v, n, op, "v"),
                                       inp(grads, n, op, "grads"), n, lr, beta1, beta2, eps, weightDecay, c32(step),
                                       gradScale), op)
    }

    /// out[0] = sqrt(sum g^2).
    public func globalNorm(out: Tensor, _ grads: Tensor, count n: Int) throws(EngineError) {
        let op = "global_norm"
        try check(fn(\.global_norm, op)(raw, self.out(out, 1, op, "norm_out"), inp(grads, n, op, "grads"), n), op)
    }
}
