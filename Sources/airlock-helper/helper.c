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
 * The containment steps are one ordered list (see `child_main` and `job_exec`); each step whose
 * order matters says why. The descriptor protocol is in airlock_helper_protocol.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../CAirlockShims/include/airlock_helper_protocol.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define OLD_ROOT "/.airlock-oldroot"

/* Recording (`airlock profile record`): see record_* below. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture"
#endif
#define RECORD_MAX_NR 1024
#define RECORD_MAX_ARG_RULES 32
#define RECORD_MAX_TUPLES 64

#ifdef AIRLOCK_TRACE /* cc -DAIRLOCK_TRACE: stage timestamps on stderr, for profiling start-up */
#include <time.h>
static void trace(const char *what) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    dprintf(2, "[helper %d] %ld.%06ld %s\n", (int)getpid(), (long)t.tv_sec, t.tv_nsec / 1000, what);
}
#else
#define trace(x) ((void)0)
#endif
#define MAX_ITEMS 256

/* ── configuration ──────────────────────────────────────────────────────────────────────────── */

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
    const char *cgroup_procs[16]; /* the helper writes the child's pid here (cgroup v2) */
    int n_cgroups;
    const char *cgroup_self[16]; /* the child writes "0" here itself (cgroup v1 `tasks`) */
    int n_cgroup_self;
    struct rlimit_op rlimits[16];
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

static struct config cfg;
static int report_fd = AIRLOCK_FD_REPORT;

/* ── reporting (async-signal-safe: only write(2) and string copies) ─────────────────────────── */

static void report(int kind, int stage, int err, int64_t value, const char *detail) {
    struct airlock_report r;
    memset(&r, 0, sizeof r);
    r.magic = AIRLOCK_REPORT_MAGIC;
    r.kind = kind;
    r.stage = stage;
    r.err = err;
    r.value = value;
    if (detail) {
        size_t n = strlen(detail);
        if (n >= sizeof r.detail) n = sizeof r.detail - 1;
        memcpy(r.detail, detail, n);
    }
    ssize_t w;
    do {
        w = write(report_fd, &r, sizeof r);
    } while (w < 0 && errno == EINTR);
}

/* Report a failed stage and end this process with `code`. */
static __attribute__((noreturn)) void fail_with(int code, int stage, const char *detail) {
    int e = errno;
    report(AIRLOCK_REPORT_ERROR, stage, e, 0, detail);
    _exit(code);
}

/* Report a failed setup stage (exit 125). Used by the helper and by the sandbox's children. */
static __attribute__((noreturn)) void fail(int stage, const char *detail) {
    fail_with(125, stage, detail);
}

/* Too many items of one kind in the launch config. */
static __attribute__((noreturn)) void too_many(const char *what) {
    errno = E2BIG;
    fail(AIRLOCK_STAGE_CONFIG, what);
}

/* ── config parsing ─────────────────────────────────────────────────────────────────────────── */

static char *cfg_buf;
static size_t cfg_len, cfg_pos;

static const char *next_token(void) {
    if (cfg_pos >= cfg_len) fail(AIRLOCK_STAGE_CONFIG, "truncated launch config");
    const char *t = cfg_buf + cfg_pos;
    size_t n = strnlen(t, cfg_len - cfg_pos);
    if (cfg_pos + n >= cfg_len) fail(AIRLOCK_STAGE_CONFIG, "unterminated token in launch config");
    cfg_pos += n + 1;
    return t;
}

static unsigned long next_ulong(void) {
    const char *t = next_token();
    char *end;
    errno = 0;
    unsigned long v = strtoul(t, &end, 0);
    if (errno || *end) {
        errno = EINVAL;
        fail(AIRLOCK_STAGE_CONFIG, t);
    }
    return v;
}

