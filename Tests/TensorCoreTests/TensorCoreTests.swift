import Testing

/// All tensor-core suites run one after another: the memory-growth test counts allocations process-wide.
@Suite(.serialized) struct TensorCoreTests {}
