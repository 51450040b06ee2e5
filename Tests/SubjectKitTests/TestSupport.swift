import Foundation
@testable import SubjectKit

/// A fresh directory under the system temp dir, removed by the caller's `defer`.
func makeTempDirectory(_ label: String = "subjectkit") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func remove(_ url: URL) { try? FileManager.default.removeItem(at: url) }

/// `count` bytes of deterministic ASCII text, different for each `seed`.
func sampleText(_ count: Int, seed: UInt8) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz ,.\n")
    return String((0..<count).map { alphabet[(Int(seed) * 7 + $0 * ($0 % 5 + 1)) % alphabet.count] })
}

/// Writes `files` (relative path → text) under `directory`.
func writeFiles(_ files: [String: String], in directory: URL) throws {
    for (path, text) in files {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}

/// The message of the `SubjectError` that `body` throws, or nil.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as SubjectError {
        return error.description
    } catch {
        return "not a SubjectError: \(error)"
    }
}

/// A prepared local corpus of five 300-byte files in a temporary cache (validation = c.txt,
/// test = d.txt by the default pick).
func makeSmallCorpus() throws -> (root: URL, corpus: PreparedCorpus) {
    let root = try makeTempDirectory()
    let source = root.appendingPathComponent("source")
    var files: [String: String] = [:]
    for (i, name) in ["a", "b", "c", "d", "e"].enumerated() { files["\(name).txt"] = sampleText(300, seed: UInt8(i)) }
    try writeFiles(files, in: source)
    let corpus = try Corpus.prepareLocal(name: "small", paths: [source], cacheRoot: root.appendingPathComponent("cache"))
    return (root, corpus)
}
