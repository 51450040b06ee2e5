import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process memory, as the trainer reports it (`peak_memory_mb`).
public enum Memory {
    /// Peak resident set size of this process in bytes (getrusage `ru_maxrss`: KiB on Linux, bytes on macOS).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)
        #else
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// Peak resident set size in MiB.
    public static var peakResidentMB: Double { Double(peakResidentBytes) / 1_048_576 }
}