static char *read_all(int fd, size_t *len) {
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

static struct mount_op *add_mount(enum mount_kind kind) {
    if (cfg.n_mounts >= MAX_ITEMS) too_many("too many mounts");
    struct mount_op *m = &cfg.mounts[cfg.n_mounts++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    return m;
}

static void parse_config(void) {
    cfg_buf = read_all(AIRLOCK_FD_CONFIG, &cfg_len);
    if (!cfg_buf) fail(AIRLOCK_STAGE_CONFIG, "reading launch config (fd 3)");
    cfg.umask_value = 022;
    cfg.root_size = 16u << 20;
    cfg.hostname = "airlock";
    cfg.cwd = "/";
    while (cfg_pos < cfg_len) {
        const char *op = next_token();
        struct mount_op *m;
        if (!strcmp(op, "uid_map")) cfg.uid_map = next_token();
        else if (!strcmp(op, "gid_map")) cfg.gid_map = next_token();
        else if (!strcmp(op, "setup_ids")) {
            cfg.setup_uid = (uid_t)next_ulong();
            cfg.setup_gid = (gid_t)next_ulong();
        } else if (!strcmp(op, "job_ids")) {
            cfg.job_uid = (uid_t)next_ulong();
            cfg.job_gid = (gid_t)next_ulong();
        } else if (!strcmp(op, "share_net")) cfg.share_net = 1;
        else if (!strcmp(op, "root_size")) cfg.root_size = next_ulong();
        else if (!strcmp(op, "hostname")) cfg.hostname = next_token();
        else if (!strcmp(op, "cwd")) cfg.cwd = next_token();
        else if (!strcmp(op, "umask")) cfg.umask_value = (unsigned)next_ulong();
        else if (!strcmp(op, "readonly_root")) cfg.readonly_root = 1;
        else if (!strcmp(op, "ro_bind") || !strcmp(op, "rw_bind")) {
            m = add_mount(op[1] == 'o' ? M_RO_BIND : M_RW_BIND);
            m->a = next_token();
            m->b = next_token();
        } else if (!strcmp(op, "tmpfs")) {
            m = add_mount(M_TMPFS);
            m->b = next_token();
            m->size = next_ulong();
            m->mode = (unsigned)next_ulong();
            m->uid = (uid_t)next_ulong();
            m->gid = (gid_t)next_ulong();
        } else if (!strcmp(op, "dir")) {
            m = add_mount(M_DIR);
            m->b = next_token();
            m->mode = (unsigned)next_ulong();
            m->uid = (uid_t)next_ulong();
            m->gid = (gid_t)next_ulong();
        } else if (!strcmp(op, "file")) {
            m = add_mount(M_FILE);
            m->b = next_token();
            m->mode = (unsigned)next_ulong();
            m->a = next_token();
            m->uid = (uid_t)-1; /* keep the creator (the setup ids) */
            m->gid = (gid_t)-1;
        } else if (!strcmp(op, "owned_file")) {
            m = add_mount(M_FILE);
            m->b = next_token();
            m->mode = (unsigned)next_ulong();
            m->uid = (uid_t)next_ulong();
            m->gid = (gid_t)next_ulong();
            m->a = next_token();
        } else if (!strcmp(op, "symlink")) {
            m = add_mount(M_SYMLINK);
            m->a = next_token();
            m->b = next_token();
        } else if (!strcmp(op, "proc")) add_mount(M_PROC)->b = "/proc";
        else if (!strcmp(op, "dev")) {
            m = add_mount(M_DEV);
            m->b = "/dev";
            m->size = next_ulong(); /* size of /dev/shm */
        } else if (!strcmp(op, "cgroup")) {
            if (cfg.n_cgroups >= 16) too_many("too many cgroups");
            cfg.cgroup_procs[cfg.n_cgroups++] = next_token();
        } else if (!strcmp(op, "cgroup_self")) {
            if (cfg.n_cgroup_self >= 16) too_many("too many cgroups");
            cfg.cgroup_self[cfg.n_cgroup_self++] = next_token();
        } else if (!strcmp(op, "rlimit")) {
            if (cfg.n_rlimits >= 16) too_many("too many rlimits");
            struct rlimit_op *r = &cfg.rlimits[cfg.n_rlimits++];
            r->resource = (int)next_ulong();
            r->value.rlim_cur = next_ulong();
            r->value.rlim_max = next_ulong();
        } else if (!strcmp(op, "record")) {
            cfg.record_path = next_token();
        } else if (!strcmp(op, "record_args")) {
            if (cfg.n_record_args >= RECORD_MAX_ARG_RULES) too_many("too many record_args");
            cfg.record_args[cfg.n_record_args].nr = (int)next_ulong();
            cfg.record_args[cfg.n_record_args++].mask = (unsigned)next_ulong() & 0x3f;
        } else if (!strcmp(op, "arg")) {
            if (cfg.argc >= MAX_ITEMS) too_many("too many arguments");
            cfg.argv[cfg.argc++] = (char *)next_token();
        } else if (!strcmp(op, "env")) {
            if (cfg.envc >= MAX_ITEMS) too_many("too many environment variables");
            cfg.envp[cfg.envc++] = (char *)next_token();
        } else {
            errno = EINVAL;
            fail(AIRLOCK_STAGE_CONFIG, op);
        }
    }
    if (cfg.argc == 0) {
        errno = EINVAL;
        fail(AIRLOCK_STAGE_CONFIG, "no command");
    }
    cfg.argv[cfg.argc] = NULL;
    cfg.envp[cfg.envc] = NULL;
}

static void load_seccomp_program(void) {
    size_t len = 0;
    char *buf = read_all(AIRLOCK_FD_BPF, &len);
    if (!buf) fail(AIRLOCK_STAGE_CONFIG, "reading seccomp program (fd 4)");
    if (len == 0) return;
    if (len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > 0xffff) {
        errno = EINVAL;
        fail(AIRLOCK_STAGE_CONFIG, "seccomp program has an invalid size");
    }
    cfg.prog.len = (unsigned short)(len / sizeof(struct sock_filter));
    cfg.prog.filter = (struct sock_filter *)buf;
    cfg.have_prog = 1;
}

/* ── recording: every call the job makes, through a seccomp user-notification listener ─────── */
/*
 * For `airlock profile record` the job installs a second filter, on top of the profile's, whose
 * action is SECCOMP_RET_USER_NOTIF for every native call. The listener descriptor goes to this
 * helper (outside the sandbox, not under any filter) over a socketpair; the helper's supervise
 * loop receives each notification, counts the call (and, for calls the base profile restricts by
 * argument, the argument tuple), and lets it continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE). The
 * profile's own filter still decides first: a call it denies never reaches the listener, since
 * ERRNO/KILL take precedence over USER_NOTIF. Handing the descriptor over needs a few calls
 * after the filter is in place (sendmsg, close; exit_group if that fails); they carry a random
 * cookie in their unused sixth argument, which the recording filter lets through unrecorded.
 * The cookie cannot widen what the job may do: the profile's filter is still there.
 */
static int rec_sock[2] = {-1, -1};
static uint64_t rec_cookie;
static int rec_out = -1;
static int rec_listener = -1;
static int rec_got_listener; /* the job handed its listener over (it reached the filter) */
static unsigned long rec_counts[RECORD_MAX_NR];
static unsigned long rec_other; /* calls with numbers outside the table (none expected) */
static struct {
    uint64_t v[6];
} rec_tuples[RECORD_MAX_ARG_RULES][RECORD_MAX_TUPLES];
static int rec_n_tuples[RECORD_MAX_ARG_RULES];
static int rec_overflow[RECORD_MAX_ARG_RULES];

/* Before clone: the output file, the socketpair and the cookie. */
static void record_prepare(void) {
    if (!cfg.record_path) return;
    rec_out = open(cfg.record_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (rec_out < 0) fail(AIRLOCK_STAGE_CONFIG, cfg.record_path);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rec_sock) < 0)
        fail(AIRLOCK_STAGE_CONFIG, "socketpair (recording)");
    if (getrandom(&rec_cookie, sizeof rec_cookie, 0) != sizeof rec_cookie)
        fail(AIRLOCK_STAGE_CONFIG, "getrandom (recording)");
}

/* In the job, after the profile's filter: install the notifying filter and hand its listener
 * to the helper. `sock` is the job's end of the socketpair. */
static void record_install(int sock) {
    uint32_t lo = (uint32_t)rec_cookie, hi = (uint32_t)(rec_cookie >> 32);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), /* other ABIs: the profile's filter decides */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    int listener =
        (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) fail(AIRLOCK_STAGE_SECCOMP, "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)");
    char byte = 'L';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    /* From here on every call but these (with the cookie) waits for the helper. Should the
     * hand-over fail, nobody would answer a report's write: leave with 125 without one (the
     * agent then sees that no listener arrived). */
    if (syscall(SYS_sendmsg, sock, &msg, 0, 0, 0, rec_cookie) != 1)
        syscall(SYS_exit_group, 125, 0, 0, 0, 0, rec_cookie);
    syscall(SYS_close, listener, 0, 0, 0, 0, rec_cookie);
    syscall(SYS_close, sock, 0, 0, 0, 0, rec_cookie);
}

