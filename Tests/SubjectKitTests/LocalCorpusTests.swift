import Foundation
import Testing
@testable import SubjectKit

@Suite("Local corpus")
struct LocalCorpusTests {
    @Test func defaultSplitIsDeterministicByFile() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        // 5 files, k = 1: validation is the middle of [a b c d e], test the middle of [a b d e].
        #expect(corpus.validation.sources == ["source/c.txt"])
        #expect(corpus.test.sources == ["source/d.txt"])
        #expect(corpus.train.sources == ["source/a.txt", "source/b.txt", "source/e.txt"])
        #expect(corpus.train.bytes == 3 * 300 + 2)  // joined by one newline byte
        #expect(corpus.validation.bytes == 300)
        #expect(!corpus.wasCached)
        let train = try Corpus.readSplit(corpus.train, of: corpus)
        let expected = Array((sampleText(300, seed: 0) + "\n" + sampleText(300, seed: 1) + "\n" + sampleText(300, seed: 4)).utf8)
        #expect(train == expected)
        #expect(corpus.train.sha256 == sha256Hex(expected))
        #expect(corpus.directory.lastPathComponent == "small")
        let cache = corpus.directory.deletingLastPathComponent()
        // Only the committed corpus is left: the work directory is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path) == ["small"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: corpus.directory.path).sorted()
            == ["meta.json", "test.txt", "train.txt", "val.txt"])
    }

    @Test func defaultPickTakesAboutFivePercent() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        var files: [String: String] = [:]
        for i in 0..<40 { files[String(format: "books/part%02d.txt", i)] = sampleText(300, seed: UInt8(i)) }
        files["books/notes.md"] = "not a .txt file, left out"
        files["books/.hidden.txt"] = "hidden, left out"
        try writeFiles(files, in: root)
        let corpus = try Corpus.prepareLocal(
            name: "books", paths: [root.appendingPathComponent("books")], cacheRoot: root.appendingPathComponent("cache"))
        // k = 2: validation = middles of two runs of 20; test = middles of two runs of 19 of the rest.
        #expect(corpus.validation.sources == ["books/part10.txt", "books/part30.txt"])
        #expect(corpus.test.sources == ["books/part09.txt", "books/part29.txt"])
        #expect(corpus.train.sources.count == 36)
    }

    @Test func namedValidationAndTestFiles() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        var files: [String: String] = [:]
        for name in ["one", "two", "three", "four"] { files["\(name).txt"] = sampleText(400, seed: UInt8(name.count)) }
        try writeFiles(files, in: root.appendingPathComponent("src"))
        let src = root.appendingPathComponent("src")
        let corpus = try Corpus.prepareLocal(
            name: "named", paths: [src], validation: ["one.txt"], test: [src.appendingPathComponent("two.txt").path],
            cacheRoot: root)
        #expect(corpus.validation.sources == ["src/one.txt"])
        #expect(corpus.test.sources == ["src/two.txt"])
        #expect(corpus.train.sources == ["src/four.txt", "src/three.txt"])
    }

    @Test func anUncommittedDirectoryIsReplaced() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        var files: [String: String] = [:]
        for name in ["a", "b", "c"] { files["src/\(name).txt"] = sampleText(300, seed: UInt8(name.utf8.first!)) }
        try writeFiles(files, in: root)
        // Junk where the corpus goes, without meta.json: never committed, so not a corpus.
        try writeFiles(["cache/mine/train.txt": "partial"], in: root)
        // A work directory from a run killed two days ago is cleaned up; a fresh one is left alone.
        let stale = root.appendingPathComponent("cache/.tmp-mine-OLD")
        let fresh = root.appendingPathComponent("cache/.tmp-mine-NEW")
        try writeFiles(["cache/.tmp-mine-OLD/x": "x", "cache/.tmp-mine-NEW/x": "x"], in: root)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -2 * 86_400)], ofItemAtPath: stale.path)
        let corpus = try Corpus.prepareLocal(
            name: "mine", paths: [root.appendingPathComponent("src")], cacheRoot: root.appendingPathComponent("cache"))
        #expect(!corpus.wasCached)
        #expect(try Corpus.readSplit(corpus.train, of: corpus).count == 300)  // a.txt; b.txt validates, c.txt tests
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: fresh.path))
    }

    @Test func preparingTheSameCorpusAgainIsCached() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        let again = try Corpus.prepareLocal(
            name: "small", paths: [root.appendingPathComponent("source")], cacheRoot: root.appendingPathComponent("cache"))
        #expect(again.wasCached)
        #expect(again.train == corpus.train)
    }

    @Test func aDifferentCorpusUnderTheSameNameIsRefused() throws {
        let (root, corpus) = try makeSmallCorpus()
        defer { remove(root) }
        try writeFiles(["f.txt": sampleText(300, seed: 9)], in: root.appendingPathComponent("source"))
        #expect(errorMessage {
            _ = try Corpus.prepareLocal(
                name: "small", paths: [root.appendingPathComponent("source")], cacheRoot: root.appendingPathComponent("cache"))
        } == "a different corpus named 'small' is already prepared at \(corpus.directory.path); choose another "
            + "name, or delete \(corpus.directory.path) to replace it")
    }

    @Test func emptyCorpus() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        try writeFiles(["x/a.txt": "", "x/b.txt": ""], in: root)
        let x = root.appendingPathComponent("x")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: [x], cacheRoot: root) }
            == "the corpus in \(x.path) is empty (0 bytes); pass files that contain text")
    }

    @Test func folderWithoutTextFiles() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        try writeFiles(["x/a.md": "text"], in: root)
        let x = root.appendingPathComponent("x")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: [x], cacheRoot: root) }
            == "no .txt files in \(x.path); pass text files, or folders that contain .txt files")
    }

    @Test func missingPath() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/corpus")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: [missing]) }
            == "/nonexistent/corpus does not exist; pass existing text files or folders")
    }

    @Test func notUTF8() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        try writeFiles(["x/a.txt": sampleText(300, seed: 1), "x/b.txt": sampleText(300, seed: 2)], in: root)
        let bad = root.appendingPathComponent("x/c.txt")
        try Data([0x68, 0x69, 0xFF, 0xFE, 0x0A]).write(to: bad)
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: [root.appendingPathComponent("x")], cacheRoot: root) }
            == "\(bad.path) is not valid UTF-8; convert it (e.g. `iconv -t UTF-8`) or leave it out")
    }

    @Test func fewerFilesThanSplits() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        try writeFiles(["a.txt": sampleText(600, seed: 1), "b.txt": sampleText(600, seed: 2)], in: root)
        let paths = [root.appendingPathComponent("a.txt"), root.appendingPathComponent("b.txt")]
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: paths, cacheRoot: root) }
            == "the corpus has 2 files but needs at least 3 (train, validation and test are split by file); "
            + "add files, or cut a large file into several")
    }

    @Test func splitShorterThanOneWindow() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        try writeFiles(["x/a.txt": sampleText(600, seed: 1), "x/b.txt": sampleText(256, seed: 2), "x/c.txt": sampleText(600, seed: 3)], in: root)
        // Default pick: validation = b.txt (256 bytes < MAX_SEQ_LEN + 1).
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: [root.appendingPathComponent("x")], cacheRoot: root) }
            == "the validation split has 256 bytes but needs at least 257 (MAX_SEQ_LEN + 1); give it more or larger files")
    }

    @Test func namingErrors() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        var files: [String: String] = [:]
        for name in ["p/a.txt", "p/b.txt", "q/a.txt", "q/c.txt"] { files[name] = sampleText(300, seed: UInt8(name.count)) }
        try writeFiles(files, in: root)
        let paths = [root.appendingPathComponent("p"), root.appendingPathComponent("q")]
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: paths, validation: ["zzz.txt"], cacheRoot: root) }
            == "'zzz.txt' (named for the validation split) is not one of the corpus files; name a file by its file name or path")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: paths, test: ["a.txt"], cacheRoot: root) }
            == "'a.txt' (named for the test split) matches 2 files (p/a.txt, q/a.txt); name it by its path")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "x", paths: paths, validation: ["b.txt"], test: ["p/b.txt"], cacheRoot: root) }
            == "'p/b.txt' is named for both the validation and the test split; a file can be in one split only")
        #expect(errorMessage {
            _ = try Corpus.prepareLocal(name: "x", paths: paths, validation: ["p/a.txt", "b.txt"], test: ["q/a.txt", "c.txt"], cacheRoot: root)
        } == "every corpus file is named for validation or test, which leaves none to train on; name fewer files")
        #expect(errorMessage { _ = try Corpus.prepareLocal(name: "../evil", paths: paths, cacheRoot: root) }
            == "'../evil' cannot name a corpus (it becomes a directory name): use letters, digits, '.', '-' and '_', not starting with '.'")
    }
}
