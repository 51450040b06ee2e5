import Foundation

/// The phases of a run the harness drives, each a separate process in its own sandbox:
///
/// - `train`: the program sees the training split (`AUTORESEARCH_DATA_DIR` holds meta.json and train.txt only)
///   and a writable output folder (`AUTORESEARCH_OUTPUT`); it trains until the budget is spent, writes a
///   `Checkpoint` there and exits. What it prints is logged, never scored; the harness times it itself.
/// - `evaluate`: a fresh process of the same program, with no data at all: it restores the checkpoint
///   (`AUTORESEARCH_CHECKPOINT`), reads the windows the harness chose (`AUTORESEARCH_WINDOWS`, an
///   `EvaluationWindows` file), and writes one row of `vocabSize` logits per position to `logits.bin` in its
///   output folder. The harness computes val_bpb from those logits itself (`EvaluationScore`), and checks in
///   another fresh process that earlier outputs do not depend on later inputs (`CausalityProbe`).
public enum SubjectPhase: String, Sendable, CaseIterable {
    case train, evaluate

    /// The phase the environment names; `train` when none is set (a person running the program by hand).
    public static func current(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SubjectPhase {
        guard let value = environment[EnvironmentKey.phase], !value.isEmpty else { return .train }
        guard let phase = SubjectPhase(rawValue: value) else {
            throw SubjectError.invalidEnvironment(name: EnvironmentKey.phase, value: value, expected: "train or evaluate")
        }
        return phase
    }
}

/// Named Float32 tensors, as the training phase saves them and the evaluation phase restores them.
///
/// File format (little-endian): `ARCK`, UInt32 count; per entry: UInt32 name length, the UTF-8 name,
/// UInt32 rank, rank × UInt32 dimensions, then the values as Float32.
public struct Checkpoint: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) { self.name = name; self.shape = shape; self.values = values }
    }

    public var entries: [Entry]
    public static let fileName = "checkpoint.bin"
    static let magic = Array("ARCK".utf8)

    public init(entries: [Entry]) { self.entries = entries }

    public func write(to url: URL) throws {
        var data = Data(Self.magic)
        data.appendLittleEndian(UInt32(entries.count))
        for entry in entries {
            let name = Array(entry.name.utf8)
            data.appendLittleEndian(UInt32(name.count)); data.append(contentsOf: name)
            data.appendLittleEndian(UInt32(entry.shape.count))
            for d in entry.shape { data.appendLittleEndian(UInt32(d)) }
            entry.values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try data.write(to: url)
    }

    /// - Throws: `SubjectError.badCheckpoint` naming what is wrong.
    public static func read(from url: URL) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SubjectError.badCheckpoint(path: url.path, problem: "it does not exist (did the training phase call saveCheckpoint?)")
        }
        var reader = ByteReader(data: data)
        guard reader.bytes(4) == magic, let count = reader.uint32() else {
            throw SubjectError.badCheckpoint(path: url.path, problem: "it is not a checkpoint file")
        }
        var entries: [Entry] = []
        for _ in 0..<count {
            guard let length = reader.uint32(), let name = reader.bytes(Int(length)), let rank = reader.uint32() else {
                throw SubjectError.badCheckpoint(path: url.path, problem: "it ends in the middle of entry \(entries.count + 1)")
            }
            var shape: [Int] = []
            for _ in 0..<rank { guard let d = reader.uint32() else { break }; shape.append(Int(d)) }
            let n = shape.reduce(1, *)
            guard shape.count == Int(rank), let values = reader.floats(n) else {
                throw SubjectError.badCheckpoint(path: url.path, problem: "it ends in the middle of entry \(entries.count + 1)")
            }
            entries.append(Entry(name: String(decoding: name, as: UTF8.self), shape: shape, values: values))
        }
        return Checkpoint(entries: entries)
    }
}