/* The helper's side: take the listener from the socketpair. */
static void record_take_listener(void) {
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    ssize_t r = recvmsg(rec_sock[0], &msg, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        memcpy(&rec_listener, CMSG_DATA(c), sizeof(int));
        rec_got_listener = 1;
        /* Wake the job on the CPU that answered (kernel 6.6+); an older kernel refuses, harmlessly. */
        ioctl(rec_listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    }
    close(rec_sock[0]); /* one listener per sandbox; EOF or junk also ends this channel */
    rec_sock[0] = -1;
}

static void record_call(const struct seccomp_data *d) {
    if (d->nr >= 0 && d->nr < RECORD_MAX_NR) rec_counts[d->nr]++;
    else rec_other++;
    for (int i = 0; i < cfg.n_record_args; i++) {
        if (cfg.record_args[i].nr != d->nr) continue;
        uint64_t v[6] = {0};
        for (int a = 0; a < 6; a++)
            if (cfg.record_args[i].mask & (1u << a)) v[a] = d->args[a];
        int found = 0;
        for (int t = 0; t < rec_n_tuples[i] && !found; t++) found = !memcmp(rec_tuples[i][t].v, v, sizeof v);
        if (found) continue;
        if (rec_n_tuples[i] == RECORD_MAX_TUPLES) rec_overflow[i] = 1;
        else memcpy(rec_tuples[i][rec_n_tuples[i]++].v, v, sizeof v);
    }
}

/* One notification: record it, let the call proceed. */
static void record_one(void) {
    union {
        struct seccomp_notif n;
        char pad[512]; /* the kernel may know a larger struct; it must be zeroed */
    } req;
    memset(&req, 0, sizeof req);
    if (ioctl(rec_listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return; /* e.g. the caller died */
    record_call(&req.n.data);
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req.n.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(rec_listener, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller is gone */
}

/* After the sandbox ended: the observations, as text lines (see SyscallRecording.swift). */
static void record_finish(void) {
    if (rec_out < 0) return;
    dprintf(rec_out, "airlock-record 1\narch %u\nlistener %d\n", (unsigned)NATIVE_AUDIT_ARCH,
            rec_got_listener);
    for (int nr = 0; nr < RECORD_MAX_NR; nr++)
        if (rec_counts[nr]) dprintf(rec_out, "call %d %lu\n", nr, rec_counts[nr]);
    if (rec_other) dprintf(rec_out, "other %lu\n", rec_other);
    for (int i = 0; i < cfg.n_record_args; i++) {
        for (int t = 0; t < rec_n_tuples[i]; t++) {
            const uint64_t *v = rec_tuples[i][t].v;
            dprintf(rec_out, "args %d %u %llu %llu %llu %llu %llu %llu\n", cfg.record_args[i].nr,
                    cfg.record_args[i].mask, (unsigned long long)v[0], (unsigned long long)v[1],
                    (unsigned long long)v[2], (unsigned long long)v[3], (unsigned long long)v[4],
                    (unsigned long long)v[5]);
        }
        if (rec_overflow[i]) dprintf(rec_out, "overflow %d\n", cfg.record_args[i].nr);
    }
    dprintf(rec_out, "end\n");
    close(rec_out);
    rec_out = -1;
}

/* ── small filesystem helpers (used in the child, before exec; libc calls only) ───────────── */

static int write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = strlen(data);
    ssize_t w = write(fd, data, n);
    int e = errno;
    close(fd);
    if (w != (ssize_t)n) {
        errno = w < 0 ? e : EIO;
        return -1;
    }
    return 0;
}

/* mkdir -p for paths inside the sandbox root. */
static int mkdir_p(const char *path, mode_t mode) {
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

static int parent_dirs(const char *path) {
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return 0;
    *slash = 0;
    return mkdir_p(tmp, 0755);
}

/* Create an empty mount point of the same kind (dir or file) as `src`. */
static int make_mount_point(const char *src, const char *dst) {
    struct stat st;
    if (stat(src, &st) < 0) return -1;
    if (S_ISDIR(st.st_mode)) return mkdir_p(dst, 0755);
    if (parent_dirs(dst) < 0) return -1;
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0 && errno != EEXIST) return -1;
    if (fd >= 0) close(fd);
    return 0;
}

/* Make a bind mount (and every submount under it) read-only, nosuid and nodev.
 * mount_setattr(AT_RECURSIVE) does the whole tree atomically; older kernels get a per-mount
 * remount that keeps the flags the kernel has locked (noexec, atime) so it is not refused. */
static int restrict_mount(const char *path, int readonly) {
    struct {
        uint64_t set, clr, propagation, userns;
    } attr = {MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0), 0, 0, 0};
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return -1;
    struct statvfs sv;
    if (statvfs(path, &sv) < 0) return -1;
    unsigned long keep = 0;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
    return mount(NULL, path, NULL,
                 MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (readonly ? MS_RDONLY : 0) | keep,
                 NULL);
}

static void bind_mount(const struct mount_op *m) {
    char src[PATH_MAX];
    if (snprintf(src, sizeof src, "%s%s", OLD_ROOT, m->a) >= (int)sizeof src) {
        errno = ENAMETOOLONG;
        fail(AIRLOCK_STAGE_BIND, m->a);
    }
    struct stat st;
    if (stat(src, &st) < 0) fail(AIRLOCK_STAGE_BIND, m->a); /* name the host path that is missing */
    if (make_mount_point(src, m->b) < 0) fail(AIRLOCK_STAGE_BIND, m->b);
    if (mount(src, m->b, NULL, MS_BIND | MS_REC, NULL) < 0) fail(AIRLOCK_STAGE_BIND, m->a);
    if (restrict_mount(m->b, m->kind == M_RO_BIND) < 0) fail(AIRLOCK_STAGE_BIND, m->b);
}

static void mount_tmpfs(const char *dst, unsigned long size, unsigned mode, uid_t uid, gid_t gid,
                        unsigned long flags, int stage) {
    char opts[96];
    snprintf(opts, sizeof opts, "size=%lu,mode=%o,uid=%u,gid=%u", size, mode, (unsigned)uid,
             (unsigned)gid);
    if (mkdir_p(dst, 0755) < 0) fail(stage, dst);
    if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | flags, opts) < 0) fail(stage, dst);
}

