/*
 * The wire protocol between the Airlock agent (Swift) and airlock-helper (C).
 *
 * The agent starts the helper with posix_spawn and these descriptors:
 *   fd 0-2  the job's stdio
 *   fd 3    a memfd holding the launch config: NUL-terminated tokens; the first is the config
 *           version (AIRLOCK_HELPER_CONFIG_VERSION, in decimal), then records, each an op code
 *           (enum airlock_op, in decimal) followed by that op's fixed number of arguments
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

/* ── the launch config (fd 3) ──────────────────────────────────────────────────────────────── */

/* The version of the launch config format: bump it on any change to the op codes below, their
 * arguments or their meaning. The helper refuses a config of another version with an error at
 * AIRLOCK_STAGE_CONFIG, errno EPROTO, `value` = the version the helper reads; the agent then
 * names the helper binary and says to rebuild it (`make helper`). Version 1 was the unversioned
 * format with op names as tokens: an old helper reports the version token as an unknown op. */
#define AIRLOCK_HELPER_CONFIG_VERSION 2

/* An op code carries its argument count in its low bits: code = number << 4 | argc. Both sides
 * derive the count from the code, so the writer and the parser cannot disagree on it. */
#define AIRLOCK_OP_ARGC_BITS 4
#define AIRLOCK_OP_ARGC_MASK 0xf

/* Every record of the launch config, in the order the agent writes them. Numeric arguments are
 * written in decimal, modes and umask too (0o755 goes on the wire as "493"). */
enum airlock_op {
    AIRLOCK_OP_UID_MAP = 1 << 4 | 1,       /* contents of /proc/PID/uid_map */
    AIRLOCK_OP_GID_MAP = 2 << 4 | 1,       /* contents of /proc/PID/gid_map (setgroups is denied first) */
    AIRLOCK_OP_SETUP_IDS = 3 << 4 | 2,     /* uid, gid inside the sandbox while it is set up */
    AIRLOCK_OP_JOB_IDS = 4 << 4 | 2,       /* uid, gid inside the sandbox the job runs as */
    AIRLOCK_OP_SHARE_NET = 5 << 4 | 0,     /* keep the host network namespace */
    AIRLOCK_OP_ROOT_SIZE = 6 << 4 | 1,     /* bytes of the root tmpfs */
    AIRLOCK_OP_HOSTNAME = 7 << 4 | 1,      /* hostname */
    AIRLOCK_OP_RO_BIND = 8 << 4 | 2,       /* host source, sandbox destination */
    AIRLOCK_OP_RW_BIND = 9 << 4 | 2,       /* host source, sandbox destination (nosuid, nodev) */
    AIRLOCK_OP_TMPFS = 10 << 4 | 5,        /* path, size, mode, uid, gid */
    AIRLOCK_OP_DIR = 11 << 4 | 4,          /* path, mode, uid, gid */
    AIRLOCK_OP_FILE = 12 << 4 | 3,         /* path, mode, contents (owned by the setup ids) */
    AIRLOCK_OP_OWNED_FILE = 13 << 4 | 5,   /* path, mode, uid, gid, contents */
    AIRLOCK_OP_SYMLINK = 14 << 4 | 2,      /* target, path */
    AIRLOCK_OP_PROC = 15 << 4 | 0,         /* a fresh /proc */
    AIRLOCK_OP_DEV = 16 << 4 | 1,          /* a minimal /dev; bytes of /dev/shm */
    AIRLOCK_OP_READONLY_ROOT = 17 << 4 | 0, /* remount / read-only once the plan is done */
    AIRLOCK_OP_CGROUP = 18 << 4 | 1,       /* a cgroup.procs file the helper writes the init's pid to (v2) */
    AIRLOCK_OP_CGROUP_SELF = 19 << 4 | 1,  /* a tasks file the init writes itself into (v1) */
    AIRLOCK_OP_RLIMIT = 20 << 4 | 3,       /* resource, soft, hard */
    AIRLOCK_OP_CWD = 21 << 4 | 1,          /* the job's working directory */
    AIRLOCK_OP_UMASK = 22 << 4 | 1,        /* the job's umask */
    AIRLOCK_OP_ENV = 23 << 4 | 1,          /* one NAME=value of the job's environment */
    AIRLOCK_OP_ARG = 24 << 4 | 1,          /* one argument of the job's argv, in order */
    AIRLOCK_OP_RECORD = 25 << 4 | 1,       /* record the job's calls to this host file */
    AIRLOCK_OP_RECORD_ARGS = 26 << 4 | 2,  /* syscall number, mask of the arguments to record */
};

/* The helper's limits per kind of record; the agent checks them before it spawns the helper. */
#define AIRLOCK_HELPER_MAX_ITEMS 256      /* arguments, environment variables, mounts */
#define AIRLOCK_HELPER_MAX_CGROUPS 16     /* AIRLOCK_OP_CGROUP and AIRLOCK_OP_CGROUP_SELF, each */
#define AIRLOCK_HELPER_MAX_RLIMITS 16
#define AIRLOCK_HELPER_MAX_RECORD_ARGS 32

/* ── the report pipe (fd 5) ────────────────────────────────────────────────────────────────── */

#define AIRLOCK_REPORT_MAGIC 0x41495231u /* "AIR1" */

enum airlock_report_kind {
    AIRLOCK_REPORT_ERROR = 1,   /* setup failed at `stage` with `err`; `detail` names the object
                                 * (a refused config version: `value` = the version the helper reads) */
    AIRLOCK_REPORT_STARTED = 2, /* `value` = host pid of the sandbox's init (reaper) */
    AIRLOCK_REPORT_EXITED = 3,  /* `value` = the job's exit code (128+N for signal N) */
};

/* Setup stages, numbered in the order the helper reaches them (BIND to SYMLINK follow the mount
 * plan's order instead). Keep in sync with HelperStage.swift. */
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
