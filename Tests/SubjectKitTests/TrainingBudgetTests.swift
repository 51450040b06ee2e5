import Testing
@testable import SubjectKit

/// A clock the test moves by hand.
final class FakeClock {
    var now = 100.0
}

@Suite("Training budget")
struct TrainingBudgetTests {
    @Test func timeModeCountsOnlyTrainingSeconds() {
        let clock = FakeClock()
        let budget = TrainingBudget(mode: .time(seconds: 60), clock: { clock.now })
        clock.now += 5  // start-up: not training
        #expect(budget.trainingSeconds == 0)
        budget.start()
        clock.now += 30
        #expect(budget.trainingSeconds == 30)
        #expect(budget.progress == 0.5)
        let bpb = budget.excluding { () -> Double in
            clock.now += 10  // evaluation: not training
            return 1.0
        }
        #expect(bpb == 1.0)
        #expect(budget.isRunning)
        #expect(budget.trainingSeconds == 30)
        clock.now += 29
        #expect(!budget.isExhausted)
        clock.now += 1
        #expect(budget.isExhausted)
        budget.pause()
        clock.now += 100
        #expect(budget.trainingSeconds == 60)
        #expect(budget.progress == 1)
        #expect(budget.totalSeconds == 5 + 30 + 10 + 30 + 100)
    }

    @Test func tokenMode() {
        let budget = TrainingBudget(mode: .tokens(1000), clock: { 0 })
        budget.start()
        budget.record(tokens: 250)
        #expect(budget.progress == 0.25)
        budget.record(tokens: 800)
        #expect(budget.tokens == 1050)
        #expect(budget.progress == 1)
        #expect(budget.isExhausted)
    }

    @Test func fromEnvironment() throws {
        #expect(try TrainingBudget.fromEnvironment([:]).mode == .time(seconds: 60))
        #expect(try TrainingBudget.fromEnvironment([EnvironmentKey.timeBudget: "300"]).mode == .time(seconds: 300))
        #expect(try TrainingBudget.fromEnvironment([EnvironmentKey.timeBudget: "30", EnvironmentKey.tokenBudget: "0"]).mode
            == .time(seconds: 30))
        #expect(try TrainingBudget.fromEnvironment([EnvironmentKey.tokenBudget: "2000000"]).mode == .tokens(2_000_000))
    }

    @Test func badEnvironmentValues() {
        #expect(errorMessage { _ = try TrainingBudget.fromEnvironment([EnvironmentKey.timeBudget: "soon"]) }
            == "AUTORESEARCH_TIME_BUDGET is 'soon', expected a positive number of seconds; fix or unset it")
        #expect(errorMessage { _ = try TrainingBudget.fromEnvironment([EnvironmentKey.timeBudget: "-5"]) }
            == "AUTORESEARCH_TIME_BUDGET is '-5', expected a positive number of seconds; fix or unset it")
        #expect(errorMessage { _ = try TrainingBudget.fromEnvironment([EnvironmentKey.tokenBudget: "1e6"]) }
            == "AUTORESEARCH_TOKEN_BUDGET is '1e6', expected a whole number of training tokens (0 = use the time budget); fix or unset it")
    }
}
