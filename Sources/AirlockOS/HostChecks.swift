import Glibc

/// Checks that this host can create sandboxes at all, before anything is set up, so the person
/// at the keyboard gets the sysctl to change instead of a failed clone.
public enum HostChecks {
    /// Throws when user namespaces are disabled for this process, naming the sysctl.
    public static func userNamespaces(procRoot: String = "/proc") throws {
        func value(_ path: String) -> Int? {
            (try? FileIO.read(procRoot + path)).flatMap { Int($0.trimmingSpaces) }
        }
        if let max = value("/sys/user/max_user_namespaces"), max == 0 {
            throw OSError(
                "clone", "CLONE_NEWUSER", errno: ENOSPC,
                hint:
                    "user namespaces are disabled: `sysctl user.max_user_namespaces` is 0; set it to a positive value (e.g. `sysctl -w user.max_user_namespaces=15000`)"
            )
        }
        guard geteuid() != 0 else { return }
        if let v = value("/sys/kernel/unprivileged_userns_clone"), v == 0 {
            throw OSError(
                "clone", "CLONE_NEWUSER", errno: EPERM,
                hint:
                    "unprivileged user namespaces are disabled: `sysctl -w kernel.unprivileged_userns_clone=1`, or run as root"
            )
        }
        if let v = value("/sys/kernel/apparmor_restrict_unprivileged_userns"), v == 1 {
            throw OSError(
                "clone", "CLONE_NEWUSER", errno: EPERM,
                hint:
                    "AppArmor restricts unprivileged user namespaces: `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, give airlock an AppArmor profile with `userns,`, or run as root"
            )
        }
    }
}
