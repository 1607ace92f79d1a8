#define _GNU_SOURCE
#include "airlock_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

int airlock_spawn_command(const char *path, char *const argv[], char *const envp[], const char *cwd,
                          int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid) {
    int src[3] = {stdin_fd, stdout_fd, stderr_fd};
    int tmp[3] = {-1, -1, -1};
    int rc = 0, i;
    /* Park the sources above 0..2 first (close-on-exec), so a source that already sits at a
     * target number is not clobbered by an earlier dup2, and no dup2 is a no-op that would keep
     * FD_CLOEXEC set. */
    for (i = 0; i < 3; i++) {
        tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
        if (tmp[i] < 0) {
            rc = errno;
            goto out;
        }
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    for (i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&fa, tmp[i], i);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (cwd) posix_spawn_file_actions_addchdir_np(&fa, cwd);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
out:
    for (i = 0; i < 3; i++)
        if (tmp[i] >= 0) close(tmp[i]);
    return rc;
}

int airlock_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
