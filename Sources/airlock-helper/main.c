/*
 * airlock-helper — the single-threaded launcher that builds one Airlock sandbox.
 *
 * Why a separate C program: the agent is a multithreaded Swift process, where unshare(CLONE_NEWUSER)
 * fails with EINVAL, unshare(CLONE_NEWNS) only moves one thread, and nothing is async-signal-safe
 * after fork. The agent compiles the seccomp program, writes the launch config to a memfd and
 * posix_spawns this helper. Everything from clone() to execve() happens here, in plain C.
 *
 * Process tree:
 *   agent (Swift) ── helper (host, supervises) ── init/reaper (pid 1 in the sandbox) ── job
 *
 * This file is the helper's own sequence on the host. The containment steps of the sandbox are
 * one ordered list in contain.c; the files and their concerns are listed in helper.h, the
 * descriptor protocol shared with the agent in airlock_helper_protocol.h.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

static void write_proc_file(pid_t pid, const char *name, const char *data, int stage) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    if (write_file(path, data) < 0) host_fail(stage, path);
}

int main(void) {
    /* Prepare everything that may allocate or fail before any process exists. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(AIRLOCK_STAGE_CONFIG, "PR_SET_NO_NEW_PRIVS");
    trace("main");
    parse_config();
    load_seccomp_program();
    close(AIRLOCK_FD_CONFIG);
    close(AIRLOCK_FD_BPF);
    /* Host root's supplementary groups (gid 0 among them) must not follow the job in. */
    if (geteuid() == 0 && setgroups(0, NULL) < 0) fail(AIRLOCK_STAGE_SETGROUPS, "setgroups");
    record_prepare();

    sigset_t mask;
    sigemptyset(&mask);
    int forwarded[] = {SIGCHLD, SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&mask, forwarded[i]);
    /* The reaper inherits this mask and waits with sigwaitinfo; the job clears it before exec. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sigfd < 0) fail(AIRLOCK_STAGE_CONFIG, "signalfd");

    int sync[2];
    if (pipe2(sync, O_CLOEXEC) < 0) fail(AIRLOCK_STAGE_SYNC, "pipe2");

    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (!cfg.share_net) flags |= CLONE_NEWNET;
    trace("clone");
    /* Raw clone without a new stack behaves like fork; this process is single-threaded. */
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) fail(AIRLOCK_STAGE_CLONE, "clone");
    if (pid == 0) {
        close(sync[1]);
        close(sigfd);
        close(AIRLOCK_FD_LIFELINE);
        if (rec_sock[0] >= 0) close(rec_sock[0]);
        if (rec_out >= 0) close(rec_out);
        child_main(sync[0]);
    }
    sandbox_init = pid;
    trace("cloned");
    close(sync[0]);
    if (rec_sock[1] >= 0) close(rec_sock[1]);

    /* The child is stopped on the sync pipe. Map its ids (setgroups must be denied before an
     * unprivileged gid_map can be written) and move it into the job's cgroups. */
    if (cfg.uid_map) write_proc_file(pid, "uid_map", cfg.uid_map, AIRLOCK_STAGE_UID_MAP);
    if (cfg.gid_map) {
        write_proc_file(pid, "setgroups", "deny", AIRLOCK_STAGE_SETGROUPS);
        write_proc_file(pid, "gid_map", cfg.gid_map, AIRLOCK_STAGE_GID_MAP);
    }
    char pidbuf[24];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
    for (int i = 0; i < cfg.n_cgroups; i++)
        if (write_file(cfg.cgroup_procs[i], pidbuf) < 0) host_fail(AIRLOCK_STAGE_CGROUP, cfg.cgroup_procs[i]);
    trace("mapped");
    report(AIRLOCK_REPORT_STARTED, 0, 0, pid, NULL);
    if (write(sync[1], "g", 1) != 1) host_fail(AIRLOCK_STAGE_SYNC, "sync pipe");
    close(sync[1]);
    return supervise(sigfd);
}