/* A minimal /dev: a few character devices bound from the host, a private devpts, shm and
 * the usual symlinks. No disks, no /dev/kmsg, no /dev/mem. */
static void make_dev(unsigned long shm_size) {
    static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    mount_tmpfs("/dev", 64 << 10, 0755, cfg.setup_uid, cfg.setup_gid, MS_NOEXEC, AIRLOCK_STAGE_DEV);
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char src[64], dst[64];
        snprintf(src, sizeof src, OLD_ROOT "/dev/%s", nodes[i]);
        snprintf(dst, sizeof dst, "/dev/%s", nodes[i]);
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) fail(AIRLOCK_STAGE_DEV, dst);
        close(fd);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail(AIRLOCK_STAGE_DEV, dst);
    }
    if (mkdir("/dev/pts", 0755) < 0) fail(AIRLOCK_STAGE_DEV, "/dev/pts");
    if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=620") < 0)
        fail(AIRLOCK_STAGE_DEV, "/dev/pts");
    if (symlink("pts/ptmx", "/dev/ptmx") < 0) fail(AIRLOCK_STAGE_DEV, "/dev/ptmx");
    mount_tmpfs("/dev/shm", shm_size, 01777, cfg.setup_uid, cfg.setup_gid, MS_NOEXEC, AIRLOCK_STAGE_DEV);
    static const char *links[][2] = {{"/proc/self/fd", "/dev/fd"},
                                     {"/proc/self/fd/0", "/dev/stdin"},
                                     {"/proc/self/fd/1", "/dev/stdout"},
                                     {"/proc/self/fd/2", "/dev/stderr"}};
    for (size_t i = 0; i < 4; i++)
        if (symlink(links[i][0], links[i][1]) < 0) fail(AIRLOCK_STAGE_DEV, links[i][1]);
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(AIRLOCK_STAGE_LOOPBACK, "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(AIRLOCK_STAGE_LOOPBACK, "lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(AIRLOCK_STAGE_LOOPBACK, "lo");
    close(s);
}

