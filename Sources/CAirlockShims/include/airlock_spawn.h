/*
 * posix_spawn for host-side commands (git, dpkg-query, cc --version), used by AirlockOS's
 * HostCommand. Every symbol carries the `airlock_` prefix.
 */
#ifndef AIRLOCK_SPAWN_H
#define AIRLOCK_SPAWN_H
#include <sys/types.h>

/* Start `path` with `argv` and `envp` (NULL-terminated): `stdin_fd`, `stdout_fd` and `stderr_fd`
 * are placed at 0, 1 and 2, every other descriptor is closed, the signal mask is empty, every
 * signal has its default disposition, and the child leads a new session (so it has no
 * controlling terminal to prompt on, and its process group can be killed as a whole). `cwd`, if
 * not NULL, is the child's working directory. Returns 0 and sets *pid, or an errno value. */
int airlock_spawn_command(const char *path, char *const argv[], char *const envp[], const char *cwd,
                          int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid);

/* pidfd_open(pid, 0): a close-on-exec descriptor that polls readable when `pid` exits; -1 and
 * errno (ENOSYS before Linux 5.3). */
int airlock_pidfd_open(pid_t pid);

#endif
