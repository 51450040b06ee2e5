import Foundation

/// Stops the run if the training loss is NaN or infinite: prints
/// `FAIL: loss is NaN at step N; training diverged — ...` to stdout and exits with status 1
/// (autoresearch's "fail fast" check). Call it every step with the step's loss.
public func checkFinite(_ loss: Float, step: Int) {
    do {
        try ensureFinite(loss, step: step)
    } catch {
        exitWithFailure(error)
    }
}

/// The throwing core of `checkFinite`.
/// - Throws: `SubjectError.nonFiniteLoss` when `loss` is NaN or ±infinity.
public func ensureFinite(_ loss: Float, step: Int) throws {
    guard loss.isFinite else { throw SubjectError.nonFiniteLoss(value: loss, step: step) }
}
