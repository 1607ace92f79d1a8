/*
 * Containment, in order: the steps of the sandbox's first process (which then becomes the
 * reaper, pid 1) and of the job (its child), up to execve. Each list below is the order the
 * steps run in; each entry says why it sits where it does.
 *
 * Everything here runs after clone() in a single-threaded process: only async-signal-safe libc
 * calls and raw syscalls, and every failure is reported with its stage (report.c).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct step {
    const char *name; /* shown by AIRLOCK_TRACE builds */
    void (*run)(void);
};

static void run_steps(const struct step *steps, size_t n) {
    for (size_t i = 0; i < n; i++) {
        steps[i].run();
        trace(steps[i].name);
    }
}

/* ── the sandbox's first process ───────────────────────────────────────────────────────────── */

static int sync_fd = -1;

static void wait_for_helper(void) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(AIRLOCK_STAGE_SYNC, "PR_SET_PDEATHSIG");
    char go;
    if (read(sync_fd, &go, 1) != 1) _exit(125); /* helper died before releasing us */
    close(sync_fd);
}

static void join_v1_cgroups(void) {
    for (int i = 0; i < cfg.n_cgroup_self; i++)
        if (write_file(cfg.cgroup_self[i], "0") < 0) fail(AIRLOCK_STAGE_CGROUP, cfg.cgroup_self[i]);
}

static void become_setup_ids(void) {
    if (setresgid(cfg.setup_gid, cfg.setup_gid, cfg.setup_gid) < 0) fail(AIRLOCK_STAGE_SETID, "setresgid");
    if (setresuid(cfg.setup_uid, cfg.setup_uid, cfg.setup_uid) < 0) fail(AIRLOCK_STAGE_SETID, "setresuid");
}

static void enter_cgroup_namespace(void) {
    if (cfg.n_cgroups + cfg.n_cgroup_self > 0 && unshare(CLONE_NEWCGROUP) < 0)
        fail(AIRLOCK_STAGE_CGROUP_NS, "unshare");
}

static void make_mounts_private(void) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(AIRLOCK_STAGE_MOUNT_PRIVATE, "/");
}

/* The new root is mounted on /tmp (in our private namespace only), then pivot_root swaps it in
 * and keeps the host root at OLD_ROOT as the source of the binds. pivot_root detaches the tmpfs
 * from /tmp, so host /tmp stays reachable under OLD_ROOT. */
static void pivot_to_tmpfs_root(void) {
    mount_tmpfs("/tmp", cfg.root_size, 0755, cfg.setup_uid, cfg.setup_gid, 0, AIRLOCK_STAGE_ROOT_TMPFS);
    if (chdir("/tmp") < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "/tmp");
    if (mkdir("." OLD_ROOT, 0700) < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, OLD_ROOT);
    if (syscall(SYS_pivot_root, ".", "." OLD_ROOT) < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "pivot_root");
    if (chdir("/") < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "/");
}

static void apply_mount_plan(void) {
    for (int i = 0; i < cfg.n_mounts; i++) apply_mount(&cfg.mounts[i]);
}

static void set_hostname(void) {
    if (sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) fail(AIRLOCK_STAGE_HOSTNAME, cfg.hostname);
}

