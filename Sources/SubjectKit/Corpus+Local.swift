import Foundation

extension Corpus {
    /// Prepares a corpus from the user's own text files in `<cache>/<name>/`.
    ///
    /// Files: each path in `paths` that is a file is used as is (any extension); each folder is
    /// searched recursively for regular files ending `.txt` (any case), skipping hidden files and
    /// folders. A file is known by its name: its file name for a file argument, `<folder>/<relative
    /// path>` for one found in a folder argument. Files are sorted by that name; every file must be
    /// valid UTF-8.
    ///
    /// Splits are by file, each split its files in sorted order joined by one `\n` byte.
    /// `validation` and `test` name files (by file name, name, or path). A split not named gets
    /// `k = max(1, count / 20)` files (about 5%): the remaining files are cut into `k` equal runs and
    /// the middle file of each run is taken (validation is picked first, then test from what is left).
    /// Train is every other file.
    ///
    /// When a corpus with the same name and the same splits is already prepared, returns it with
    /// `wasCached == true` and writes nothing.
    ///
    /// - Throws: `SubjectError.invalidCorpusName`, `.pathNotFound`, `.noFiles`, `.emptyCorpus`,
    ///   `.notUTF8`, `.tooFewFiles`, `.unknownSplitFile`, `.ambiguousSplitFile`, `.fileInTwoSplits`,
    ///   `.noTrainingFiles`, `.splitTooSmall` (a split under `maxSeqLen + 1` bytes),
    ///   `.corpusNameTaken`, `.corruptedCache`, `.fileSystem`.
    public static func prepareLocal(
        name: String, paths: [URL], validation: [String]? = nil, test: [String]? = nil,
        cacheRoot: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PreparedCorpus {
        guard isValidName(name) else { throw SubjectError.invalidCorpusName(name) }
        let files = try collectFiles(paths)
        let displayPaths = paths.map(\.path)
        guard !files.isEmpty else { throw SubjectError.noFiles(paths: displayPaths) }
        var contents: [String: [UInt8]] = [:]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.url.path) else {
                throw SubjectError.fileSystem(action: "read", path: file.url.path, reason: "unreadable")
            }
            contents[file.name] = [UInt8](data)
        }
        guard contents.values.contains(where: { !$0.isEmpty }) else {
            throw SubjectError.emptyCorpus(paths: displayPaths)
        }
        for file in files where String(data: Data(contents[file.name]!), encoding: .utf8) == nil {
            throw SubjectError.notUTF8(file: file.url.path)
        }
        guard files.count >= 3 else { throw SubjectError.tooFewFiles(count: files.count, needed: 3) }

        let names = files.map(\.name)
        let k = max(1, names.count / 20)
        var remaining = names
        func choose(_ requested: [String]?, split: String) throws -> [String] {
            let chosen: [String]
            if let requested {
                var unique: [String] = []
                for name in try requested.map({ try match($0, in: files, split: split) }) where !unique.contains(name) {
                    unique.append(name)
                }
                chosen = unique
            } else {
                guard remaining.count > k else { throw SubjectError.noTrainingFiles }
                let stride = remaining.count / k
                chosen = (0..<k).map { remaining[$0 * stride + stride / 2] }
            }
            for name in chosen where !remaining.contains(name) { throw SubjectError.fileInTwoSplits(name) }
            remaining.removeAll { chosen.contains($0) }
            return chosen.sorted()
        }
        // Named files are taken out first, so that a default pick never takes a named file.
        var validationFiles: [String] = []
        var testFiles: [String] = []
        if validation != nil { validationFiles = try choose(validation, split: "validation") }
        if test != nil { testFiles = try choose(test, split: "test") }
        if validation == nil { validationFiles = try choose(nil, split: "validation") }
        if test == nil { testFiles = try choose(nil, split: "test") }
        guard !remaining.isEmpty else { throw SubjectError.noTrainingFiles }

