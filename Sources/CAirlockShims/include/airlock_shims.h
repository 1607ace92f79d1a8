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

/* sizeof(struct airlock_report). */
int airlock_report_size(void);

#endif
