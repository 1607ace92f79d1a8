import AirlockCore
import Foundation
import Testing

@testable import AirlockProfile

@Suite struct ShippedProfilesTests {
    static let shipped: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: repoRoot + "/Profiles")) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }()

    @Test func theThreeProfilesShip() {
        #expect(Self.shipped == ["default", "network-host", "strict"])
    }

    @Test(arguments: shipped)
    func everyProfileLoadsFromDiskAndEmbedded(_ name: String) throws {
        let fromDisk = try ProfileLoader(searchPaths: [repoRoot + "/Profiles"], syscalls: FixedSyscallTable()).load(
            name)
        let embedded = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load(name)
        #expect(fromDisk.profile.canonicalDescription == embedded.profile.canonicalDescription)
        #expect(fromDisk.warnings.isEmpty, "\(fromDisk.warnings)")
        #expect(fromDisk.profile.name == name)
        #expect(fromDisk.profile.capabilities.isEmpty)
        #expect(!fromDisk.profile.description.isEmpty)
        #expect(fromDisk.sources.last?.file == repoRoot + "/Profiles/\(name).yaml")
        #expect(embedded.sources.last?.file == "<embedded>/\(name).yaml")
        // Every rule explains itself.
        for rule in fromDisk.profile.seccomp.rules {
            #expect(rule.why?.isEmpty == false, "rule for \(rule.names) at \(rule.location!) has no why")
        }
        _ = try fromDisk.profile.seccomp.normalizedRules()
    }

    @Test(arguments: shipped)
    func embeddedTextEqualsTheFileOnDisk(_ name: String) throws {
        let disk = try String(contentsOfFile: repoRoot + "/Profiles/\(name).yaml", encoding: .utf8)
        #expect(EmbeddedProfiles.all[name] == disk, "run scripts/embed-profiles.sh")
        #expect(EmbeddedProfiles.all.count == Self.shipped.count)
    }

    @Test func defaultIsADenyList() throws {
        let p = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load("default").profile
        #expect(p.seccomp.defaultAction == .allow)
        #expect(p.network == .none)
        #expect(p.lineage == ["default"])
        #expect(p.limits == LimitsSpec(memory: 2 << 30, pids: 1024, nofile: 4096, timeout: 3600, logLimit: 16 << 20))
        let denied = Set(p.seccomp.rules.filter { $0.args.isEmpty }.flatMap(\.names))
        for name in [
            "unshare", "setns", "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
            "fsmount", "fspick", "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev", "keyctl",
            "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
            "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
            "acct", "swapon", "swapoff", "reboot", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
            "syslog", "quotactl", "lookup_dcookie", "name_to_handle_at", "open_by_handle_at", "iopl", "ioperm",
            "vhangup", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms",
            "query_module", "fanotify_init", "chroot", "pidfd_getfd", "kcmp", "move_pages", "mbind",
            "set_mempolicy", "migrate_pages", "get_mempolicy", "clone3",
        ] {
            #expect(denied.contains(name), "\(name) is not denied")
        }
        let clone3 = p.seccomp.rules.first { $0.names == ["clone3"] }
        #expect(clone3?.action == .errno(38))
        let cloneMasks = p.seccomp.rules.filter { $0.names == ["clone"] }.map { $0.args[0].value }
        #expect(
            Set(cloneMasks) == [0x1000_0000, 0x20000, 0x2000_0000, 0x4000_0000, 0x0800_0000, 0x0400_0000, 0x0200_0000])
        let sockets = p.seccomp.rules.filter { $0.names == ["socket"] }.map {
            "\($0.args[0].index):\($0.args[0].valueTwo)"
        }
        #expect(Set(sockets) == ["0:40", "0:38", "0:17", "0:15", "1:3", "1:10"])
        let ioctls = p.seccomp.rules.filter { $0.names == ["ioctl"] }.map(\.args)
        #expect(
            ioctls == [
                [SeccompArg(index: 1, op: .maskedEq, value: 0xffff_ffff, valueTwo: 0x5412)],
                [SeccompArg(index: 1, op: .maskedEq, value: 0xffff_ffff, valueTwo: 0x541C)],
            ])
        #expect(
            p.filesystem.binds.map(\.destination) == [
                "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/alternatives", "/etc/ld.so.cache",
            ])
        #expect(p.filesystem.binds.allSatisfy { $0.readOnly })
        #expect(p.filesystem.binds.filter(\.optional).count == 5)
    }

    @Test func strictIsAnAllowListOverDefault() throws {
        let loaded = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load("strict")
        let p = loaded.profile
        #expect(p.lineage == ["default", "strict"])
        #expect(loaded.sources.map(\.name) == ["default", "strict"])
        #expect(p.seccomp.defaultAction == .errno(1))
        let rules = try p.seccomp.normalizedRules()
        // The inherited EPERM deny rules match the new default and drop out.
        #expect(!rules.contains { $0.names == ["ptrace"] })
        let allowed = Set(rules.filter { $0.action == .allow && $0.args.isEmpty }.flatMap(\.names))
        for name in [
            "read", "write", "openat", "close", "execve", "exit_group", "wait4", "mmap", "brk", "rt_sigaction",
            "newfstatat", "getrandom", "futex", "set_robust_list", "rseq", "prlimit64", "arch_prctl", "vfork",
        ] {
            #expect(allowed.contains(name), "\(name) is not allowed")
        }
        #expect(!allowed.contains("clone") && !allowed.contains("socket") && !allowed.contains("ioctl"))
        let clone = rules.filter { $0.names == ["clone"] }
        #expect(clone.map(\.action) == [.allow])
        #expect(clone.first?.args == [SeccompArg(index: 0, op: .maskedEq, value: 0x7E02_0000, valueTwo: 0)])
        #expect(rules.first { $0.names == ["clone3"] }?.action == .errno(38))
        #expect(!rules.contains { $0.names == ["ioctl"] && $0.args.first?.valueTwo == 0x5412 })
    }

    @Test func networkHostAddsResolverFilesAndTheHostNetwork() throws {
        let p = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load("network-host").profile
        #expect(p.lineage == ["default", "network-host"])
        #expect(p.network == .host)
        #expect(p.seccomp.defaultAction == .allow)
        let dsts = p.filesystem.binds.map(\.destination)
        for extra in [
            "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl/certs", "/usr/share/ca-certificates",
        ] {
            #expect(dsts.contains(extra))
            #expect(p.filesystem.binds.first { $0.destination == extra }?.optional == true)
        }
        #expect(dsts.first == "/usr")
    }

    @Test func canonicalDescriptionIsDeterministic() throws {
        let a = try ProfileLoader(searchPaths: [repoRoot + "/Profiles"], syscalls: FixedSyscallTable()).load("default")
        let b = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load("default")
        #expect(a.profile.canonicalDescription == b.profile.canonicalDescription)
        #expect(a.profile.canonicalPolicyJSON == b.profile.canonicalPolicyJSON)
        #expect(a.profile.canonicalPolicyJSON.hasPrefix(#"{"capabilities":[],"filesystem":{"#))
        #expect(!a.profile.canonicalPolicyJSON.contains("why"))
        #expect(a.profile.canonicalDescription.contains(#""action": "errno(ENOSYS)""#))
        #expect(a.profile.canonicalDescription.contains(#""value": "0x10000000""#))
    }
}
