import CSeccomp
import Glibc

extension LibseccompSyscalls {
    /// libseccomp's name for a native syscall number, or nil when it has none.
    public static func name(of number: Int32) -> String? {
        guard let p = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), number) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
