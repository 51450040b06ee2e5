import Foundation

/// Everything that can go wrong in the fixed part of the research subject. Each message says what is
/// wrong and what to do about it; the trainer prints it after `FAIL: `.
public enum SubjectError: Error, CustomStringConvertible, Equatable {
    /// `python -m pip` cannot be run. `reason` says why (no such executable, or pip's exit status).
    case pipUnavailable(python: String, reason: String)
    /// `pip download` exited non-zero; `pipMessage` is the last line pip printed.
    case downloadFailed(requirement: String, status: Int32, pipMessage: String)
    /// A helper program (tar) failed.
    case toolFailed(tool: String, status: Int32, message: String)
    /// The downloaded package does not contain what this version of SubjectKit was built for.
    case unexpectedSource(String)
    /// A path given for a local corpus does not exist.
    case pathNotFound(String)
    /// The paths given for a local corpus contain no text files.
    case noFiles(paths: [String])
    /// All files of a local corpus together hold zero bytes.
    case emptyCorpus(paths: [String])
    /// A corpus file is not valid UTF-8.
    case notUTF8(file: String)
    /// A local corpus has fewer files than there are splits.
    case tooFewFiles(count: Int, needed: Int)
    /// A split is shorter than one training window (`maxSeqLen + 1` bytes).
    case splitTooSmall(split: String, bytes: Int, needed: Int)
    /// A file named for the validation or test split is not among the corpus files.
    case unknownSplitFile(name: String, split: String)
    /// A file named for a split matches more than one corpus file.
    case ambiguousSplitFile(name: String, split: String, matches: [String])
    /// The same file was named for both the validation and the test split.
    case fileInTwoSplits(String)
    /// Too many files were named for validation and test, leaving none to train on.
    case noTrainingFiles
    /// A corpus name that cannot be used as a directory name.
    case invalidCorpusName(String)
    /// A different corpus is already prepared under this name.
    case corpusNameTaken(name: String, directory: String)
    /// No prepared corpus at the directory (no meta.json).
    case notPrepared(directory: String)
    /// The prepared corpus at `directory` does not match its meta.json (or the built-in hashes).
    case corruptedCache(directory: String, problem: String)
    /// Reading or writing a file failed.
    case fileSystem(action: String, path: String, reason: String)
    /// An AUTORESEARCH_* environment variable has a value that cannot be used.
    case invalidEnvironment(name: String, value: String, expected: String)
    /// The training loss became NaN or infinite.
    case nonFiniteLoss(value: Float, step: Int)
    /// The checkpoint the evaluation phase reads is missing, malformed, or does not fit the model.
    case badCheckpoint(path: String, problem: String)
    /// The harness's windows file cannot be read, or the model's answer to it has the wrong size.
    case badWindows(path: String, problem: String)
    /// A string hyperparameter (ACTIVATION, OPTIMIZER) is not one of its choices.
    case unknownChoice(name: String, value: String, choices: [String])
    /// Parameters the model made that its `parameters` list (what is checkpointed and restored) leaves out.
    case unlistedParameters([String])
    /// No summary block in a run's output.
    case summaryNotFound
    /// The summary block lacks a required key.
    case summaryMissingKey(String)
    /// A summary value is not a (finite) number of the right kind.
    case summaryInvalidValue(key: String, value: String)