/* ── the job: the last steps before execve, in the reaper's child ──────────────────────────── */

static void drop_capabilities(void) {
    /* Bounding set first: dropping it needs CAP_SETPCAP, which setresuid below takes away. */
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) break; /* past CAP_LAST_CAP */
            fail(AIRLOCK_STAGE_CAPS, "PR_CAPBSET_DROP");
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail(AIRLOCK_STAGE_CAPS, "PR_CAP_AMBIENT_CLEAR_ALL");
}

static void zero_capabilities(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0) fail(AIRLOCK_STAGE_CAPS, "capset");
}

/* execve along the sandbox's PATH (from the job's own environment, not ours). */
static __attribute__((noreturn)) void exec_job(void) {
    const char *file = cfg.argv[0];
    if (strchr(file, '/')) {
        execve(file, cfg.argv, cfg.envp);
        fail_with(127, AIRLOCK_STAGE_EXEC, file);
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (int i = 0; i < cfg.envc; i++)
        if (!strncmp(cfg.envp[i], "PATH=", 5)) path = cfg.envp[i] + 5;
    int saved = ENOENT;
    char buf[PATH_MAX];
    while (*path) {
        const char *colon = strchrnul(path, ':');
        size_t dl = (size_t)(colon - path);
        if (dl + strlen(file) + 2 < sizeof buf && dl > 0) {
            memcpy(buf, path, dl);
            buf[dl] = '/';
            strcpy(buf + dl + 1, file);
            execve(buf, cfg.argv, cfg.envp);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        }
        path = *colon ? colon + 1 : colon;
    }
    errno = saved;
    fail_with(127, AIRLOCK_STAGE_EXEC, file); /* 127, as shells report "command not found" */
}

static __attribute__((noreturn)) void job_main(void) {
    /* 1. A new session: no controlling terminal, so TIOCSTI cannot inject keystrokes into the
     *    caller's terminal (CVE-2017-5226), and the reaper can signal the job as a group. */
    if (setsid() < 0) fail(AIRLOCK_STAGE_FORK, "setsid");
    /* 2. Resource limits, core dumps off. Before dropping privileges so hard limits can be set. */
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) < 0) fail(AIRLOCK_STAGE_RLIMIT, "RLIMIT_CORE");
    for (int i = 0; i < cfg.n_rlimits; i++)
        if (setrlimit(cfg.rlimits[i].resource, &cfg.rlimits[i].value) < 0)
            fail(AIRLOCK_STAGE_RLIMIT, "setrlimit");
    umask(cfg.umask_value);
    if (chdir(cfg.cwd) < 0) fail(AIRLOCK_STAGE_CHDIR, cfg.cwd);
    /* 3. Capabilities: bounding and ambient sets need CAP_SETPCAP, so they go before the uid
     *    change; then the job's ids; then every remaining set is zeroed explicitly. */
    drop_capabilities();
    if (setresgid(cfg.job_gid, cfg.job_gid, cfg.job_gid) < 0) fail(AIRLOCK_STAGE_CAPS, "setresgid");
    if (setresuid(cfg.job_uid, cfg.job_uid, cfg.job_uid) < 0) fail(AIRLOCK_STAGE_CAPS, "setresuid");
    zero_capabilities();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(AIRLOCK_STAGE_CAPS, "PR_SET_NO_NEW_PRIVS");
    /* 4. Only fds 0-2 survive exec. The report pipe stays open (close-on-exec) so a failed
     *    execve can still be reported; every other descriptor is closed now. */
    /*    When recording, the job's end of the socketpair is kept at fd 6 (the lifeline's number,
     *    closed in the sandbox) until the listener has been handed over. */
    int rec_fd = -1;
    if (cfg.record_path) {
        rec_fd = AIRLOCK_FD_LIFELINE;
        if (dup3(rec_sock[1], rec_fd, O_CLOEXEC) < 0) fail(AIRLOCK_STAGE_FDS, "recording socket");
    }
    if (syscall(SYS_close_range, 3, AIRLOCK_FD_REPORT - 1, 0) < 0 ||
        syscall(SYS_close_range, (rec_fd >= 0 ? rec_fd : AIRLOCK_FD_REPORT) + 1, ~0U, 0) < 0)
        fail(AIRLOCK_STAGE_FDS, "close_range");
    if (fcntl(AIRLOCK_FD_REPORT, F_SETFD, FD_CLOEXEC) < 0) fail(AIRLOCK_STAGE_FDS, "report pipe");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* 5. Seccomp last: everything above may use calls the profile denies; after this only
     *    execve (and, on failure, write/_exit) run. */
    if (cfg.have_prog && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &cfg.prog) < 0)
        fail(AIRLOCK_STAGE_SECCOMP, "seccomp(SECCOMP_SET_MODE_FILTER)");
    /* 6. Recording: the notifying filter goes on top, so the profile's filter still decides. */
    if (rec_fd >= 0) record_install(rec_fd);
    trace("exec");
    exec_job();
}