/// The windows the harness asks the evaluation phase to score: groups of `batch` windows of `seqLen` bytes.
///
/// File format (little-endian): `ARWN`, UInt32 group count; per group: UInt32 batch, UInt32 seqLen, then
/// batch × seqLen token bytes. The answer (`logits.bin`) is, group after group, batch × seqLen × `vocabSize`
/// Float32 logits in row-major order.
public struct EvaluationWindows: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var batch: Int
        public var seqLen: Int
        /// batch × seqLen inputs.
        public var tokens: [UInt8]
        /// batch × seqLen targets (the byte after each input); never written to the file.
        public var targets: [UInt8]
        public init(batch: Int, seqLen: Int, tokens: [UInt8], targets: [UInt8]) {
            self.batch = batch; self.seqLen = seqLen; self.tokens = tokens; self.targets = targets
        }
    }

    public var groups: [Group]
    public static let logitsFileName = "logits.bin"
    static let magic = Array("ARWN".utf8)

    public init(groups: [Group]) { self.groups = groups }

    /// Positions (= targets) in all groups.
    public var positions: Int { groups.reduce(0) { $0 + $1.batch * $1.seqLen } }

    /// The whole of `split` in windows of `maxSeqLen`, `batchSize` windows to a group, and the shorter tail as a
    /// last group of one: exactly the windows `bitsPerByte` evaluates, so val_bpb means what it always meant.
    public static func covering(_ split: [UInt8], maxSeqLen: Int = maxSeqLen, batchSize: Int = 16) -> EvaluationWindows {
        precondition(split.count >= 2 && maxSeqLen >= 1 && batchSize >= 1)
        let targetCount = split.count - 1
        let fullWindows = targetCount / maxSeqLen
        let tail = targetCount % maxSeqLen
        func group(_ windows: Range<Int>, seqLen: Int) -> Group {
            var tokens: [UInt8] = [], targets: [UInt8] = []
            for w in windows {
                let start = w * maxSeqLen
                tokens += split[start..<start + seqLen]
                targets += split[start + 1..<start + seqLen + 1]
            }
            return Group(batch: windows.count, seqLen: seqLen, tokens: tokens, targets: targets)
        }
        var groups: [Group] = []
        var first = 0
        while first < fullWindows {
            let last = min(first + batchSize, fullWindows)
            groups.append(group(first..<last, seqLen: maxSeqLen))
            first = last
        }
        if tail > 0 { groups.append(group(fullWindows..<fullWindows + 1, seqLen: tail)) }
        return EvaluationWindows(groups: groups)
    }

    public func write(to url: URL) throws {
        var data = Data(Self.magic)
        data.appendLittleEndian(UInt32(groups.count))
        for g in groups {
            data.appendLittleEndian(UInt32(g.batch)); data.appendLittleEndian(UInt32(g.seqLen))
            data.append(contentsOf: g.tokens)
        }
        try data.write(to: url)
    }

    /// Reads a windows file (targets are not in it and come back empty).
    /// - Throws: `SubjectError.badWindows`.
    public static func read(from url: URL) throws -> EvaluationWindows {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SubjectError.badWindows(path: url.path, problem: "it does not exist")
        }
        var reader = ByteReader(data: data)
        guard reader.bytes(4) == magic, let count = reader.uint32() else { throw SubjectError.badWindows(path: url.path, problem: "it is not a windows file") }
        var groups: [Group] = []
        for _ in 0..<count {
            guard let b = reader.uint32(), let t = reader.uint32(), b > 0, t > 0, Int(t) <= maxSeqLen,
                  let tokens = reader.bytes(Int(b) * Int(t)) else {
                throw SubjectError.badWindows(path: url.path, problem: "group \(groups.count + 1) is cut short or out of range")
            }
            groups.append(Group(batch: Int(b), seqLen: Int(t), tokens: tokens, targets: []))
        }
        return EvaluationWindows(groups: groups)
    }
}

extension Subject {
    /// Writes the trained parameters to the output folder; the evaluation phase restores them with `restore`.
    /// Exits with `FAIL:` when the folder cannot be written.
    public func saveCheckpoint(_ entries: [(name: String, shape: [Int], values: [Float])]) {
        do {
            let folder = try outputFolder()
            try Checkpoint(entries: entries.map { Checkpoint.Entry(name: $0.name, shape: $0.shape, values: $0.values) })
                .write(to: folder.appendingPathComponent(Checkpoint.fileName))
        } catch { exitWithFailure(error) }
    }

    /// Copies the checkpoint's values into `parameters` (matched by name; shapes must agree).
    /// Exits with `FAIL:` naming the parameter when the checkpoint does not fit the model.
    public func restore(_ parameters: [(name: String, shape: [Int], pointer: UnsafeMutablePointer<Float>)]) {
        do {
            guard let folder = environmentValue(EnvironmentKey.checkpoint) else {
                throw SubjectError.invalidEnvironment(name: EnvironmentKey.checkpoint, value: "", expected: "the training phase's output folder")
            }
            try Self.restore(from: URL(fileURLWithPath: folder).appendingPathComponent(Checkpoint.fileName), into: parameters)
        } catch { exitWithFailure(error) }
    }