    public var description: String {
        switch self {
        case let .unknownChoice(name, value, choices):
            return "\(name) is \"\(value)\", which is not one of its choices (\(choices.joined(separator: ", "))): "
                + "set \(name) to one of them, or add the new choice to the code that reads it"
        case let .unlistedParameters(names):
            return "the model made \(names.map { "'\($0)'" }.joined(separator: ", ")) with param() but `parameters` leaves "
                + "\(names.count == 1 ? "it" : "them") out, so the checkpoint would not hold \(names.count == 1 ? "it" : "them") and the "
                + "evaluation would run with its initial values: add \(names.count == 1 ? "it" : "them") to `parameters`"
        case let .pipUnavailable(python, reason):
            return "cannot run pip with '\(python)': \(reason); install Python 3 with pip, or set "
                + "\(EnvironmentKey.python) to a Python that has pip, then run `autoresearch prepare` again"
        case let .downloadFailed(requirement, status, pipMessage):
            return "pip could not download \(requirement) (exit status \(status)): \(pipMessage); check the "
                + "network connection and pip's index settings (pip.conf, PIP_INDEX_URL), then run "
                + "`autoresearch prepare` again"
        case let .toolFailed(tool, status, message):
            return "\(tool) failed (exit status \(status)): \(message); check that \(tool) is installed and "
                + "the cache directory has free space, then run `autoresearch prepare` again"
        case let .unexpectedSource(detail):
            return "\(detail); the package differs from the one this version of AutoResearch was built "
                + "for — report this, or prepare your own corpus with `autoresearch prepare --path`"
        case let .pathNotFound(path):
            return "\(path) does not exist; pass existing text files or folders"
        case let .noFiles(paths):
            return "no .txt files in \(paths.joined(separator: ", ")); pass text files, or folders that "
                + "contain .txt files"
        case let .emptyCorpus(paths):
            return "the corpus in \(paths.joined(separator: ", ")) is empty (0 bytes); pass files that "
                + "contain text"
        case let .notUTF8(file):
            return "\(file) is not valid UTF-8; convert it (e.g. `iconv -t UTF-8`) or leave it out"
        case let .tooFewFiles(count, needed):
            return "the corpus has \(count) file\(count == 1 ? "" : "s") but needs at least \(needed) "
                + "(train, validation and test are split by file); add files, or cut a large file into several"
        case let .splitTooSmall(split, bytes, needed):
            return "the \(split) split has \(bytes) bytes but needs at least \(needed) (MAX_SEQ_LEN + 1); "
                + "give it more or larger files"
        case let .unknownSplitFile(name, split):
            return "'\(name)' (named for the \(split) split) is not one of the corpus files; name a file "
                + "by its file name or path"
        case let .ambiguousSplitFile(name, split, matches):
            return "'\(name)' (named for the \(split) split) matches \(matches.count) files "
                + "(\(matches.joined(separator: ", "))); name it by its path"
        case let .fileInTwoSplits(name):
            return "'\(name)' is named for both the validation and the test split; a file can be in one split only"
        case .noTrainingFiles:
            return "every corpus file is named for validation or test, which leaves none to train on; "
                + "name fewer files"
        case let .invalidCorpusName(name):
            return "'\(name)' cannot name a corpus (it becomes a directory name): use letters, digits, "
                + "'.', '-' and '_', not starting with '.'"
        case let .corpusNameTaken(name, directory):
            return "a different corpus named '\(name)' is already prepared at \(directory); choose another "
                + "name, or delete \(directory) to replace it"
        case let .notPrepared(directory):
            return "no prepared corpus at \(directory) (meta.json is missing); run `autoresearch prepare` "
                + "first, or set \(EnvironmentKey.dataDirectory) to a prepared corpus"
        case let .corruptedCache(directory, problem):
            return "cache at \(directory): \(problem); the cache is corrupted — delete \(directory) and run "
                + "`autoresearch prepare` again"
        case let .fileSystem(action, path, reason):
            return "could not \(action) \(path): \(reason); check that the path exists and is writable, or "
                + "choose another cache with \(EnvironmentKey.cache)"
        case let .invalidEnvironment(name, value, expected):
            return "\(name) is '\(value)', expected \(expected); fix or unset it"
        case let .badCheckpoint(path, problem):
            return "the checkpoint \(path) cannot be restored: \(problem); the training phase must save every parameter "
                + "the evaluation phase restores (saveCheckpoint and restore with the same names and shapes)"
        case let .badWindows(path, problem):
            return "evaluation windows \(path): \(problem)"
        case let .nonFiniteLoss(value, step):
            return "loss is \(value.isNaN ? "NaN" : "\(value)") at step \(step); training diverged — "
                + "lower the learning rate or check the initialisation"
        case .summaryNotFound:
            return "no summary block (a line `---` followed by `val_bpb: ...`) in the output; the run "
                + "crashed or was stopped before it finished — read the end of its log"
        case let .summaryMissingKey(key):
            return "the summary block has no '\(key):' line; the training file must print the whole "
                + "block with Summary.render()"
        case let .summaryInvalidValue(key, value):
            return "the summary's \(key) is '\(value)', not a finite number; the run failed or diverged"
        }
    }
}
