/*
 * The launch config (fd 3) and the seccomp program (fd 4), read before any process exists.
 *
 * The config is NUL-terminated tokens: the version, then records of an op code and its
 * arguments (airlock_helper_protocol.h). Each op is one row of `ops` below: its code, its
 * argument count (from the code) and the handler that stores its arguments in `cfg`.
 */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config cfg;

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

/* A numeric argument; anything else is an EINVAL naming the token. */
static unsigned long num(const char *t) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(t, &end, 0);
    if (errno || *end) {
        errno = EINVAL;
        fail(AIRLOCK_STAGE_CONFIG, t);
    }
    return v;
}

/* Too many items of one kind in the launch config. */
static __attribute__((noreturn)) void too_many(const char *what) {
    errno = E2BIG;
    fail(AIRLOCK_STAGE_CONFIG, what);
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

/* ── one handler per op: `a` holds exactly the op's arguments ─────────────────────────────── */

typedef const char *const args_t[];

static void op_uid_map(args_t a) { cfg.uid_map = a[0]; }
static void op_gid_map(args_t a) { cfg.gid_map = a[0]; }
static void op_setup_ids(args_t a) {
    cfg.setup_uid = (uid_t)num(a[0]);
    cfg.setup_gid = (gid_t)num(a[1]);
}
static void op_job_ids(args_t a) {
    cfg.job_uid = (uid_t)num(a[0]);
    cfg.job_gid = (gid_t)num(a[1]);
}
static void op_share_net(args_t a) {
    (void)a;
    cfg.share_net = 1;
}
static void op_root_size(args_t a) { cfg.root_size = num(a[0]); }
static void op_hostname(args_t a) { cfg.hostname = a[0]; }
static void op_bind(enum mount_kind kind, args_t a) {
    struct mount_op *m = add_mount(kind);
    m->a = a[0];
    m->b = a[1];
}
static void op_ro_bind(args_t a) { op_bind(M_RO_BIND, a); }
static void op_rw_bind(args_t a) { op_bind(M_RW_BIND, a); }
static void op_tmpfs(args_t a) {
    struct mount_op *m = add_mount(M_TMPFS);
    m->b = a[0];
    m->size = num(a[1]);
    m->mode = (unsigned)num(a[2]);
    m->uid = (uid_t)num(a[3]);
    m->gid = (gid_t)num(a[4]);
}
static void op_dir(args_t a) {
    struct mount_op *m = add_mount(M_DIR);
    m->b = a[0];
    m->mode = (unsigned)num(a[1]);
    m->uid = (uid_t)num(a[2]);
    m->gid = (gid_t)num(a[3]);
}
static void op_file(args_t a) {
    struct mount_op *m = add_mount(M_FILE);
    m->b = a[0];
    m->mode = (unsigned)num(a[1]);
    m->a = a[2];
    m->uid = (uid_t)-1; /* keep the creator (the setup ids) */
    m->gid = (gid_t)-1;
}
static void op_owned_file(args_t a) {
    struct mount_op *m = add_mount(M_FILE);
    m->b = a[0];
    m->mode = (unsigned)num(a[1]);
    m->uid = (uid_t)num(a[2]);
    m->gid = (gid_t)num(a[3]);
    m->a = a[4];
}
static void op_symlink(args_t a) {
    struct mount_op *m = add_mount(M_SYMLINK);
    m->a = a[0];
    m->b = a[1];
}
static void op_proc(args_t a) {
    (void)a;
    add_mount(M_PROC)->b = "/proc";
}
static void op_dev(args_t a) {
    struct mount_op *m = add_mount(M_DEV);
    m->b = "/dev";
    m->size = num(a[0]); /* size of /dev/shm */
}
static void op_readonly_root(args_t a) {
    (void)a;
    cfg.readonly_root = 1;
}
static void op_cgroup(args_t a) {
    if (cfg.n_cgroups >= AIRLOCK_HELPER_MAX_CGROUPS) too_many("too many cgroups");
    cfg.cgroup_procs[cfg.n_cgroups++] = a[0];
}
static void op_cgroup_self(args_t a) {
    if (cfg.n_cgroup_self >= AIRLOCK_HELPER_MAX_CGROUPS) too_many("too many cgroups");
    cfg.cgroup_self[cfg.n_cgroup_self++] = a[0];
}
static void op_rlimit(args_t a) {
    if (cfg.n_rlimits >= AIRLOCK_HELPER_MAX_RLIMITS) too_many("too many rlimits");
    struct rlimit_op *r = &cfg.rlimits[cfg.n_rlimits++];
    r->resource = (int)num(a[0]);
    r->value.rlim_cur = num(a[1]);
    r->value.rlim_max = num(a[2]);
}
static void op_cwd(args_t a) { cfg.cwd = a[0]; }
static void op_umask(args_t a) { cfg.umask_value = (unsigned)num(a[0]); }
static void op_env(args_t a) {
    if (cfg.envc >= MAX_ITEMS) too_many("too many environment variables");
    cfg.envp[cfg.envc++] = (char *)a[0];
}
static void op_arg(args_t a) {
    if (cfg.argc >= MAX_ITEMS) too_many("too many arguments");
    cfg.argv[cfg.argc++] = (char *)a[0];
}
static void op_record(args_t a) { cfg.record_path = a[0]; }
static void op_record_args(args_t a) {
    if (cfg.n_record_args >= RECORD_MAX_ARG_RULES) too_many("too many record_args");
    cfg.record_args[cfg.n_record_args].nr = (int)num(a[0]);
    cfg.record_args[cfg.n_record_args++].mask = (unsigned)num(a[1]) & 0x3f;
}

struct op_spec {
    enum airlock_op code;
    int argc;
    void (*parse)(args_t a);
};

#define OP(code, parse) {code, (code) & AIRLOCK_OP_ARGC_MASK, parse}
static const struct op_spec ops[] = {
    OP(AIRLOCK_OP_UID_MAP, op_uid_map),
    OP(AIRLOCK_OP_GID_MAP, op_gid_map),
    OP(AIRLOCK_OP_SETUP_IDS, op_setup_ids),
    OP(AIRLOCK_OP_JOB_IDS, op_job_ids),
    OP(AIRLOCK_OP_SHARE_NET, op_share_net),
    OP(AIRLOCK_OP_ROOT_SIZE, op_root_size),
    OP(AIRLOCK_OP_HOSTNAME, op_hostname),
    OP(AIRLOCK_OP_RO_BIND, op_ro_bind),
    OP(AIRLOCK_OP_RW_BIND, op_rw_bind),
    OP(AIRLOCK_OP_TMPFS, op_tmpfs),
    OP(AIRLOCK_OP_DIR, op_dir),
    OP(AIRLOCK_OP_FILE, op_file),
    OP(AIRLOCK_OP_OWNED_FILE, op_owned_file),
    OP(AIRLOCK_OP_SYMLINK, op_symlink),
    OP(AIRLOCK_OP_PROC, op_proc),
    OP(AIRLOCK_OP_DEV, op_dev),
    OP(AIRLOCK_OP_READONLY_ROOT, op_readonly_root),
    OP(AIRLOCK_OP_CGROUP, op_cgroup),
    OP(AIRLOCK_OP_CGROUP_SELF, op_cgroup_self),
    OP(AIRLOCK_OP_RLIMIT, op_rlimit),
    OP(AIRLOCK_OP_CWD, op_cwd),
    OP(AIRLOCK_OP_UMASK, op_umask),
    OP(AIRLOCK_OP_ENV, op_env),
    OP(AIRLOCK_OP_ARG, op_arg),
    OP(AIRLOCK_OP_RECORD, op_record),
    OP(AIRLOCK_OP_RECORD_ARGS, op_record_args),
};
#undef OP

/* A decimal number with nothing else in the token; -1 for anything else. */
static long decimal(const char *t) {
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (*t < '0' || *t > '9' || errno || *end) return -1;
    return v;
}

static const struct op_spec *find_op(const char *token) {
    long code = decimal(token);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (code == (long)ops[i].code) return &ops[i];
    return NULL;
}

/* The first token: a config of another version is refused before anything else is read, since
 * its op codes may mean something else. `value` tells the agent which version this helper reads. */
static void check_version(void) {
    const char *t = next_token();
    if (decimal(t) == AIRLOCK_HELPER_CONFIG_VERSION) return;
    char detail[160];
    snprintf(detail, sizeof detail, "launch config version '%.64s', this helper reads version %d", t,
             AIRLOCK_HELPER_CONFIG_VERSION);
    report(AIRLOCK_REPORT_ERROR, AIRLOCK_STAGE_CONFIG, EPROTO, AIRLOCK_HELPER_CONFIG_VERSION, detail);
    _exit(125);
}

void parse_config(void) {
    cfg_buf = read_all(AIRLOCK_FD_CONFIG, &cfg_len);
    if (!cfg_buf) fail(AIRLOCK_STAGE_CONFIG, "reading launch config (fd 3)");
    cfg.umask_value = 022;
    cfg.root_size = 16u << 20;
    cfg.hostname = "airlock";
    cfg.cwd = "/";
    check_version();
    while (cfg_pos < cfg_len) {
        const char *token = next_token();
        const struct op_spec *op = find_op(token);
        if (!op) {
            errno = EINVAL;
            fail(AIRLOCK_STAGE_CONFIG, token);
        }
        const char *args[AIRLOCK_OP_ARGC_MASK + 1];
        for (int i = 0; i < op->argc; i++) args[i] = next_token();
        op->parse(args);
    }
    if (cfg.argc == 0) {
        errno = EINVAL;
        fail(AIRLOCK_STAGE_CONFIG, "no command");
    }
    cfg.argv[cfg.argc] = NULL;
    cfg.envp[cfg.envc] = NULL;
}

void load_seccomp_program(void) {
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