    /// The throwing core of `restore`: copies the checkpoint at `url` into `parameters`.
    /// - Throws: `SubjectError.badCheckpoint` when a parameter is missing or has another shape, or the checkpoint
    ///   holds an entry the model does not restore.
    public static func restore(from url: URL, into parameters: [(name: String, shape: [Int], pointer: UnsafeMutablePointer<Float>)]) throws {
        let saved = Dictionary(try Checkpoint.read(from: url).entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for p in parameters {
            guard let entry = saved[p.name] else {
                throw SubjectError.badCheckpoint(path: url.path, problem: "it has no parameter named '\(p.name)'")
            }
            guard entry.shape == p.shape else {
                throw SubjectError.badCheckpoint(path: url.path, problem: "'\(p.name)' has shape \(entry.shape), the model \(p.shape)")
            }
            entry.values.withUnsafeBufferPointer { p.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        let restored = Set(parameters.map(\.name))
        if let extra = saved.keys.sorted().first(where: { !restored.contains($0) }) {
            throw SubjectError.badCheckpoint(path: url.path, problem: "it holds '\(extra)', which the model does not restore "
                                             + "(a checkpoint holds the model's parameters and nothing else)")
        }
    }

    /// Stops the run (`FAIL:`) when the model made parameters (`made`, every name `param` gave out) that `listed`
    /// (the names it checkpoints and restores) leaves out: such a parameter would train, never reach the checkpoint,
    /// and be evaluated at its initial values.
    public func requireListed(made: [String], listed: [String]) {
        let listedSet = Set(listed)
        let missing = made.filter { !listedSet.contains($0) }
        if !missing.isEmpty { exitWithFailure(SubjectError.unlistedParameters(missing)) }
    }

    /// The evaluation phase: runs `forward` on every group of the harness's windows and writes its logits to
    /// `logits.bin` in the output folder, then exits 0. `forward(inputs, batch, seqLen)` gets batch × seqLen
    /// token ids and returns batch × seqLen × `vocabSize` logits. Never returns.
    public func serveEvaluation(_ forward: (_ inputs: [Int32], _ batch: Int, _ seqLen: Int) -> [Float]) -> Never {
        do {
            guard let path = environmentValue(EnvironmentKey.windows) else {
                throw SubjectError.invalidEnvironment(name: EnvironmentKey.windows, value: "", expected: "the harness's windows file")
            }
            let windows = try EvaluationWindows.read(from: URL(fileURLWithPath: path))
            let out = try outputFolder().appendingPathComponent(EvaluationWindows.logitsFileName)
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            let handle = try FileHandle(forWritingTo: out)
            for group in windows.groups {
                let logits = forward(group.tokens.map(Int32.init), group.batch, group.seqLen)
                guard logits.count == group.batch * group.seqLen * vocabSize else {
                    throw SubjectError.badWindows(path: path, problem: "forward returned \(logits.count) logits for \(group.batch) × \(group.seqLen) positions; it must return \(vocabSize) per position")
                }
                logits.withUnsafeBytes { handle.write(Data($0)) }
            }
            try handle.close()
            exit(0)
        } catch { exitWithFailure(error) }
    }

    func outputFolder() throws -> URL {
        guard let folder = environmentValue(EnvironmentKey.output) else {
            throw SubjectError.invalidEnvironment(name: EnvironmentKey.output, value: "", expected: "a writable folder for this phase's output")
        }
        return URL(fileURLWithPath: folder)
    }
}

extension Data {
    mutating func appendLittleEndian(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Reads little-endian fields from the front of a byte buffer; nil when the buffer ends first.
struct ByteReader {
    let data: Data
    var offset = 0
    init(data: Data) { self.data = data }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, offset + n <= data.count else { return nil }
        defer { offset += n }
        return [UInt8](data[data.startIndex + offset..<data.startIndex + offset + n])
    }

    mutating func uint32() -> UInt32? {
        guard let b = bytes(4) else { return nil }
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func floats(_ n: Int) -> [Float]? {
        guard n >= 0, offset + 4 * n <= data.count else { return nil }
        defer { offset += 4 * n }
        return data.withUnsafeBytes { raw in
            (0..<n).map { i in Float(bitPattern: raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self).littleEndian) }
        }
    }
}