        func build(_ names: [String], file: String, split: String) throws -> (SplitInfo, [UInt8]) {
            let bytes = join(names.map { contents[$0]! })
            guard bytes.count >= maxSeqLen + 1 else {
                throw SubjectError.splitTooSmall(split: split, bytes: bytes.count, needed: maxSeqLen + 1)
            }
            return (SplitInfo(file: file, data: bytes, sources: names), bytes)
        }
        let splits = [
            try build(remaining, file: "train.txt", split: "train"),
            try build(validationFiles, file: "val.txt", split: "validation"),
            try build(testFiles, file: "test.txt", split: "test"),
        ]
        let manifest = CorpusManifest(
            name: name, source: "local files: " + displayPaths.joined(separator: ", "),
            train: splits[0].0, validation: splits[1].0, test: splits[2].0)

        let root = Corpus.cacheRoot(cacheRoot, environment: environment)
        let directory = root.appendingPathComponent(name)
        if let existing = try readManifest(in: directory) {
            guard existing.train == manifest.train, existing.validation == manifest.validation,
                existing.test == manifest.test
            else {
                throw SubjectError.corpusNameTaken(name: name, directory: directory.path)
            }
            return try verifiedCache(at: directory)!
        }
        let work = try makeWorkDirectory(root: root, name: name)
        defer { try? FileManager.default.removeItem(at: work) }
        return try install(splits, manifest: manifest, work: work, directory: directory)
    }

    // MARK: - Local files

    struct LocalFile {
        var url: URL
        /// File name for a file argument, `<folder>/<relative path>` for a file found in a folder.
        var name: String
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first != "." else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    static func collectFiles(_ paths: [URL]) throws -> [LocalFile] {
        let fm = FileManager.default
        var files: [LocalFile] = []
        var seen: Set<String> = []
        func add(_ url: URL, name: String) {
            let key = url.resolvingSymlinksInPath().standardizedFileURL.path
            if seen.insert(key).inserted { files.append(LocalFile(url: url, name: name)) }
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
                throw SubjectError.pathNotFound(path.path)
            }
            guard isDirectory.boolValue else {
                add(path, name: path.lastPathComponent)
                continue
            }
            let base = path.resolvingSymlinksInPath().standardizedFileURL
            let prefix = base.lastPathComponent
            let enumerator = fm.enumerator(
                at: base, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension.lowercased() == "txt",
                    (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true
                else { continue }
                let full = url.resolvingSymlinksInPath().standardizedFileURL.path
                let relative = full.hasPrefix(base.path + "/") ? String(full.dropFirst(base.path.count + 1)) : url.lastPathComponent
                add(url, name: prefix + "/" + relative)
            }
        }
        // Two file arguments with the same file name are known by their paths instead.
        let counts = Dictionary(files.map { ($0.name, 1) }, uniquingKeysWith: +)
        for i in files.indices where counts[files[i].name]! > 1 { files[i].name = files[i].url.standardizedFileURL.path }
        return files.sorted { $0.name < $1.name }
    }

    /// The name of the corpus file that `requested` denotes: its name, its file name, a suffix of
    /// its name after a `/`, or its path.
    static func match(_ requested: String, in files: [LocalFile], split: String) throws -> String {
        let path = URL(fileURLWithPath: requested).resolvingSymlinksInPath().standardizedFileURL.path
        let hits = files.filter {
            $0.name == requested || $0.url.lastPathComponent == requested || $0.name.hasSuffix("/" + requested)
                || $0.url.resolvingSymlinksInPath().standardizedFileURL.path == path
        }
        if let exact = hits.first(where: { $0.name == requested }) { return exact.name }
        guard let hit = hits.first else { throw SubjectError.unknownSplitFile(name: requested, split: split) }
        guard hits.count == 1 else {
            throw SubjectError.ambiguousSplitFile(name: requested, split: split, matches: hits.map(\.name))
        }
        return hit.name
    }
}
