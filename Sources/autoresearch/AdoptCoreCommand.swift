import ArgumentParser
import Foundation
import Harness

/// `autoresearch adopt-core FROM`: carries the best kept tensor core of a tensorcore workspace into an existing GPT
/// workspace (a new tag) or into this source tree (what new workspaces vendor); without either, shows what would change.
struct AdoptCoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adopt-core",
        abstract: "Carry the best kept tensor core of a tensorcore workspace into a GPT workspace (as a new tag) or into the source tree.",
        discussion: """
            The core is the kernel files (the tensorcore workspace's editable files) at the head of its best tag's research \
            branch: its latest keep, which passed the correctness gate. --workspace commits them into a GPT workspace's \
            vendored Sources/TensorCore (updating their hashes in autoresearch.toml) and starts a new tag on that commit: \
            `autoresearch run --tag NEW` measures a new baseline, and the old tags stay comparable to themselves. \
            --into-source-tree writes them into this AutoResearch source tree's Sources/TensorCore: the product's own \
            engine, and what `init` vendors into every new workspace. Without either, nothing is written: it shows the \
            difference from the source tree. The ledger of the GPT workspace records where its core came from (`status`).
            """)

    @Argument(help: "The tensorcore workspace to take the core from.")
    var from: String

    @Option(name: .customLong("from-tag"), help: "The tensorcore workspace's tag (default: the tag whose latest keep is fastest).")
    var fromTag: String?

    @Flag(name: .customLong("allow-code-editors"), help: "Adopt a core whose keeps an LLM or command researcher wrote (read its diff first).")
    var allowCodeEditors = false

    @Flag(name: .customLong("allow-baseline"), help: "Adopt the tag's baseline core when it has no keep.")
    var allowBaseline = false

    @Option(help: "A GPT workspace to adopt the core into, as a new tag.")
    var workspace: String?

    @Option(help: "With --workspace: the new tag (default: <latest tag>-core<N>).")
    var tag: String?

    @Flag(name: .customLong("into-source-tree"), help: "Write the core into this source tree's Sources/TensorCore (new workspaces vendor it).")
    var intoSourceTree = false

    func validate() throws {
        if workspace != nil, intoSourceTree { throw ValidationError("--workspace and --into-source-tree exclude each other: adopt into one at a time") }
        if tag != nil, workspace == nil { throw ValidationError("--tag names the new tag of the GPT workspace; add --workspace GPT_WS") }
    }

    func run() async throws {
        let source = try Workspace.open(url(from))
        let core = try source.bestCore(tag: fromTag, allowBaseline: allowBaseline, allowCodeEditors: allowCodeEditors)
        print("core of \(core.workspace.path): tag \(core.tag), commit \(core.commit.prefix(12))"
              + (core.kept ? " (latest keep)" : " (baseline, not a keep)") + ", \(core.metric) \(number(core.baseline)) → \(number(core.best))")
        if let workspace {
            let target = try Workspace.open(url(workspace))
            let changes = try core.changes(inSourceTree: target.root)
            let result = try target.adoptCore(core, tag: tag)
            for change in changes { print("  \(change.summary)") }
            print("committed \(result.tag.baselineCommit.prefix(7)) on main of \(result.workspace.root.path)")
            print("new tag \(result.tag.tag) (branch \(result.tag.branch)); earlier tags are unchanged")
            print("next: `cd \(result.workspace.root.path) && autoresearch run --tag \(result.tag.tag)` measures the new baseline")
            return
        }
        let root = try Workspace.sourceRoot()
        let changes = try core.changes(inSourceTree: root)
        if changes.isEmpty {
            print("the source tree \(root.path) already has this core; nothing to do")
            return
        }
        for change in changes { print("  \(change.summary)") }
        guard intoSourceTree else {
            print("nothing written. --into-source-tree writes these into \(root.path)/Sources/TensorCore (the product's engine, "
                  + "vendored by every new workspace); --workspace GPT_WS adopts them into one workspace as a new tag")
            return
        }
        try core.adoptIntoSourceTree(root)
        print("wrote \(changes.count) file(s) into \(root.path)/Sources/TensorCore and the provenance into Templates/gpt/\(AdoptableCore.provenanceFile)")
        print("next: rebuild (`swift build`); new workspaces (`autoresearch init`) vendor this core and record where it came from")
    }

    private func url(_ path: String) -> URL { URL(fileURLWithPath: (path as NSString).expandingTildeInPath) }
    /// Tokens/s to a tenth, a ratio such as speedup to 4 decimals.
    private func number(_ v: Double?) -> String { v.map { String(format: abs($0) < 100 ? "%.4f" : "%.1f", $0) } ?? "—" }
}
