import Foundation
import Harness

/// The JSON bodies of the dashboard's API. Dates are seconds since 1970; every text from the ledger travels as a
/// JSON string and is put on the page as text, never as markup.
public enum DashboardModels {
    /// `/api/status`: the tag's standing.
    public struct Status: Codable, Sendable {
        public var workspace: String
        public var tag: String
        public var tags: [String]
        public var branch: String
        public var metric: String
        public var lowerIsBetter: Bool
        /// Finished experiments (keep, discard, crash), the baseline aside.
        public var experiments: Int
        public var keeps: Int
        public var crashes: Int
        public var running: Int
        public var baseline: Double?
        public var best: Double?
        public var baselineTest: Double?
        public var bestTest: Double?
        public var noiseSigma: Double?
        public var costUSD: Double
        /// The training budget per run: seconds (time mode) or tokens (token mode).
        public var budgetMode: String
        public var budgetSeconds: Double
        public var budgetTokens: Int
        /// The request on file for the running loop (`LoopControl`): running, paused or stopping.
        public var control: String
        public var controlBy: String?
        /// The meta-loop in one line, when it ran on this tag.
        public var meta: String?
        /// Cotra's milestones for the tag (`Harness.Milestone.measure`, as `autoresearch status` states them).
        public var milestones: [Milestone]
        public var generatedAt: Date
    }

    /// One of Cotra's milestones: reached (true), not yet (false) or not measurable here (nil), and the numbers behind it.
    public struct Milestone: Codable, Sendable {
        public var name: String
        public var reached: Bool?
        public var detail: String
    }

    /// One row of `/api/experiments`.
    public struct Row: Codable, Sendable {
        public var number: Int
        public var description: String
        public var status: String
        public var phase: String?
        public var researcher: String
        public var metric: Double?
        public var testBPB: Double?
        public var memoryGB: Double?
        public var worker: Int?
        public var slot: String?
        public var program: Int?
        public var computeSeconds: Double?
        public var costUSD: Double?
        public var startedAt: Date
        public var finishedAt: Date?
    }

    /// `/api/experiments`: one page of the filtered, sorted table.
    public struct Page: Codable, Sendable {
        /// Experiments in the tag, and those the filter and search kept.
        public var total: Int
        public var matched: Int
        public var offset: Int
        public var rows: [Row]
        /// Count per status (for the filter's labels).
        public var statuses: [String: Int]
    }

    /// `/api/chart`: the plotted experiments (baseline, keeps, discards with a finite metric), by number.
    public struct Chart: Codable, Sendable {
        public var metric: String
        public var lowerIsBetter: Bool
        /// [number, metric, kind (0 discard, 1 keep, 2 baseline), hidden-test value or null]
        public var points: [[Double?]]
        /// Descriptions of the points, in the same order (the tooltips).
        public var labels: [String]
    }

    /// `/api/experiments/N`: everything about one experiment.
    public struct Detail: Codable, Sendable {
        public var number: Int
        public var tag: String
        public var description: String
        public var hypothesis: String
        public var status: String
        public var phase: String?
        public var researcher: String
        public var move: String?
        public var commit: String?
        public var parentCommit: String?
        public var metric: Double?
        public var valBPB: Double?
        public var testBPB: Double?
        public var metrics: [String: Double]
        public var evidence: Evidence?
        public var error: String?
        public var diff: String
        public var logPath: String?
        public var logTail: String
        /// The researcher's transcript entries (kind, text, seconds from its start); empty for the search researcher.
        public var transcript: [TranscriptItem]
        public var inputTokens: Int?
        public var outputTokens: Int?
        public var cacheReadTokens: Int?
        public var cacheWriteTokens: Int?
        public var costUSD: Double?
        public var buildFixes: Int?
        public var worker: Int?
        public var slot: String?
        public var program: Int?
        public var window: Int?
        public var startedAt: Date
        public var finishedAt: Date?
    }

    /// The decision's evidence: the runs, σ and the threshold the mean had to beat.
    public struct Evidence: Codable, Sendable {
        public var runs: [Double]
        public var mean: Double
        public var best: Double?
        public var bestRuns: Int?
        public var sigma: Double?
        public var threshold: Double
        public var improvement: Double?
        public var verdict: String
        public var reason: String
        public var disturbedRuns: Int
    }

    public struct TranscriptItem: Codable, Sendable {
        public var kind: String
        public var text: String
        public var at: Double
    }

    /// `/api/running`: the experiments in flight with their training curves.
    public struct Running: Codable, Sendable {
        public var number: Int
        public var description: String
        public var phase: String?
        public var researcher: String
        public var worker: Int?
        public var slot: String?
        public var startedAt: Date
        public var elapsedSeconds: Double
        public var budgetSeconds: Double
        /// [step, loss, tokens per second or null] of the run training now.
        public var curve: [[Double?]]
    }

    /// `/api/swarm`: workers, slots and the meta-loop.
    public struct Swarm: Codable, Sendable {
        public struct Worker: Codable, Sendable { public var worker: Int; public var researcher: String; public var experiments: Int; public var keeps: Int }
        public struct Slot: Codable, Sendable { public var slot: String; public var experiments: Int; public var computeHours: Double }
        public struct Program: Codable, Sendable {
            public var number: Int
            public var parent: Int?
            public var status: String
            public var description: String
            public var proposer: String
            public var reason: String?
            public var windows: Int
            public var meanScore: Double?
            public var experiments: Int
            public var keeps: Int
        }
        public struct Window: Codable, Sendable {
            public var number: Int
            public var program: Int
            public var control: Int
            public var status: String
            public var baseMetric: Double
            public var programProgress: Double?
            public var controlProgress: Double?
            public var score: Double?
            public var scorePerHour: Double?
        }
        public var workers: [Worker]
        public var slots: [Slot]
        public var utilisation: Double?
        public var experimentsPerHour: Double?
        public var programs: [Program]
        public var windows: [Window]
        public var incumbent: Int?
    }

    /// What a control request answers.
    public struct ControlAnswer: Codable, Sendable {
        public var ok: Bool
        public var state: String?
        public var error: String?
    }
}
