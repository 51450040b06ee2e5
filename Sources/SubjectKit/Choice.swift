/// A string hyperparameter read as one of its choices: `choice(ACTIVATION, of: Activation.self, name: "ACTIVATION")`
/// returns the case whose raw value is `value`, and otherwise stops the run (`FAIL:`) with an error that names the
/// choices, so a typo is an error instead of a silent fallback to a default.
public func choice<C: RawRepresentable & CaseIterable>(_ value: String, of type: C.Type, name: String) -> C where C.RawValue == String {
    do { return try parseChoice(value, of: type, name: name) } catch { exitWithFailure(error) }
}

/// The throwing core of `choice`.
/// - Throws: `SubjectError.unknownChoice` naming the parameter, the value and every choice.
public func parseChoice<C: RawRepresentable & CaseIterable>(_ value: String, of type: C.Type, name: String) throws -> C where C.RawValue == String {
    guard let chosen = C(rawValue: value) else {
        throw SubjectError.unknownChoice(name: name, value: value, choices: C.allCases.map(\.rawValue))
    }
    return chosen
}
