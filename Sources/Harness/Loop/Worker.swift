import AutoResearchCore
import Foundation

/// One researcher of a run and its own worktree, where it proposes (and where its experiments build and train,
/// in whichever slot they get). A worker runs one experiment at a time, so its state needs no lock.
final class Worker: @unchecked Sendable {
    let index: Int
    /// Its researcher; the meta-loop replaces a search researcher when a new program steers it.
    var researcher: any Researcher
    let worktree: URL
    /// The context of its latest proposal, for a build repair.
    var lastContext: ResearchContext?
    /// Researcher errors in a row, and whether its researcher has nothing left to try.
    var failures = 0
    var exhausted = false
    /// Its island when the swarm's base policy is islands (else 0).
    var island = 0
    /// The archived program steering it (the meta-loop, or `run --program N`); nil: the workspace's program.md.
    var program: ProgramRecord?
    /// In the meta-loop, the random seed of its next proposal, shared with the other arm's experiment of the same
    /// rank in the window (common random numbers); nil outside it.
    var pairedSeed: UInt64?

    init(index: Int, researcher: any Researcher, worktree: URL) {
        self.index = index; self.researcher = researcher; self.worktree = worktree
    }

    /// "w3 " in notes when there are several workers (empty for worker 0, so a single run reads as before).
    var label: String { index == 0 ? "" : "w\(index) " }
}
