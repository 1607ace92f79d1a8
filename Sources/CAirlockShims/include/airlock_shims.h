/*
 * Small C shims for AirlockOS: calls Swift cannot make directly (GNU-only or variadic) and the
 * posix_spawn of the helper. Every symbol carries the `airlock_` prefix.
 */
#ifndef AIRLOCK_SHIMS_H
#define AIRLOCK_SHIMS_H
#include <sys/types.h>
#include <stdint.h>
#include "airlock_helper_protocol.h"

/* memfd_create(name, MFD_CLOEXEC); -1 and errno on failure. */
int airlock_memfd(const char *name);

/* Start `path` (argv = {path, NULL}, envp = {NULL}) with posix_spawn: the given descriptors are
 * placed at 0..6 as airlock_helper_protocol.h describes, every other descriptor is closed, the
 * signal mask is empty, every signal has its default disposition, and the helper leads a new
 * session. Returns 0 and sets *pid, or an errno value. */
int airlock_spawn_helper(const char *path, int stdin_fd, int stdout_fd, int stderr_fd,
                         int config_fd, int bpf_fd, int report_fd, int lifeline_fd, pid_t *pid);

/* pipe2(fds, O_CLOEXEC). */
int airlock_pipe_cloexec(int fds[2]);

/* statfs(path)->f_type, or -1 with errno. */
long airlock_fs_type(const char *path);

/* The errno of the calling thread (Swift's Glibc overlay makes this awkward in some modes). */
int airlock_errno(void);

/* openat2(dirfd, path, {flags | O_CLOEXEC, mode, resolve}); -1 and errno on failure (ENOSYS
 * before Linux 5.6). `resolve` takes the RESOLVE_* bits below. */
int airlock_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);
/* GNU-only open/at flags Swift's Glibc module does not export. */
#define AIRLOCK_O_PATH 010000000
#define AIRLOCK_AT_EMPTY_PATH 0x1000
#define AIRLOCK_RESOLVE_NO_XDEV 0x01ULL
#define AIRLOCK_RESOLVE_NO_MAGICLINKS 0x02ULL
#define AIRLOCK_RESOLVE_NO_SYMLINKS 0x04ULL
#define AIRLOCK_RESOLVE_BENEATH 0x08ULL
#define AIRLOCK_RESOLVE_IN_ROOT 0x10ULL

/* renameat2(olddirfd, old, newdirfd, new, RENAME_EXCHANGE): swap two names atomically. */
int airlock_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/* lseek(fd, offset, SEEK_DATA / SEEK_HOLE): the next data or hole at or after offset; -1 and
 * errno (ENXIO: no more data). */
long long airlock_seek_data(int fd, long long offset);
long long airlock_seek_hole(int fd, long long offset);

/* copy_file_range(in, &in_off, out, &out_off, len, 0): bytes copied, or -1 and errno. */
long long airlock_copy_range(int in_fd, long long in_off, int out_fd, long long out_off, unsigned long long len);

/* getdents-based listing helper: opens a directory stream on a dup of dirfd, rewound. NULL and
 * errno on failure. The caller closes it with closedir. */
void *airlock_opendir_fd(int dirfd);
/* The next entry's name and d_type (DT_*), or NULL at the end; "." and ".." are skipped. */
const char *airlock_readdir_name(void *dir, unsigned char *type);
void airlock_closedir(void *dir);

/* sizeof(struct airlock_report). */
int airlock_report_size(void);

#endif
