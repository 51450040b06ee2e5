import Foundation

/// Everything that can go wrong in the search researcher, each with a message that says
/// what was wrong and what to do about it.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    /// The editable file has no ALL_CAPS constants with literal values, so there is nothing to tune.
    case noHyperparameterBlock(path: String)
    /// A `range:` or `choices:` annotation in the block cannot be used as written.
    case invalidAnnotation(path: String, line: Int, reason: String)
    /// The ideas file cannot be read.
    case unreadableIdeas(path: String, reason: String)
    /// The ideas file is not valid TOML.
    case malformedIdeas(path: String, reason: String)
    /// An idea in the ideas file misses a key or has one of the wrong type.
    case invalidIdea(path: String, idea: String, reason: String)
    /// The policy file exists but cannot be read back.
    case unreadablePolicy(path: String, reason: String)
    /// A search setting is out of its valid range.
    case invalidSettings(String)

    public var description: String {
        switch self {
        case .noHyperparameterBlock(let path):
            return "\(path) has no hyperparameter block: put ALL_CAPS constants with literal values at the top of the file, one per line, e.g. `let LEARNING_RATE = 0.003  // range: 1e-4..1e-2`"
        case .invalidAnnotation(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .unreadableIdeas(let path, let reason):
            return "cannot read the ideas file \(path): \(reason)"
        case .malformedIdeas(let path, let reason):
            return "\(path) is not valid TOML: \(reason)"
        case .invalidIdea(let path, let idea, let reason):
            return "\(path): \(idea) \(reason)"
        case .unreadablePolicy(let path, let reason):
            return "\(path) cannot be read as a search policy (\(reason)); fix it or delete it to start learning afresh"
        case .invalidSettings(let reason):
            return "invalid search settings: \(reason)"
        }
    }
}
