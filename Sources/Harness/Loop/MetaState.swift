import AutoResearchCore
import Foundation

/// The meta-loop: research programs judged by the research progress they make (see `MetaPolicy`).
///
/// Workers are split into two arms, the candidate program's (island 0) and the control's (island 1, the incumbent).
/// A window starts both arms from the same base (the global best) and lets each start `window` experiments on the
/// shared slots; when every one of them has finished, the window is scored, the challenger judged (kept, retired or
/// left live), both arms adopt the global best, and the next window begins with the next program: a new one from the
/// meta-researcher while fewer than `population` challengers are live, else the live challenger with the highest UCB.
struct MetaState {
    var window: WindowRecord
    /// Experiments started in this window, per arm, and those not finished yet.
    var started = [0, 0]
    var inFlight = 0
    var closing = false
}
