import CSHA256
import Foundation

/// SHA-256 of `data` as 64 lowercase hex digits (OpenSSL's libcrypto on Linux, CommonCrypto on macOS).
public func sha256Hex(_ data: Data) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    data.withUnsafeBytes { raw in
        #if canImport(CommonCrypto)
        _ = CC_SHA256(raw.baseAddress, CC_LONG(raw.count), &digest)
        #else
        _ = SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &digest)
        #endif
    }
    return digest.map { String(format: "%02x", $0) }.joined()
}

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
