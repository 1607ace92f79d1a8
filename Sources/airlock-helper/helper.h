/*
 * airlock-helper's private header: the parsed launch config and what each file offers the others.
 *
 * Files, by concern:
 *   main.c     the helper on the host: prepare, clone, map ids, join cgroups, release the child
 *   config.c   the launch config (fd 3), parsed through a table of op codes; the seccomp program
 *   contain.c  the sandbox's first process and the job: the containment steps, in order
 *   mounts.c   mount helpers used by the containment steps (binds, tmpfs, /dev)
 *   reaper.c   pid 1 in the sandbox (reaper) and the helper's supervise loop on the host
 *   record.c   `airlock profile record`: the seccomp user-notification recorder
 *   report.c   the report pipe (fd 5) and the failure paths
 *   files.c    small filesystem helpers (write_file, mkdir_p, parent_dirs)
 * The descriptor protocol shared with the agent is in airlock_helper_protocol.h.
 */
#ifndef AIRLOCK_HELPER_H
#define AIRLOCK_HELPER_H
#define _GNU_SOURCE
#include <linux/filter.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "../CAirlockShims/include/airlock_helper_protocol.h"

#define OLD_ROOT "/.airlock-oldroot"
#define MAX_ITEMS AIRLOCK_HELPER_MAX_ITEMS
#define RECORD_MAX_ARG_RULES AIRLOCK_HELPER_MAX_RECORD_ARGS

#ifdef AIRLOCK_TRACE /* cc -DAIRLOCK_TRACE: stage timestamps on stderr, for profiling start-up */
void trace(const char *what);
#else
#define trace(x) ((void)0)
#endif

/* ── the parsed launch config (config.c) ─────────────────────────────────────────────────────── */

enum mount_kind { M_RO_BIND, M_RW_BIND, M_TMPFS, M_DIR, M_FILE, M_SYMLINK, M_PROC, M_DEV };

struct mount_op {
    enum mount_kind kind;
    const char *a; /* source, or content for files, or symlink target */
    const char *b; /* destination */
    unsigned long size;
    unsigned mode;
    uid_t uid;
    gid_t gid;
};

struct rlimit_op {
    int resource;
    struct rlimit value;
};

struct config {
    const char *uid_map, *gid_map;
    uid_t setup_uid, job_uid;
    gid_t setup_gid, job_gid;
    int share_net;
    unsigned long root_size;
    const char *hostname;
    const char *cwd;
    unsigned umask_value;
    int readonly_root;
    struct mount_op mounts[MAX_ITEMS];
    int n_mounts;
    const char *cgroup_procs[AIRLOCK_HELPER_MAX_CGROUPS]; /* the helper writes the child's pid here (v2) */
    int n_cgroups;
    const char *cgroup_self[AIRLOCK_HELPER_MAX_CGROUPS]; /* the child writes "0" here itself (v1 `tasks`) */
    int n_cgroup_self;
    struct rlimit_op rlimits[AIRLOCK_HELPER_MAX_RLIMITS];
    int n_rlimits;
    char *argv[MAX_ITEMS + 1];
    int argc;
    char *envp[MAX_ITEMS + 1];
    int envc;
    struct sock_fprog prog;
    int have_prog;
    /* Recording: the file the observed calls are written to, and the calls whose arguments
     * (indices in `mask`) are recorded as distinct tuples. */
    const char *record_path;
    struct {
        int nr;
        unsigned mask;
    } record_args[RECORD_MAX_ARG_RULES];
    int n_record_args;
};

extern struct config cfg;

/* Read fd 3 into `cfg`; any error is reported at AIRLOCK_STAGE_CONFIG and ends the helper. */
void parse_config(void);
/* Read fd 4 into `cfg.prog` (empty: no program). */
void load_seccomp_program(void);

/* ── reporting (report.c; async-signal-safe: only write(2) and string copies) ─────────────── */

void report(int kind, int stage, int err, int64_t value, const char *detail);
/* Report a failed stage with the current errno and end this process with `code`. */
__attribute__((noreturn)) void fail_with(int code, int stage, const char *detail);
/* Report a failed setup stage (exit 125). Used by the helper and by the sandbox's processes. */
__attribute__((noreturn)) void fail(int stage, const char *detail);

/* ── filesystem helpers (files.c; libc calls only, safe in the child) ──────────────────────── */

int write_file(const char *path, const char *data);
int mkdir_p(const char *path, mode_t mode);
int parent_dirs(const char *path);

/* ── mounts (mounts.c) ─────────────────────────────────────────────────────────────────────── */

void mount_tmpfs(const char *dst, unsigned long size, unsigned mode, uid_t uid, gid_t gid,
                 unsigned long flags, int stage);
/* Perform one entry of the agent's mount plan. */
void apply_mount(const struct mount_op *m);

/* ── containment (contain.c) ───────────────────────────────────────────────────────────────── */

/* The sandbox's first process: runs the containment steps, forks the job, becomes its reaper. */
__attribute__((noreturn)) void child_main(int sync_fd);

/* ── reaper and supervisor (reaper.c) ──────────────────────────────────────────────────────── */

extern pid_t sandbox_init;
__attribute__((noreturn)) void reaper_main(pid_t job);
void kill_sandbox(void);
/* A failure on the host once the sandbox exists: kill and reap it, then report and exit. */
__attribute__((noreturn)) void host_fail(int stage, const char *detail);
/* The helper's loop until the sandbox's init exits; returns the job's exit code. */
int supervise(int sigfd);

/* ── recording (record.c) ──────────────────────────────────────────────────────────────────── */

extern int rec_sock[2];
extern int rec_out;
extern int rec_listener;
void record_prepare(void);
void record_install(int sock);
void record_take_listener(void);
void record_one(void);
void record_finish(void);

#endif
