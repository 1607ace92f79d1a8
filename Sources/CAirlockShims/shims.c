#define _GNU_SOURCE
#include "airlock_shims.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

int airlock_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int airlock_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long airlock_fs_type(const char *path) {
    struct statfs s;
    if (statfs(path, &s) < 0) return -1;
    return (long)s.f_type;
}

int airlock_errno(void) { return errno; }

int airlock_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int airlock_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

long long airlock_seek_data(int fd, long long offset) { return lseek(fd, offset, SEEK_DATA); }

long long airlock_seek_hole(int fd, long long offset) { return lseek(fd, offset, SEEK_HOLE); }

long long airlock_copy_range(int in_fd, long long in_off, int out_fd, long long out_off, unsigned long long len) {
    loff_t i = in_off, o = out_off;
    return copy_file_range(in_fd, &i, out_fd, &o, len, 0);
}

void *airlock_opendir_fd(int dirfd) {
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    rewinddir(d);
    return d;
}

const char *airlock_readdir_name(void *dir, unsigned char *type) {
    struct dirent *e;
    while ((e = readdir((DIR *)dir)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
        if (type) *type = e->d_type;
        return e->d_name;
    }
    return NULL;
}

void airlock_closedir(void *dir) { closedir((DIR *)dir); }

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
