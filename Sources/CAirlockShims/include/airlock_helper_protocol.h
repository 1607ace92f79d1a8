/*
 * The wire protocol between the Airlock agent (Swift) and airlock-helper (C).
 *
 * The agent starts the helper with posix_spawn and these descriptors:
 *   fd 0-2  the job's stdio
 *   fd 3    a memfd holding the launch config: NUL-terminated tokens, each record an op name
 *           followed by that op's fixed number of arguments (see AIRLOCK_OPS below)
 *   fd 4    a memfd holding the seccomp program (struct sock_filter[]), or /dev/null for none
 *   fd 5    the report pipe (write end): fixed-size `struct airlock_report` records
 *   fd 6    the lifeline (read end): when it reads EOF the agent is gone and the sandbox is killed
 *
 * This header is shared by both sides so the layout cannot drift.
 */
#ifndef AIRLOCK_HELPER_PROTOCOL_H
#define AIRLOCK_HELPER_PROTOCOL_H
#include <stdint.h>

#define AIRLOCK_FD_CONFIG 3
#define AIRLOCK_FD_BPF 4
#define AIRLOCK_FD_REPORT 5
#define AIRLOCK_FD_LIFELINE 6

#define AIRLOCK_REPORT_MAGIC 0x41495231u /* "AIR1" */

enum airlock_report_kind {
    AIRLOCK_REPORT_ERROR = 1,   /* setup failed at `stage` with `err`; `detail` names the object */
    AIRLOCK_REPORT_STARTED = 2, /* `value` = host pid of the sandbox's init (reaper) */
    AIRLOCK_REPORT_EXITED = 3,  /* `value` = the job's exit code (128+N for signal N) */
};

/* Setup stages, in the order the helper performs them. Keep in sync with HelperStage.swift. */
enum airlock_stage {
    AIRLOCK_STAGE_CONFIG = 1,
    AIRLOCK_STAGE_CLONE,
    AIRLOCK_STAGE_SETGROUPS,
    AIRLOCK_STAGE_UID_MAP,
    AIRLOCK_STAGE_GID_MAP,
    AIRLOCK_STAGE_CGROUP,
    AIRLOCK_STAGE_SYNC,
    AIRLOCK_STAGE_SETID,
    AIRLOCK_STAGE_CGROUP_NS,
    AIRLOCK_STAGE_MOUNT_PRIVATE,
    AIRLOCK_STAGE_ROOT_TMPFS,
    AIRLOCK_STAGE_PIVOT_ROOT,
    AIRLOCK_STAGE_BIND,
    AIRLOCK_STAGE_TMPFS,
    AIRLOCK_STAGE_PROC,
    AIRLOCK_STAGE_DEV,
    AIRLOCK_STAGE_FILE,
    AIRLOCK_STAGE_SYMLINK,
    AIRLOCK_STAGE_HOSTNAME,
    AIRLOCK_STAGE_LOOPBACK,
    AIRLOCK_STAGE_DETACH_OLD_ROOT,
    AIRLOCK_STAGE_REMOUNT_ROOT,
    AIRLOCK_STAGE_FORK,
    AIRLOCK_STAGE_RLIMIT,
    AIRLOCK_STAGE_CHDIR,
    AIRLOCK_STAGE_CAPS,
    AIRLOCK_STAGE_FDS,
    AIRLOCK_STAGE_SECCOMP,
    AIRLOCK_STAGE_EXEC,
};

struct airlock_report {
    uint32_t magic;
    int32_t kind;
    int32_t stage;
    int32_t err;
    int64_t value;
    char detail[488]; /* NUL-terminated; the path or object the stage was working on */
};                    /* 512 bytes: below PIPE_BUF, so each write is atomic */

#endif
