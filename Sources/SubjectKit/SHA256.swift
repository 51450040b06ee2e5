import CSHA256
import Foundation

/// SHA-256 of `bytes` as 64 lowercase hex digits (OpenSSL's libcrypto on Linux, CommonCrypto on macOS).
public func sha256Hex<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    bytes.withUnsafeBytes { raw in
        #if canImport(CommonCrypto)
        _ = CC_SHA256(raw.baseAddress, CC_LONG(raw.count), &digest)
        #else
        _ = SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &digest)
        #endif
    }
    return digest.map { String(format: "%02x", $0) }.joined()
}
