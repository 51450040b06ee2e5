import AutoResearchCore
import Foundation
import SearchResearcher

extension ResearchLoop {
    // MARK: Archive

    /// The archive's incumbent: the latest kept program, else the original.
    func incumbent() throws -> ProgramRecord {
        guard let incumbent = ProgramRecord.incumbent(of: try ledger.programs(tag: tag)) else {
            throw HarnessError.other("tag \(tag) has no program archive yet")
        }
        return incumbent
    }

    /// Creates program 1 (the workspace's program.md and the researchers' settings) the first time.
    func ensureArchive() throws {
        guard try ledger.programs(tag: tag).isEmpty else { return }
        let settings = workers.lazy.compactMap { $0.researcher as? SearchResearcher }.first?.settings ?? .default
        let draft = ProgramDraft(text: programText(), settings: ProgramGuard.encode(settings))
        _ = try ledger.addProgram(ProgramRecord(tag: tag, number: 1, parent: nil, draft: draft, diff: "", proposer: "workspace",
                                                description: "the workspace's program.md and the researchers' settings",
                                                hypothesis: "", status: .original))
    }

    /// Points `worker` at `program`: LLM and command researchers get its text as program.md, a search researcher
    /// is rebuilt with its settings (and no policy file, so arms do not share learned statistics) and, when given,
    /// `seed` (in a window, the seed it shares with its pair in the other arm).
    nonisolated func steer(_ worker: Worker, with program: ProgramRecord, seed: UInt64? = nil) throws {
        worker.program = program
        if let search = worker.researcher as? SearchResearcher {
            let settings = try JSONDecoder().decode(SearchSettings.self, from: Data(program.settings.utf8))
            let seed = seed ?? search.seed
            if settings != search.settings || search.policyFile != nil || seed != search.seed {
                worker.researcher = try SearchResearcher(ideas: search.ideas, settings: settings, policyFile: nil, seed: seed,
                                                         maximize: search.maximize, metric: search.metric)
            }
        }
    }

    /// `run --program N`: every worker follows archived program N.
    func steerAll(withProgram number: Int) async throws {
        let programs = try ledger.programs(tag: tag)
        guard let program = programs.first(where: { $0.number == number }) else {
            throw HarnessError.other("tag \(tag) has no program \(number)" + (programs.isEmpty ? " (its archive is empty; run with --meta first)" : " (programs: 1–\(programs.count); see `autoresearch programs`)"))
        }
        guard program.programStatus != .refused else { throw HarnessError.other("program \(number) was refused (\(program.reason ?? "")); it cannot run") }
        for worker in workers { try steer(worker, with: program) }
        await note("the researchers follow program \(number): \(program.description)")
    }

    // MARK: Windows

    /// Starts the meta-loop: the archive, a window left running by an earlier harness marked interrupted, the first window.
    func startMeta() async throws {
        try ensureArchive()
        if try ledger.interruptWindows(tag: tag) > 0 {
            await note("a window left running by an earlier harness is marked interrupted (not scored); a new one starts")
        }
        try await openWindow()
    }

    /// Chooses the next candidate program and starts a window from the global best.
    func openWindow() async throws {
        guard let settings = options.meta else { return }
        let control = try incumbent()
        let candidate = try await nextCandidate(control: control, settings: settings)
        let best = try bestSoFar()
        guard let metric = best.metric else { throw HarnessError.other("tag \(tag) has no baseline metric") }
        let window = try ledger.addWindow(WindowRecord(tag: tag, number: 0, program: candidate.number, control: control.number,
                                                       baseCommit: best.commit, baseMetric: metric, experiments: settings.window))
        metaState = MetaState(window: window)
        islandBests[0] = best
        islandBests[1] = best
        // Paired arms: the i-th researcher of each arm gets the same seed (common random numbers), so a window's score
        // reflects the programs rather than the luck of the draw; with the same program both arms make the same moves.
        for arm in [0, 1] {
            for (i, worker) in workers.filter({ min($0.island, 1) == arm }).enumerated() {
                try steer(worker, with: arm == 0 ? candidate : control, seed: options.seed &+ 0x5EED &+ UInt64(i) &* 7919)
            }
        }
        await note("window \(window.number): program \(candidate.number) (\(candidate.description)) against the control, program \(control.number), \(settings.window) experiments each from \(best.commit.prefix(7))")
    }

