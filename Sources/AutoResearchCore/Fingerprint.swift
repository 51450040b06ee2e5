import Foundation
import SubjectKit

/// The fingerprint of a set of editable files: SHA-256 over each path, a NUL, its content and a NUL,
/// in sorted path order. Two proposals with the same resulting files have the same fingerprint,
/// which is how the harness and the researchers avoid running the same change twice.
public func filesFingerprint(_ files: [String: String]) -> String {
    var data = Data()
    for path in files.keys.sorted() {
        data.append(contentsOf: Array(path.utf8)); data.append(0)
        data.append(contentsOf: Array(files[path]!.utf8)); data.append(0)
    }
    return sha256Hex(data)
}
