import Testing
@testable import Engine

/// Every test that changes the CPU backend's thread count — process-wide state, shared by every suite running at
/// the same time — is a member of this one serialized suite (declared in extensions beside the code they test), so
/// no two of them interleave and none sees a count another set. Other suites may run their products meanwhile: the
/// CPU backend's results do not depend on the thread count (CKernels/cpu/gemm.c), which these tests also check.
@Suite(.serialized) struct ThreadCountTests {}