/* ── pid 1 in the sandbox: reap, forward signals, report the job's status ─────────────────── */

static __attribute__((noreturn)) void reaper_main(pid_t job) {
    /* The reaper keeps no privileges it does not need once the job is started. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    close(AIRLOCK_FD_REPORT);
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0) continue;
        if (sig == SIGCHLD) {
            int status;
            pid_t p;
            while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                if (p != job) continue;
                /* The job leader is gone: leaving now makes the kernel kill everything else
                 * in the pid namespace, so no background process outlives the job. */
                if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
                _exit(128 + WTERMSIG(status));
            }
        } else {
            if (kill(-job, sig) < 0) kill(job, sig);
        }
    }
}

/* ── the sandbox's first process: containment, in order ─────────────────────────────────────── */

static __attribute__((noreturn)) void child_main(int sync_fd) {
    /* 1. Die with the helper (the helper is single-threaded, so PDEATHSIG is reliable here) and
     *    wait until the helper has written our id maps and put us in the job's cgroups. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(AIRLOCK_STAGE_SYNC, "PR_SET_PDEATHSIG");
    char go;
    if (read(sync_fd, &go, 1) != 1) _exit(125); /* helper died before releasing us */
    close(sync_fd);
    trace("child go");
    /* 2. Join the job's v1 cgroups by writing "0" to each `tasks` file ourselves. A thread
     *    moving itself skips the global threadgroup lock, whose first writer waits for an RCU
     *    grace period (~15 ms here) when the helper writes our pid to cgroup.procs instead.
     *    Still host ids at this point, so the host-side permission check applies. */
    for (int i = 0; i < cfg.n_cgroup_self; i++)
        if (write_file(cfg.cgroup_self[i], "0") < 0) fail(AIRLOCK_STAGE_CGROUP, cfg.cgroup_self[i]);
    /* 3. Become a mapped id so files we create have an owner (unmapped ids get EOVERFLOW). */
    if (setresgid(cfg.setup_gid, cfg.setup_gid, cfg.setup_gid) < 0)
        fail(AIRLOCK_STAGE_SETID, "setresgid");
    if (setresuid(cfg.setup_uid, cfg.setup_uid, cfg.setup_uid) < 0)
        fail(AIRLOCK_STAGE_SETID, "setresuid");
    /* 4. A cgroup namespace rooted at the job's cgroup: only now, after the helper moved us in. */
    if (cfg.n_cgroups + cfg.n_cgroup_self > 0 && unshare(CLONE_NEWCGROUP) < 0) fail(AIRLOCK_STAGE_CGROUP_NS, "unshare");
    trace("child joined+ns");
    /* 5. Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(AIRLOCK_STAGE_MOUNT_PRIVATE, "/");
    /* 6. The new root: a size-limited tmpfs. It is mounted on /tmp (in our private namespace
     *    only), then pivot_root swaps it in and keeps the host root at OLD_ROOT as the source of
     *    the binds. pivot_root detaches the tmpfs from /tmp, so host /tmp stays reachable. */
    mount_tmpfs("/tmp", cfg.root_size, 0755, cfg.setup_uid, cfg.setup_gid, 0, AIRLOCK_STAGE_ROOT_TMPFS);
    if (chdir("/tmp") < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "/tmp");
    if (mkdir("." OLD_ROOT, 0700) < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, OLD_ROOT);
    if (syscall(SYS_pivot_root, ".", "." OLD_ROOT) < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "pivot_root");
    if (chdir("/") < 0) fail(AIRLOCK_STAGE_PIVOT_ROOT, "/");
    trace("pivoted");
    /* 7. The mount plan, in the agent's order (binds, tmpfs, /proc, /dev, files, symlinks).
     *    /proc must be mounted while the host's /proc is still visible under OLD_ROOT: the kernel
     *    refuses a new proc mount in a user namespace unless a full one is already visible. */
    for (int i = 0; i < cfg.n_mounts; i++) {
        const struct mount_op *m = &cfg.mounts[i];
        switch (m->kind) {
        case M_RO_BIND:
        case M_RW_BIND: bind_mount(m); break;
        case M_TMPFS: mount_tmpfs(m->b, m->size, m->mode, m->uid, m->gid, 0, AIRLOCK_STAGE_TMPFS); break;
        case M_DIR:
            if (mkdir_p(m->b, m->mode) < 0 || chmod(m->b, m->mode) < 0 || chown(m->b, m->uid, m->gid) < 0)
                fail(AIRLOCK_STAGE_FILE, m->b);
            break;
        case M_FILE: {
            if (parent_dirs(m->b) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
            int fd = open(m->b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, m->mode);
            if (fd < 0) fail(AIRLOCK_STAGE_FILE, m->b);
            size_t n = strlen(m->a);
            if (write(fd, m->a, n) != (ssize_t)n) fail(AIRLOCK_STAGE_FILE, m->b);
            /* Secrets: handed to the job's uid, mode 0400, on the sandbox's own tmpfs. */
            if (m->uid != (uid_t)-1 && fchown(fd, m->uid, m->gid) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
            if (fchmod(fd, m->mode) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
            close(fd);
            break;
        }
        case M_SYMLINK:
            if (parent_dirs(m->b) < 0 || symlink(m->a, m->b) < 0) fail(AIRLOCK_STAGE_SYMLINK, m->b);
            break;
        case M_PROC:
            if (mkdir_p("/proc", 0555) < 0 ||
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                fail(AIRLOCK_STAGE_PROC, "/proc");
            break;
        case M_DEV: make_dev(m->size); break;
        }
    }
    trace("mounted");
    if (sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) fail(AIRLOCK_STAGE_HOSTNAME, cfg.hostname);
    if (!cfg.share_net) loopback_up();
    trace("lo up");
    /* 8. Detach the host root: from here on nothing outside the plan is reachable. */
    if (umount2(OLD_ROOT, MNT_DETACH) < 0) fail(AIRLOCK_STAGE_DETACH_OLD_ROOT, OLD_ROOT);
    if (rmdir(OLD_ROOT) < 0) fail(AIRLOCK_STAGE_DETACH_OLD_ROOT, OLD_ROOT);
    if (cfg.readonly_root &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        fail(AIRLOCK_STAGE_REMOUNT_ROOT, "/");
    trace("detached");
    /* 9. Start the job as our child; we stay pid 1 and reap. */
    pid_t job = fork();
    if (job < 0) fail(AIRLOCK_STAGE_FORK, "fork");
    if (job == 0) job_main();
    if (rec_sock[1] >= 0) close(rec_sock[1]);
    drop_capabilities();
    reaper_main(job);
}

/* ── the helper itself, on the host ─────────────────────────────────────────────────────────── */

static pid_t sandbox_init = -1;

static void kill_sandbox(void) {
    /* Killing pid 1 of a pid namespace kills every process in it. */
    if (sandbox_init > 0) kill(sandbox_init, SIGKILL);
}

static __attribute__((noreturn)) void host_fail(int stage, const char *detail) {
    int e = errno;
    kill_sandbox();
    if (sandbox_init > 0) waitpid(sandbox_init, NULL, 0);
    errno = e;
    fail(stage, detail);
}

static void write_proc_file(pid_t pid, const char *name, const char *data, int stage) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    if (write_file(path, data) < 0) host_fail(stage, path);
}

static int supervise(int sigfd) {
    struct pollfd pfd[4] = {{sigfd, POLLIN, 0}, {AIRLOCK_FD_LIFELINE, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    int lifeline_open = 1;
    for (;;) {
        /* Negative fds are ignored by poll: the lifeline once closed, the recording channels
         * when not recording (or not yet / no longer). */
        pfd[1].fd = lifeline_open ? AIRLOCK_FD_LIFELINE : -1;
        pfd[2].fd = rec_sock[0];
        pfd[3].fd = rec_listener;
        int n = poll(pfd, 4, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) host_fail(AIRLOCK_STAGE_SYNC, "poll");
        if (pfd[2].fd >= 0 && pfd[2].revents) record_take_listener();
        if (pfd[3].fd >= 0 && (pfd[3].revents & POLLIN)) record_one();
        else if (pfd[3].fd >= 0 && (pfd[3].revents & (POLLHUP | POLLERR))) {
            close(rec_listener); /* every filtered process is gone */
            rec_listener = -1;
        }
        if (lifeline_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char c;
            ssize_t r = read(AIRLOCK_FD_LIFELINE, &c, 1);
            if (r <= 0) {
                /* The agent is gone: take the sandbox with it. */
                kill_sandbox();
                lifeline_open = 0;
            }
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) != sizeof si) continue;
            if (si.ssi_signo == SIGCHLD) {
                int status;
                pid_t p = waitpid(sandbox_init, &status, WNOHANG);
                if (p == sandbox_init) {
                    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                    trace("reaped");
                    record_finish();
                    report(AIRLOCK_REPORT_EXITED, 0, 0, code, NULL);
                    return code;
                }
            } else if (si.ssi_signo == SIGALRM) {
                kill_sandbox(); /* the agent's "kill now" (timeout, second Ctrl-C); we still reap */
            } else {
                kill(sandbox_init, (int)si.ssi_signo); /* forwarded by the reaper to the job */
            }
        }
    }
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