static void bring_up_loopback(void) {
    if (cfg.share_net) return; /* the host's network namespace: not ours to change */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(AIRLOCK_STAGE_LOOPBACK, "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(AIRLOCK_STAGE_LOOPBACK, "lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(AIRLOCK_STAGE_LOOPBACK, "lo");
    close(s);
}

static void detach_old_root(void) {
    if (umount2(OLD_ROOT, MNT_DETACH) < 0) fail(AIRLOCK_STAGE_DETACH_OLD_ROOT, OLD_ROOT);
    if (rmdir(OLD_ROOT) < 0) fail(AIRLOCK_STAGE_DETACH_OLD_ROOT, OLD_ROOT);
}

static void remount_root_readonly(void) {
    if (cfg.readonly_root &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        fail(AIRLOCK_STAGE_REMOUNT_ROOT, "/");
}

static const struct step sandbox_steps[] = {
    /* Die with the helper (it is single-threaded, so PDEATHSIG is reliable) and wait until it
     * has written our id maps and put us in the job's v2 cgroups: until then we have no ids. */
    {"wait for the helper", wait_for_helper},
    /* Join the job's v1 cgroups by writing "0" to each `tasks` file ourselves: a thread moving
     * itself skips the global threadgroup lock, whose first writer waits for an RCU grace period
     * (~15 ms) when the helper writes our pid to cgroup.procs instead. Before the id switch:
     * we still act as the host ids, so the host-side permission check applies. */
    {"join v1 cgroups", join_v1_cgroups},
    /* Become a mapped id so files we create have an owner (unmapped ids get EOVERFLOW). */
    {"setup ids", become_setup_ids},
    /* A cgroup namespace rooted at the job's cgroup: only after we were moved in. */
    {"cgroup namespace", enter_cgroup_namespace},
    /* Before any mount: nothing we mount may propagate back to the host. */
    {"private mounts", make_mounts_private},
    /* A size-limited tmpfs becomes the root; the host root stays reachable at OLD_ROOT as the
     * source of the binds until it is detached below. */
    {"root tmpfs", pivot_to_tmpfs_root},
    /* The agent's mount plan, in its order (binds, tmpfs, /proc, /dev, files, symlinks; see
     * MountPlan.swift). It needs OLD_ROOT: bind sources, /dev nodes, and the full /proc the
     * kernel wants visible before it allows a new proc mount in a user namespace. */
    {"mount plan", apply_mount_plan},
    {"hostname", set_hostname}, /* our own UTS namespace */
    {"loopback", bring_up_loopback}, /* our own network namespace, unless the host's is shared */
    /* From here on nothing outside the plan is reachable. */
    {"detach host root", detach_old_root},
    /* Last: the plan and the detach above still had to write to the root tmpfs. */
    {"read-only root", remount_root_readonly},
};

/* ── the job: the last steps before execve, in the reaper's child ──────────────────────────── */

static int rec_fd = -1; /* the job's end of the recording socketpair, when recording */

static void drop_capabilities(void) {
    /* Bounding set first: dropping it needs CAP_SETPCAP, which setresuid below takes away. */
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) break; /* past CAP_LAST_CAP */
            fail(AIRLOCK_STAGE_CAPS, "PR_CAPBSET_DROP");
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail(AIRLOCK_STAGE_CAPS, "PR_CAP_AMBIENT_CLEAR_ALL");
}

static void zero_capabilities(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0) fail(AIRLOCK_STAGE_CAPS, "capset");
}

static void new_session(void) {
    if (setsid() < 0) fail(AIRLOCK_STAGE_FORK, "setsid");
}

static void set_rlimits(void) {
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) < 0) fail(AIRLOCK_STAGE_RLIMIT, "RLIMIT_CORE");
    for (int i = 0; i < cfg.n_rlimits; i++)
        if (setrlimit(cfg.rlimits[i].resource, &cfg.rlimits[i].value) < 0) fail(AIRLOCK_STAGE_RLIMIT, "setrlimit");
}

static void set_umask_and_cwd(void) {
    umask(cfg.umask_value);
    if (chdir(cfg.cwd) < 0) fail(AIRLOCK_STAGE_CHDIR, cfg.cwd);
}

static void become_job_ids(void) {
    if (setresgid(cfg.job_gid, cfg.job_gid, cfg.job_gid) < 0) fail(AIRLOCK_STAGE_CAPS, "setresgid");
    if (setresuid(cfg.job_uid, cfg.job_uid, cfg.job_uid) < 0) fail(AIRLOCK_STAGE_CAPS, "setresuid");
}

static void no_new_privs(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(AIRLOCK_STAGE_CAPS, "PR_SET_NO_NEW_PRIVS");
}

/* Only fds 0-2 survive exec. The report pipe stays open (close-on-exec) so a failed execve can
 * still be reported. When recording, the job's end of the socketpair is kept at fd 6 (the
 * lifeline's number, closed in the sandbox) until the listener has been handed over. Every
 * other descriptor is closed now. */
