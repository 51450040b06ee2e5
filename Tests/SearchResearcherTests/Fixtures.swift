import AutoResearchCore
import Foundation
@testable import SearchResearcher

enum Fixtures {
    static let swiftTrain = """
    import Foundation

    // Hyperparameters (the search researcher edits these)
    let LEARNING_RATE = 3e-3      // range: 1e-4..1e-2
    let WEIGHT_DECAY = 0.1        // range: 0..0.5

    let DEPTH = 4                 // range: 1..12
    let WIDTH = 256               // range: 64..1024
    let HEADS = 4
    let BATCH_SIZE = 32
    let ACTIVATION = "relu2"      // choices: relu2|gelu|silu
    let USE_ROPE = true

    func activation(_ x: Float) -> Float {
        let y = max(x, 0)
        return y * y  // ReLU²
    }
    let NOT_A_PARAMETER = 7

    """

    static let pythonTrain = """
    \"\"\"Train a tiny GPT.\"\"\"
    import torch

    # ---------------------------------------------------------------------------
    # Hyperparameters
    LEARNING_RATE = 0.003  # range: 1e-4-1e-2
    DROPOUT = 0.0          # range: 0..0.5
    N_LAYER = 6
    TOTAL_BATCH = 2**19    # not a literal: not a parameter
    HEAD_DIM = 768 // 12
    ACTIVATION = 'relu2'   # choices: relu2, gelu, silu
    USE_BIAS = False
    WARMUP_TOKENS = 524_288

    def main():
        pass

    """

    /// A fresh temporary directory holding `files`.
    static func worktree(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("search-tests-\(UUID().uuidString)")
        for (path, content) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// The editable files of a context after a proposal.
    static func result(of proposal: Proposal, in worktree: URL, editable: [String]) throws -> [String: String] {
        var files: [String: String] = [:]
        for path in editable {
            files[path] = try proposal.files[path] ?? String(contentsOf: worktree.appendingPathComponent(path), encoding: .utf8)
        }
        return files
    }

    /// An outcome shorthand for histories.
    static func outcome(_ number: Int, _ status: ExperimentStatus, _ metric: Double?, move: String? = nil,
                        description: String = "", commit: String? = nil) -> ExperimentOutcome {
        ExperimentOutcome(number: number, commit: commit ?? String(format: "%07x%033x", number, number), description: description,
                          status: status, metric: metric, memoryGB: metric == nil ? nil : 40 + Double(number) / 10,
                          move: move, filesHash: "hash-\(number)")
    }
}
