import AutoResearchCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Proposals queued from outside the loop (the MCP server's `propose`): one JSON file each in `.autoresearch/inbox/`.
/// A running loop takes the oldest one before it asks its own researcher, and the proposal then goes through exactly
/// the checks any researcher's does (editable files only, a real change, never files already tried, the build, the
/// trusted evaluation, the confirmed keep). Taking one is an atomic rename, so two workers never run the same entry.
/// The meta-loop does not take them (its arms must be judged on their own programs).
public struct ProposalInbox: Sendable {
    /// One queued proposal.
    public struct Entry: Codable, Sendable, Equatable {
        /// New full contents of the changed editable files, by path relative to the workspace.
        public var files: [String: String]
        public var description: String
        public var hypothesis: String
        /// Who queued it ("mcp"); the experiment's researcher is recorded as "<source> (queued)".
        public var source: String
        public var queuedAt: Date
        /// The best commit the files were read against; when the loop takes the entry after a newer keep, the
        /// proposal's edits are carried onto the new best (`rebased(onto:git:)`). Nil in entries queued before it was recorded.
        public var base: String?

        public init(files: [String: String], description: String, hypothesis: String, source: String, queuedAt: Date = Date(),
                    base: String? = nil) {
            self.files = files; self.description = description; self.hypothesis = hypothesis
            self.source = source; self.queuedAt = queuedAt; self.base = base
        }

        public var proposal: Proposal { Proposal(files: files, description: description, hypothesis: hypothesis, move: "queued") }
        /// The researcher name an experiment run from this entry is recorded under.
        public var researcher: String { "\(source) (queued)" }
    }

    public let directory: URL

    public init(stateDirectory: URL) { directory = stateDirectory.appendingPathComponent("inbox") }
    public init(workspace: Workspace) { self.init(stateDirectory: workspace.stateDirectory) }

    /// Queues `entry` and returns its file. Names sort by time, so the oldest is taken first.
    @discardableResult
    public func queue(_ entry: Entry) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stamp = String(format: "%.6f", entry.queuedAt.timeIntervalSince1970)
        let url = directory.appendingPathComponent("\(stamp)-\(UUID().uuidString.prefix(8)).json")
        try Self.encoder.encode(entry).write(to: url, options: .atomic)
        return url
    }

    /// The entries waiting, oldest first.
    public func pending() -> [Entry] {
        waitingFiles().compactMap { try? Self.decoder.decode(Entry.self, from: Data(contentsOf: $0)) }
    }

    /// Takes the oldest waiting entry (renamed `*.taken`, kept for the record), or `nil` when none waits.
    /// An entry that cannot be read is renamed `*.unreadable` and skipped.
    public func take() -> Entry? {
        for url in waitingFiles() {
            let taken = url.appendingPathExtension("taken")
            guard rename(url.path, taken.path) == 0 else { continue }  // another worker took it
            if let data = try? Data(contentsOf: taken), let entry = try? Self.decoder.decode(Entry.self, from: data) {
                return entry
            }
            _ = rename(taken.path, url.appendingPathExtension("unreadable").path)
        }
        return nil
    }

    private func waitingFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0) }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
