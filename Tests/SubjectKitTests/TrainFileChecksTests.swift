import Foundation
import Testing
@testable import SubjectKit

/// The checks train.swift leans on so that a slip is an error, not a silent default: a string hyperparameter
/// outside its choices, a parameter the model made but does not checkpoint, a checkpoint that holds more than the
/// model restores.
@Suite struct TrainFileChecksTests {
    enum Activation: String, CaseIterable { case relu2, gelu, silu, relu }

    @Test func aChoiceOutsideItsListIsAnErrorThatNamesTheChoices() throws {
        #expect(try parseChoice("gelu", of: Activation.self, name: "ACTIVATION") == .gelu)
        #expect(throws: SubjectError.unknownChoice(name: "ACTIVATION", value: "gleu", choices: ["relu2", "gelu", "silu", "relu"])) {
            _ = try parseChoice("gleu", of: Activation.self, name: "ACTIVATION")
        }
        #expect(SubjectError.unknownChoice(name: "ACTIVATION", value: "gleu", choices: ["relu2", "gelu", "silu", "relu"]).description
                == "ACTIVATION is \"gleu\", which is not one of its choices (relu2, gelu, silu, relu): set ACTIVATION to one of them, or add the new choice to the code that reads it")
    }

    @Test func aParameterLeftOutOfTheListIsNamed() {
        #expect(SubjectError.unlistedParameters(["h0.gain"]).description
                == "the model made 'h0.gain' with param() but `parameters` leaves it out, so the checkpoint would not hold it and the evaluation would run with its initial values: add it to `parameters`")
    }

    @Test func restoreCopiesTheParametersAndRefusesWhatDoesNotFit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(Checkpoint.fileName)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 4), b = UnsafeMutablePointer<Float>.allocate(capacity: 2)
        defer { a.deallocate(); b.deallocate() }
        a.initialize(repeating: 0, count: 4); b.initialize(repeating: 0, count: 2)

        try Checkpoint(entries: [.init(name: "w", shape: [2, 2], values: [1, 2, 3, 4]), .init(name: "b", shape: [2], values: [5, 6])]).write(to: url)
        try Subject.restore(from: url, into: [("w", [2, 2], a), ("b", [2], b)])
        #expect(Array(UnsafeBufferPointer(start: a, count: 4)) == [1, 2, 3, 4] && Array(UnsafeBufferPointer(start: b, count: 2)) == [5, 6])

        // A parameter the checkpoint lacks, one of another shape, and an entry the model does not restore.
        #expect(throws: SubjectError.badCheckpoint(path: url.path, problem: "it has no parameter named 'c'")) {
            try Subject.restore(from: url, into: [("w", [2, 2], a), ("b", [2], b), ("c", [2], b)])
        }
        #expect(throws: SubjectError.badCheckpoint(path: url.path, problem: "'b' has shape [2], the model [1, 2]")) {
            try Subject.restore(from: url, into: [("w", [2, 2], a), ("b", [1, 2], b)])
        }
        #expect(throws: SubjectError.badCheckpoint(path: url.path, problem: "it holds 'b', which the model does not restore (a checkpoint holds the model's parameters and nothing else)")) {
            try Subject.restore(from: url, into: [("w", [2, 2], a)])
        }
    }
}
