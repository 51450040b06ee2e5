import Foundation

/// The reference copy of a template (the tensorcore template's shipped core as a second module): files copied from
/// the source tree with one module name renamed, so that one benchmark process can link the candidate core and the
/// reference side by side and time them in alternating rounds (a ratio in which the machine's drift cancels).
extension Workspace {
    /// Copies each of `template.referenceCopies` (a file or a directory, relative to the source tree) to its
    /// workspace path, renaming every whole-word occurrence of the module name (`import TensorCore`,
    /// `TensorCore.gemm`) in `.swift` files. The copies become fixed files like any other (hash-checked).
    ///
    /// - Throws: `HarnessError.other` naming a source that is missing from the source tree.
    static func copyReference(_ template: Template, from source: URL, to root: URL) throws {
        guard let rename = template.referenceRename else { return }
        let fm = FileManager.default
        let pattern = try NSRegularExpression(pattern: "(?<![A-Za-z0-9_])" + NSRegularExpression.escapedPattern(for: rename.from) + "(?![A-Za-z0-9_])")
        func renamed(_ text: String) -> String {
            pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                             withTemplate: NSRegularExpression.escapedTemplate(for: rename.to))
        }
        for (fromPath, toPath) in template.referenceCopies {
            let from = source.appendingPathComponent(fromPath), to = root.appendingPathComponent(toPath)
            guard fm.fileExists(atPath: from.path) else {
                throw HarnessError.other("template '\(template.name)' copies \(fromPath) as its reference, which is not in \(source.path)")
            }
            try? fm.removeItem(at: to)
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: from.path, isDirectory: &isDir)
            if isDir.boolValue {
                try copyTree(from: from, to: to, skipping: [])
            } else {
                try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: from, to: to)
            }
            let files = isDir.boolValue
                ? (fm.enumerator(atPath: to.path)?.compactMap { $0 as? String }.map { to.appendingPathComponent($0) } ?? [])
                : [to]
            for file in files where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                try renamed(text).write(to: file, atomically: true, encoding: .utf8)
            }
        }
    }
}
