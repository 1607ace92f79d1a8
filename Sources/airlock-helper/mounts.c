/*
 * Mounts inside the sandbox's mount namespace, while the host root is still reachable at
 * OLD_ROOT (see contain.c for where they run in the containment order).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* Make a bind mount (and every submount under it) nosuid and nodev, and read-only if asked.
 * mount_setattr(AT_RECURSIVE) does the whole tree atomically. Kernels without it (before 5.12)
 * get a remount of the top mount only, keeping the flags the kernel has locked (noexec, atime)
 * so it is not refused; submounts of the source then keep their own flags. */
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

void mount_tmpfs(const char *dst, unsigned long size, unsigned mode, uid_t uid, gid_t gid,
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

static void write_plan_file(const struct mount_op *m) {
    if (parent_dirs(m->b) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
    int fd = open(m->b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, m->mode);
    if (fd < 0) fail(AIRLOCK_STAGE_FILE, m->b);
    size_t n = strlen(m->a);
    if (write(fd, m->a, n) != (ssize_t)n) fail(AIRLOCK_STAGE_FILE, m->b);
    /* Secrets: handed to the job's uid, mode 0400, on the sandbox's own tmpfs. */
    if (m->uid != (uid_t)-1 && fchown(fd, m->uid, m->gid) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
    if (fchmod(fd, m->mode) < 0) fail(AIRLOCK_STAGE_FILE, m->b);
    close(fd);
}

void apply_mount(const struct mount_op *m) {
    switch (m->kind) {
    case M_RO_BIND:
    case M_RW_BIND: bind_mount(m); break;
    case M_TMPFS: mount_tmpfs(m->b, m->size, m->mode, m->uid, m->gid, 0, AIRLOCK_STAGE_TMPFS); break;
    case M_DIR:
        if (mkdir_p(m->b, m->mode) < 0 || chmod(m->b, m->mode) < 0 || chown(m->b, m->uid, m->gid) < 0)
            fail(AIRLOCK_STAGE_FILE, m->b);
        break;
    case M_FILE: write_plan_file(m); break;
    case M_SYMLINK:
        if (parent_dirs(m->b) < 0 || symlink(m->a, m->b) < 0) fail(AIRLOCK_STAGE_SYMLINK, m->b);
        break;
    case M_PROC:
        /* The kernel refuses a new proc mount in a user namespace unless a full /proc is
         * already visible: the host's, under OLD_ROOT, until the root is detached. */
        if (mkdir_p("/proc", 0555) < 0 ||
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            fail(AIRLOCK_STAGE_PROC, "/proc");
        break;
    case M_DEV: make_dev(m->size); break;
    }
}
