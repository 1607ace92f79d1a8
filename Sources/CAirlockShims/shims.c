#define _GNU_SOURCE
#include "airlock_shims.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

int airlock_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int airlock_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long airlock_fs_type(const char *path) {
    struct statfs s;
    if (statfs(path, &s) < 0) return -1;
    return (long)s.f_type;
}

int airlock_errno(void) { return errno; }

int airlock_report_size(void) { return (int)sizeof(struct airlock_report); }

int airlock_spawn_helper(const char *path, int stdin_fd, int stdout_fd, int stderr_fd,
                         int config_fd, int bpf_fd, int report_fd, int lifeline_fd, pid_t *pid) {
    int src[7] = {stdin_fd, stdout_fd, stderr_fd, config_fd, bpf_fd, report_fd, lifeline_fd};
    int tmp[7];
    int rc = 0, i;
    /* Park every source above the target range first (close-on-exec), so a source that already
     * sits at a target number cannot be clobbered by an earlier dup2 and so no dup2 is a no-op
     * that would keep FD_CLOEXEC set. */
    for (i = 0; i < 7; i++) tmp[i] = -1;
    for (i = 0; i < 7; i++) {
        tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16);
        if (tmp[i] < 0) {
            rc = errno;
            goto out;
        }
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    for (i = 0; i < 7; i++) posix_spawn_file_actions_adddup2(&fa, tmp[i], i);
    posix_spawn_file_actions_addclosefrom_np(&fa, 7);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETSID);
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {NULL};
    rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
out:
    for (i = 0; i < 7; i++)
        if (tmp[i] >= 0) close(tmp[i]);
    return rc;
}
