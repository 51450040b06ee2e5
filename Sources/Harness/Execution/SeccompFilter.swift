import Foundation

/// The seccomp filter every sandboxed phase runs under (bubblewrap's `--seccomp FD`, loaded after its own set-up,
/// with `no_new_privs`): the system calls a training program never needs and an attacker would — tracing other
/// processes or reading their memory (ptrace, process_vm_readv/writev), mounting (mount, umount2, pivot_root and
/// the new mount API), entering or making namespaces (setns, unshare), kernel keys, BPF, perf events, userfaultfd,
/// handles to files outside the view, loading kernel modules and kexec — fail with EPERM. Calls of another ABI
/// (i386's `int 0x80` or x32 on x86-64) fail too, so the numbers below cannot be dodged.
///
/// A classic BPF program over `struct seccomp_data` (seccomp(2), "Filter programs"): check the architecture, load
/// the call number, compare, return `SECCOMP_RET_ERRNO | EPERM` or `SECCOMP_RET_ALLOW`. nil on an architecture
/// without a table here (the sandbox then runs without the filter and says so in its description).
public enum SeccompFilter {
    /// The refused calls by name, with their numbers on x86-64 and arm64 (Linux's syscall tables).
    static let refused: [(name: String, x86_64: UInt32, arm64: UInt32)] = [
        ("ptrace", 101, 117), ("process_vm_readv", 310, 270), ("process_vm_writev", 311, 271),
        ("mount", 165, 40), ("umount2", 166, 39), ("pivot_root", 155, 41), ("open_tree", 428, 428), ("move_mount", 429, 429),
        ("fsopen", 430, 430), ("fsconfig", 431, 431), ("fsmount", 432, 432), ("fspick", 433, 433), ("mount_setattr", 442, 442),
        ("setns", 308, 268), ("unshare", 272, 97), ("keyctl", 250, 219), ("add_key", 248, 217), ("request_key", 249, 218),
        ("bpf", 321, 280), ("perf_event_open", 298, 241), ("userfaultfd", 323, 282), ("open_by_handle_at", 304, 265),
        ("kexec_load", 246, 104), ("init_module", 175, 105), ("finit_module", 313, 273), ("delete_module", 176, 106),
    ]

    /// The names of the refused calls, for the docs and the tests.
    public static var refusedNames: [String] { refused.map(\.name) }

    /// The program for this machine's architecture, as the bytes bubblewrap reads (8 bytes an instruction); built once.
    public static let program: [UInt8]? = {
        #if arch(x86_64)
        return makeProgram(audit: 0xC000_003E, numbers: refused.map(\.x86_64), foreignBit: 0x4000_0000)
        #elseif arch(arm64)
        return makeProgram(audit: 0xC000_00B7, numbers: refused.map(\.arm64), foreignBit: nil)
        #else
        return nil
        #endif
    }()

    static func makeProgram(audit: UInt32, numbers: [UInt32], foreignBit: UInt32?) -> [UInt8] {
        // BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
        let loadWord: UInt16 = 0x20, jumpEqual: UInt16 = 0x15, jumpSet: UInt16 = 0x45, ret: UInt16 = 0x06
        let allow: UInt32 = 0x7fff_0000, deny: UInt32 = 0x0005_0000 | 1  // ERRNO(EPERM)
        var code: [(UInt16, UInt8, UInt8, UInt32)] = []
        // [0] arch; [1] other ABI → deny; [2] nr; [3] x32 bit → deny; one compare per call; allow; deny.
        let compares = numbers.count
        let tail = (foreignBit == nil ? 0 : 1) + compares  // instructions after [2] before `allow`
        code.append((loadWord, 0, 0, 4))
        code.append((jumpEqual, 1, 0, audit))
        code.append((ret, 0, 0, deny))
        code.append((loadWord, 0, 0, 0))
        if let foreignBit { code.append((jumpSet, UInt8(tail), 0, foreignBit)) }
        for (i, nr) in numbers.enumerated() { code.append((jumpEqual, UInt8(compares - i), 0, nr)) }
        code.append((ret, 0, 0, allow))
        code.append((ret, 0, 0, deny))
        var bytes: [UInt8] = []
        for (op, jt, jf, k) in code {
            bytes += [UInt8(op & 0xff), UInt8(op >> 8), jt, jf]
            bytes += withUnsafeBytes(of: k.littleEndian, Array.init)
        }
        return bytes
    }

    /// A `printf` command that writes the program (octal escapes: dash's printf has no \x), for a shell pipeline.
    public static func printfCommand(_ bytes: [UInt8]) -> String {
        "printf '" + bytes.map { "\\" + String($0, radix: 8) }.joined() + "'"
    }
}