    /// A new program from the meta-researcher while fewer than `population` challengers are live (up to 3 proposals,
    /// refused ones recorded), else the live challenger with the highest UCB index; the incumbent itself (an A/A
    /// window) when there is neither.
    func nextCandidate(control: ProgramRecord, settings: MetaSettings) async throws -> ProgramRecord {
        let programs = try ledger.programs(tag: tag)
        let windows = try ledger.windows(tag: tag).filter { $0.status == "done" }
        let live = programs.filter { $0.programStatus == .live }
        if live.count < settings.population, let researcher = programResearcher {
            for attempt in 1...3 {
                if let program = try await proposeProgram(researcher, parent: control, attempt: attempt) { return program }
            }
        }
        func scores(_ p: ProgramRecord) -> [Double] { windows.filter { $0.program == p.number && $0.control != p.number }.compactMap(\.score) }
        let ranked = live.map { ($0, MetaPolicy.ucb(scores: scores($0), totalWindows: windows.count, exploration: settings.exploration)) }
        if let pick = ranked.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.number > $1.0.number) }) { return pick.0 }
        return control
    }

    /// Asks the meta-researcher for a program, checks it with `ProgramGuard` and archives it (`live`, or `refused` with why).
    func proposeProgram(_ researcher: any ProgramResearcher, parent: ProgramRecord, attempt: Int) async throws -> ProgramRecord? {
        let windows = try ledger.windows(tag: tag).filter { $0.status == "done" }
        let archived = try ledger.programs(tag: tag).map { p in
            ArchivedProgram(number: p.number, parent: p.parent, settings: p.settings, status: p.status,
                            scores: windows.filter { $0.program == p.number && $0.control != p.number }.compactMap(\.score))
        }
        let context = ProgramContext(
            parent: parent.draft, parentNumber: parent.number, archive: try archiveTable(),
            results: SubjectBridge.resultsTSV(try ledger.experiments(tag: tag).suffix(40).map(\.outcome)),
            notes: try ledger.notes(tag: tag).suffix(20).map { "- \($0.text)" }.joined(separator: "\n"),
            editableFiles: manifest.editable, protectedFields: ProgramGuard.protectedFields,
            seed: options.seed &+ UInt64(archived.count) &* 7919 &+ UInt64(attempt), programs: archived)
        var proposal: ProgramProposal
        do {
            proposal = try await researcher.proposeProgram(context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            await note("the meta-researcher proposed no program: \(error)")
            return nil
        }
        // Settings are stored whole (keys left out take their defaults), so diffs compare like with like.
        if ProgramGuard.refusal(proposal) == nil, let whole = ProgramGuard.normalized(proposal.draft.settings) { proposal.draft.settings = whole }
        let diff = MetaPolicy.diff(from: (parent.text, ProgramGuard.settingsMap(parent.settings)),
                                   to: (proposal.draft.text, ProgramGuard.settingsMap(proposal.draft.settings)))
        let refusal = ProgramGuard.refusal(proposal) ?? (diff.isEmpty ? "it is the same as its parent, program \(parent.number)" : nil)
        var record = ProgramRecord(tag: tag, number: 0, parent: parent.number, draft: proposal.draft, diff: diff, proposer: researcher.name,
                                   description: proposal.description, hypothesis: proposal.hypothesis, status: refusal == nil ? .live : .refused)
        record.reason = refusal
        if let session = researcher.lastSession() { record.costUSD = session.costUSD; record.transcript = session.transcript }
        record = try ledger.addProgram(record)
        if let refusal {
            await note("program \(record.number) from \(researcher.name) is refused: \(refusal)")
            return nil
        }
        await note("program \(record.number) from \(researcher.name): \(record.description)")
        return record
    }

    /// Gate before each experiment of a meta run: lets `worker` start one if its arm has experiments left in the
    /// window; else waits, and the last one to arrive after every experiment finished closes the window and opens the next.
    func metaGate(_ worker: Worker) async throws {
        guard let settings = options.meta else { return }
        while nextExperimentAllowed() {
            guard var state = metaState else { return }
            let arm = min(worker.island, 1)
            if !state.closing, state.started[arm] < settings.window {
                state.started[arm] += 1
                state.inFlight += 1
                metaState = state
                // The k-th experiment of each arm in a window proposes with the same seed.
                worker.pairedSeed = options.seed &+ UInt64(state.window.number) &* 1_000_003 &+ UInt64(state.started[arm])
                return
            }
            // An arm whose researchers all stopped (failing or out of ideas) can never finish the window: stop too.
            for other in [0, 1] where state.started[other] < settings.window
                && workers.filter({ min($0.island, 1) == other }).allSatisfy({ stoppedWorkers.contains($0.index) }) {
                if !metaHalted {
                    metaHalted = true
                    await note("the \(other == 0 ? "candidate" : "control") arm's researchers stopped; the meta-loop cannot finish window \(state.window.number) and stops")
                }
                return
            }
            if !state.closing, state.inFlight == 0, state.started.allSatisfy({ $0 >= settings.window }) {
                metaState?.closing = true
                try await closeWindow()
                try await openWindow()
                continue
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// At the end of a session: a window whose experiments all finished is scored; one cut short is marked interrupted.
    func endMeta() async throws {
        guard let state = metaState, let settings = options.meta else { return }
        if !state.closing, state.inFlight == 0, state.started.allSatisfy({ $0 >= settings.window }) {
            metaState?.closing = true
            try await closeWindow()
        } else {
            try ledger.interruptWindows(tag: tag)
        }
        metaState = nil
    }

    /// After an experiment of a meta run finished (whatever its status).
    func metaExperimentFinished() {
        guard metaState != nil else { return }
        metaState!.inFlight = max(0, metaState!.inFlight - 1)
    }

    /// Scores the window, judges its challenger, and moves the branch to the global best.
    func closeWindow() async throws {
        guard var window = metaState?.window, let settings = options.meta else { return }
        let records = try ledger.experiments(tag: tag).filter { $0.window == window.number }
        func arm(_ island: Int) -> (progress: Double, experiments: Int, seconds: Double) {
            let mine = records.filter { $0.island == island }
            let best = mine.filter { $0.experimentStatus == .keep }.compactMap(\.metric).min { better($0, than: $1) }
            let progress = best.map { manifest.direction == .lower ? window.baseMetric - $0 : $0 - window.baseMetric } ?? 0
            return (max(0, progress), mine.count, mine.compactMap { $0.outcome.computeSeconds }.reduce(0, +))
        }
        let (p, q) = (arm(0), arm(1))
        let margin = Decision.threshold(sigma: try ledger.tag(tag)?.noiseSigma, settings: manifest.noise)
        window.programProgress = p.progress; window.controlProgress = q.progress
        window.programExperiments = p.experiments; window.controlExperiments = q.experiments
        window.programSeconds = p.seconds; window.controlSeconds = q.seconds
        window.score = MetaPolicy.score(program: p.progress, control: q.progress, margin: margin)
        window.scorePerHour = MetaPolicy.scorePerHour(program: p.progress, programSeconds: p.seconds,
                                                      control: q.progress, controlSeconds: q.seconds, margin: margin)
        window.status = "done"
        window.finishedAt = Date()
        try ledger.save(window)
        await note(String(format: "window %d scored %+.2f per experiment (%+.2f per hour): program %d moved the metric %.4f, the control %.4f",
                          window.number, window.score ?? 0, window.scorePerHour ?? 0, window.program, p.progress, q.progress))
        guard window.program != window.control,
              var program = try ledger.programs(tag: tag).first(where: { $0.number == window.program }), program.programStatus == .live else { return }
        let scores = try ledger.windows(tag: tag).filter { $0.program == program.number && $0.control != program.number && $0.status == "done" }.compactMap(\.score)
        switch MetaPolicy.verdict(scores: scores, settings: settings) {
        case .keep(let why):
            program.status = ProgramStatus.kept.rawValue; program.reason = why; program.keptAt = Date()
            try ledger.save(program)
            await note("program \(program.number) is kept: \(why); it is the control from now on")
        case .retire(let why):
            program.status = ProgramStatus.retired.rawValue; program.reason = why
            try ledger.save(program)
            await note("program \(program.number) is retired: \(why)")
        case .undecided:
            break
        }
    }

    /// The archive as the meta-researcher and `autoresearch programs` see it.
    func archiveTable() throws -> String {
        ProgramTable.render(programs: try ledger.programs(tag: tag), windows: try ledger.windows(tag: tag))
    }
}