static void close_inherited_fds(void) {
    if (cfg.record_path) {
        rec_fd = AIRLOCK_FD_LIFELINE;
        if (dup3(rec_sock[1], rec_fd, O_CLOEXEC) < 0) fail(AIRLOCK_STAGE_FDS, "recording socket");
    }
    if (syscall(SYS_close_range, 3, AIRLOCK_FD_REPORT - 1, 0) < 0 ||
        syscall(SYS_close_range, (rec_fd >= 0 ? rec_fd : AIRLOCK_FD_REPORT) + 1, ~0U, 0) < 0)
        fail(AIRLOCK_STAGE_FDS, "close_range");
    if (fcntl(AIRLOCK_FD_REPORT, F_SETFD, FD_CLOEXEC) < 0) fail(AIRLOCK_STAGE_FDS, "report pipe");
}

static void clear_signal_mask(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void install_seccomp(void) {
    if (cfg.have_prog && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &cfg.prog) < 0)
        fail(AIRLOCK_STAGE_SECCOMP, "seccomp(SECCOMP_SET_MODE_FILTER)");
}

static void install_recording(void) {
    if (rec_fd >= 0) record_install(rec_fd);
}

/* execve along the sandbox's PATH (from the job's own environment, not ours). */
static __attribute__((noreturn)) void exec_job(void) {
    const char *file = cfg.argv[0];
    if (strchr(file, '/')) {
        execve(file, cfg.argv, cfg.envp);
        fail_with(127, AIRLOCK_STAGE_EXEC, file);
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (int i = 0; i < cfg.envc; i++)
        if (!strncmp(cfg.envp[i], "PATH=", 5)) path = cfg.envp[i] + 5;
    int saved = ENOENT;
    char buf[PATH_MAX];
    while (*path) {
        const char *colon = strchrnul(path, ':');
        size_t dl = (size_t)(colon - path);
        if (dl + strlen(file) + 2 < sizeof buf && dl > 0) {
            memcpy(buf, path, dl);
            buf[dl] = '/';
            strcpy(buf + dl + 1, file);
            execve(buf, cfg.argv, cfg.envp);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        }
        path = *colon ? colon + 1 : colon;
    }
    errno = saved;
    fail_with(127, AIRLOCK_STAGE_EXEC, file); /* 127, as shells report "command not found" */
}

static const struct step job_steps[] = {
    /* A new session: no controlling terminal, so TIOCSTI cannot inject keystrokes into the
     * caller's terminal (CVE-2017-5226), and the reaper can signal the job as a group. */
    {"new session", new_session},
    /* Resource limits, core dumps off: while still privileged, so hard limits can be raised. */
    {"rlimits", set_rlimits},
    {"umask and cwd", set_umask_and_cwd}, /* both carry over the id change and execve */
    /* Bounding and ambient sets need CAP_SETPCAP, so they go before the id change. */
    {"drop capabilities", drop_capabilities},
    {"job ids", become_job_ids},
    /* After the id change, which clears the permitted and effective sets but not the
     * inheritable one: every set is zeroed explicitly. */
    {"zero capabilities", zero_capabilities},
    /* Inherited from the helper's main already; set again so this list is complete on its own
     * (no setuid binary can give privileges back, and seccomp below needs it without CAP_SYS_ADMIN). */
    {"no new privs", no_new_privs},
    {"close fds", close_inherited_fds},
    {"signal mask", clear_signal_mask}, /* the reaper blocks every signal; the job starts clean */
    /* Seccomp last: every step above may use calls the profile denies; after this only execve
     * (and, on failure, write/_exit) run. */
    {"seccomp", install_seccomp},
    /* Recording: the notifying filter goes on top, so the profile's filter still decides first. */
    {"recording filter", install_recording},
};

static __attribute__((noreturn)) void job_main(void) {
    run_steps(job_steps, sizeof job_steps / sizeof job_steps[0]);
    exec_job();
}

__attribute__((noreturn)) void child_main(int fd) {
    sync_fd = fd;
    run_steps(sandbox_steps, sizeof sandbox_steps / sizeof sandbox_steps[0]);
    /* Start the job as our child; we stay pid 1 and reap. */
    pid_t job = fork();
    if (job < 0) fail(AIRLOCK_STAGE_FORK, "fork");
    if (job == 0) job_main();
    if (rec_sock[1] >= 0) close(rec_sock[1]);
    drop_capabilities();
    reaper_main(job);
}
