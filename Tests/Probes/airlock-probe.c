/*
 * airlock-probe.c - escape/hardening probe for the Airlock sandbox.
 *
 * Integration tests run this binary INSIDE the sandbox.  Each attack
 * subcommand tries one real attack and prints exactly one line to stdout:
 *
 *     blocked <name> errno=<N> (<strerror>)     exit 0  (attack failed)
 *     ESCAPED <name> ...                        exit 1  (attack succeeded)
 *
 * Informational subcommands print data and exit 0.  Usage errors exit 2.
 * Extra diagnostics, if any, go to stderr so stdout stays one line.
 *
 * Build: cc -O2 -Wall -Wextra -o airlock-probe airlock-probe.c
 * Depends only on libc and raw syscall(2).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
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
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/perf_event.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define NR_IO_URING_SETUP 425 /* same number on every architecture */
#define NR_CLONE3 435         /* same number on every architecture */
#define KEYCTL_JOIN_SESSION_KEYRING_OP 1
#define KEY_SPEC_PROCESS_KEYRING_ID (-2)
#define PERSONA_READ_IMPLIES_EXEC 0x0400000

/* Local copies of kernel ABI structs, to avoid header clashes with glibc. */
struct probe_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
    uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

struct probe_io_uring_params {
    uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle;
    uint32_t features, wq_fd, resv[3];
    uint32_t sq_off[10]; /* struct io_sqring_offsets */
    uint32_t cq_off[10]; /* struct io_cqring_offsets */
};
_Static_assert(sizeof(struct probe_io_uring_params) == 120, "io_uring_params ABI");

/* ------------------------------------------------------------------ */
/* Reporting helpers                                                   */
/* ------------------------------------------------------------------ */

static int blocked(const char *name, int err)
{
    printf("blocked %s errno=%d (%s)\n", name, err, strerror(err));
    return 0;
}

__attribute__((format(printf, 2, 3)))
static int escaped(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("ESCAPED %s", name);
    if (fmt && *fmt) {
        putchar(' ');
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    return 1;
}

/* Result of a syscall-style return value: -1 means blocked. */
static int verdict_fd(const char *name, long rc)
{
    if (rc < 0)
        return blocked(name, errno);
    close((int)rc);
    return escaped(name, "fd=%ld", rc);
}

static int usage_error(const char *fmt, ...);

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parse argv[idx] as a long, falling back to def if absent. */
static int arg_long(int argc, char **argv, int idx, long def, long min, long max,
                    long *out)
{
    if (idx >= argc) {
        if (def < min)
            return usage_error("missing argument");
        *out = def;
        return 0;
    }
    if (parse_long(argv[idx], min, max, out) < 0)
        return usage_error("bad numeric argument '%s'", argv[idx]);
    return 0;
}

static void sleep_seconds(double secs)
{
    struct timespec ts;
    if (secs < 0)
        secs = 0;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Print "<label> n1 n2 ..." for numeric entries of dir, excluding skip_fd. */
static int list_numeric_dir(const char *label, const char *path, int exclude_own_fd)
{
    DIR *d = opendir(path);
    struct dirent *de;
    long *vals = NULL;
    size_t n = 0, cap = 0, i;
    int own;

    if (!d) {
        fprintf(stderr, "airlock-probe: opendir %s: %s\n", path, strerror(errno));
        return 2;
    }
    own = dirfd(d);
    while ((de = readdir(d)) != NULL) {
        long v;
        if (parse_long(de->d_name, 0, LONG_MAX, &v) < 0)
            continue;
        if (exclude_own_fd && v == own)
            continue;
        if (n == cap) {
            long *nv;
            cap = cap ? cap * 2 : 64;
            nv = realloc(vals, cap * sizeof(*vals));
            if (!nv) {
                free(vals);
                closedir(d);
                return 2;
            }
            vals = nv;
        }
        vals[n++] = v;
    }
    closedir(d);
    qsort(vals, n, sizeof(*vals), cmp_long);
    fputs(label, stdout);
    for (i = 0; i < n; i++)
        printf(" %ld", vals[i]);
    putchar('\n');
    free(vals);
    return 0;
}

/* Wait for a raw-clone child created by the probe itself. */
static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* Informational subcommands                                           */
/* ------------------------------------------------------------------ */

static void print_file_lines(const char *label, const char *path)
{
    char line[512];
    FILE *f = fopen(path, "re");
    int any = 0;
    if (!f) {
        printf("%s: (unreadable: errno=%d %s)\n", label, errno, strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        line[strcspn(line, "\n")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        printf("%s: %s\n", label, p);
        any = 1;
    }
    if (!any)
        printf("%s: (empty)\n", label);
    fclose(f);
}

static int cmd_status(int argc, char **argv)
{
    static const char *keys[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
                                  "CapAmb:", "NoNewPrivs:", "Seccomp:" };
    char line[512], host[HOST_NAME_MAX + 1];
    FILE *f;
    size_t i;
    (void)argc; (void)argv;

    f = fopen("/proc/self/status", "re");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
                    fputs(line, stdout);
                    break;
                }
            }
        }
        fclose(f);
    } else {
        printf("status: (unreadable: errno=%d %s)\n", errno, strerror(errno));
    }
    print_file_lines("uid_map", "/proc/self/uid_map");
    print_file_lines("gid_map", "/proc/self/gid_map");
    printf("uid=%u gid=%u\n", (unsigned)getuid(), (unsigned)getgid());
    printf("pid=%ld\n", (long)getpid());
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        printf("hostname=%s\n", host);
    } else {
        printf("hostname=(error errno=%d)\n", errno);
    }
    return 0;
}

static int cmd_fds(int argc, char **argv)
{
    (void)argc; (void)argv;
    return list_numeric_dir("fds", "/proc/self/fd", 1);
}

static int cmd_procs(int argc, char **argv)
{
    (void)argc; (void)argv;
    return list_numeric_dir("procs", "/proc", 0);
}

static int cmd_env(int argc, char **argv)
{
    extern char **environ;
    char **e;
    (void)argc; (void)argv;
    for (e = environ; e && *e; e++)
        puts(*e);
    return 0;
}

static int cmd_sleep(int argc, char **argv)
{
    char *end;
    double secs;
    if (argc < 2)
        return usage_error("sleep needs SECONDS");
    secs = strtod(argv[1], &end);
    if (end == argv[1] || *end || secs < 0)
        return usage_error("bad SECONDS '%s'", argv[1]);
    sleep_seconds(secs);
    printf("slept %s\n", argv[1]);
    return 0;
}

/* child -> grandchild -> setsid()'d great-grandchild, all sleeping. */
struct tree_msg { int level; int pid; };

static int cmd_spawn_tree(int argc, char **argv)
{
    static const char *names[] = { "child", "grandchild", "greatgrandchild" };
    int pids[3] = { -1, -1, -1 };
    struct tree_msg m;
    int pfd[2], level, got = 0;
    long secs;
    pid_t first;

    if (arg_long(argc, argv, 1, -1, 0, 86400 * 7, &secs))
        return 2;
    if (pipe(pfd) < 0) {
        perror("airlock-probe: pipe");
        return 2;
    }
    fflush(stdout);
    first = fork();
    if (first < 0) {
        perror("airlock-probe: fork");
        return 2;
    }
    if (first == 0) {
        /* Descendant chain: level 0 = child, 1 = grandchild, 2 = great-grandchild. */
        pid_t next = -1;
        close(pfd[0]);
        for (level = 0; level < 3; level++) {
            if (level == 2)
                setsid();
            m.level = level;
            m.pid = (int)getpid();
            if (write(pfd[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
                _exit(3);
            if (level == 2)
                break;
            next = fork();
            if (next != 0)
                break; /* parent at this level (or fork failed) */
        }
        close(pfd[1]);
        sleep_seconds((double)secs);
        if (next > 0)
            reap(next);
        _exit(0);
    }
    close(pfd[1]);
    while (got < 3) {
        ssize_t r = read(pfd[0], &m, sizeof(m));
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)sizeof(m))
            break;
        if (m.level >= 0 && m.level < 3) {
            pids[m.level] = m.pid;
            got++;
        }
    }
    close(pfd[0]);
    printf("spawn-tree top=%ld %s=%d %s=%d %s=%d\n", (long)getpid(),
           names[0], pids[0], names[1], pids[1], names[2], pids[2]);
    fflush(stdout);
    sleep_seconds((double)secs);
    reap(first);
    return got == 3 ? 0 : 2;
}

/* ------------------------------------------------------------------ */
/* Attack subcommands                                                   */
/* ------------------------------------------------------------------ */

static int cmd_unshare_user(int argc, char **argv)
{
    (void)argc; (void)argv;
    if (unshare(CLONE_NEWUSER) < 0)
        return blocked("unshare-user", errno);
    return escaped("unshare-user", "now in a new user namespace");
}

static int cmd_clone_newuser(int argc, char **argv)
{
    long pid;
    (void)argc; (void)argv;
    fflush(stdout);
    pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    if (pid < 0)
        return blocked("clone-newuser", errno);
    if (pid == 0)
        _exit(0);
    reap((pid_t)pid);
    return escaped("clone-newuser", "child pid=%ld", pid);
}

static int cmd_clone3(int argc, char **argv)
{
    struct probe_clone_args ca;
    long pid;
    (void)argc; (void)argv;
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_NEWUSER;
    ca.exit_signal = SIGCHLD;
    fflush(stdout);
    pid = syscall(NR_CLONE3, &ca, sizeof(ca));
    if (pid < 0)
        return blocked("clone3", errno);
    if (pid == 0)
        _exit(0);
    reap((pid_t)pid);
    return escaped("clone3", "child pid=%ld", pid);
}

static int cmd_mount(int argc, char **argv)
{
    (void)argc; (void)argv;
    if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) < 0)
        return blocked("mount", errno);
    umount2("/tmp", MNT_DETACH); /* be tidy */
    return escaped("mount", "tmpfs mounted on /tmp");
}

static int cmd_ptrace(int argc, char **argv)
{
    long pid;
    int st, i, stopped = 0;
    if (arg_long(argc, argv, 1, 1, 1, INT_MAX, &pid))
        return 2;
    if (ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) < 0)
        return blocked("ptrace", errno);
    /* Attached: wait (bounded) for the stop, then let the tracee go. */
    for (i = 0; i < 100; i++) {
        pid_t r = waitpid((pid_t)pid, &st, __WALL | WNOHANG);
        if (r == (pid_t)pid && WIFSTOPPED(st)) {
            stopped = 1;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        sleep_seconds(0.01);
    }
    ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
    if (!stopped)
        kill((pid_t)pid, SIGCONT); /* discard a still-pending SIGSTOP */
    return escaped("ptrace", "attached to pid %ld", pid);
}

static int cmd_keyctl(int argc, char **argv)
{
    long join, add;
    int join_err = 0, add_err = 0;
    (void)argc; (void)argv;
    join = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING_OP, "probe");
    if (join < 0)
        join_err = errno;
    add = syscall(SYS_add_key, "user", "airlock-probe", "x", (size_t)1,
                  KEY_SPEC_PROCESS_KEYRING_ID);
    if (add < 0)
        add_err = errno;
    fprintf(stderr, "keyctl: join_session_keyring=%ld errno=%d; add_key=%ld errno=%d\n",
            join, join_err, add, add_err);
    if (join < 0 && add < 0)
        return blocked("keyctl", join_err);
    return escaped("keyctl", "join_session_keyring=%ld add_key=%ld", join, add);
}

static int cmd_perf(int argc, char **argv)
{
    struct perf_event_attr attr;
    (void)argc; (void)argv;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return verdict_fd("perf", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL));
}

static int cmd_userfaultfd(int argc, char **argv)
{
    (void)argc; (void)argv;
    return verdict_fd("userfaultfd", syscall(SYS_userfaultfd, 0));
}

static int cmd_io_uring(int argc, char **argv)
{
    struct probe_io_uring_params params;
    (void)argc; (void)argv;
    memset(&params, 0, sizeof(params));
    return verdict_fd("io_uring", syscall(NR_IO_URING_SETUP, 4, &params));
}

static int cmd_personality(int argc, char **argv)
{
    int prev = personality(PERSONA_READ_IMPLIES_EXEC);
    (void)argc; (void)argv;
    if (prev == -1)
        return blocked("personality", errno);
    personality((unsigned long)prev); /* restore */
    return escaped("personality", "READ_IMPLIES_EXEC accepted (previous=0x%x)", prev);
}

static int cmd_vsock(int argc, char **argv)
{
    (void)argc; (void)argv;
    return verdict_fd("vsock", socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int cmd_alg(int argc, char **argv)
{
    (void)argc; (void)argv;
    return verdict_fd("alg", socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
}

static int cmd_raw(int argc, char **argv)
{
    (void)argc; (void)argv;
    return verdict_fd("raw", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
}

static int cmd_connect(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct pollfd pfd;
    socklen_t len;
    long port;
    int fd, err = 0, r;

    if (argc < 3)
        return usage_error("connect needs HOST PORT");
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
        return usage_error("bad IPv4 address '%s'", argv[1]);
    if (parse_long(argv[2], 1, 65535, &port) < 0)
        return usage_error("bad port '%s'", argv[2]);
    sa.sin_port = htons((uint16_t)port);

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return blocked("connect", errno);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            close(fd);
            return blocked("connect", err);
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        do {
            r = poll(&pfd, 1, 2000);
        } while (r < 0 && errno == EINTR);
        if (r == 0) {
            close(fd);
            return blocked("connect", ETIMEDOUT);
        }
        if (r < 0) {
            err = errno;
            close(fd);
            return blocked("connect", err);
        }
        len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            close(fd);
            return blocked("connect", err);
        }
    }
    close(fd);
    return escaped("connect", "connected to %s:%ld", argv[1], port);
}

static int cmd_tiocsti(int argc, char **argv)
{
    char c = 'x';
    int fd, own = 0;
    (void)argc; (void)argv;
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        own = 1;
    } else {
        fprintf(stderr, "tiocsti: /dev/tty: %s; %s\n", strerror(errno),
                isatty(0) ? "using fd 0 (a tty)" : "no terminal, trying fd 0 anyway");
        fd = 0;
    }
    if (ioctl(fd, TIOCSTI, &c) < 0) {
        int err = errno;
        if (own)
            close(fd);
        return blocked("tiocsti", err);
    }
    if (own)
        close(fd);
    return escaped("tiocsti", "injected a character into the terminal input");
}

static int cmd_read(int argc, char **argv)
{
    char buf[64];
    ssize_t n;
    int fd;
    if (argc < 2)
        return usage_error("read needs PATH");
    fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return blocked("read", errno);
    n = read(fd, buf, sizeof(buf));
    if (n < 0)
        fprintf(stderr, "read: opened but read failed: %s\n", strerror(errno));
    close(fd);
    return escaped("read", "%s opened (read %zd bytes)", argv[1], n);
}

static int cmd_write(int argc, char **argv)
{
    static const char msg[] = "airlock-probe was here\n";
    ssize_t n;
    int fd, err;
    if (argc < 2)
        return usage_error("write needs PATH");
    /* O_APPEND, not O_TRUNC: an escape must not destroy existing content. */
    fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return blocked("write", errno);
    n = write(fd, msg, sizeof(msg) - 1);
    err = errno;
    close(fd);
    if (n < 0)
        return blocked("write", err);
    return escaped("write", "%s written (%zd bytes)", argv[1], n);
}

static int cmd_forkbomb(int argc, char **argv)
{
    pid_t parent = getpid(), *kids;
    long n, k;
    int err = 0;

    if (arg_long(argc, argv, 1, -1, 1, 10000000, &n))
        return 2;
    kids = calloc((size_t)n, sizeof(*kids));
    if (!kids) {
        perror("airlock-probe: calloc");
        return 2;
    }
    fflush(stdout);
    for (k = 0; k < n; k++) {
        pid_t p = fork();
        if (p < 0) {
            err = errno;
            break;
        }
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == parent)
                sleep_seconds(30);
            _exit(0);
        }
        kids[k] = p;
    }
    for (long i = 0; i < k; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < k; i++)
        reap(kids[i]);
    free(kids);
    if (k < n) {
        printf("forked %ld then errno=%d\n", k, err);
        return 0;
    }
    printf("ESCAPED forkbomb forked %ld then errno=0\n", k);
    return 1;
}

static volatile unsigned char *membomb_chunks[4096];

static int cmd_membomb(int argc, char **argv)
{
    const size_t MiB = 1024 * 1024;
    long total, done = 0, next_report = 64;
    size_t idx = 0;

    if (arg_long(argc, argv, 1, -1, 1, 4096L * 16, &total))
        return 2;
    while (done < total) {
        long step = total - done < 16 ? total - done : 16;
        unsigned char *p = malloc((size_t)step * MiB);
        if (!p)
            return blocked("membomb", errno ? errno : ENOMEM);
        memset(p, 0xa5, (size_t)step * MiB);
        membomb_chunks[idx++] = p;
        done += step;
        if (done >= next_report) {
            fprintf(stderr, "membomb: %ld MiB allocated\n", done);
            next_report += 64;
        }
    }
    return escaped("membomb", "allocated %ld", total);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cmd_fill(int argc, char **argv)
{
    static char block[1024 * 1024];
    long total, k = 0;
    int fd, err = 0;

    if (argc < 3)
        return usage_error("fill needs PATH MiB");
    if (arg_long(argc, argv, 2, -1, 1, LONG_MAX / 2, &total))
        return 2;
    signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: get EFBIG instead of dying */
    memset(block, 'A', sizeof(block));
    fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = errno;
    } else {
        for (k = 0; k < total; k++) {
            if (write_all(fd, block, sizeof(block)) < 0) {
                err = errno;
                break;
            }
        }
        if (!err && fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
            err = errno;
        if (close(fd) < 0 && !err)
            err = errno;
    }
    if (err) {
        printf("blocked fill errno=%d (%s) after %ld MiB\n", err, strerror(err), k);
        return 0;
    }
    return escaped("fill", "wrote %ld", total);
}

static int cmd_sethostname(int argc, char **argv)
{
    char old[HOST_NAME_MAX + 1];
    (void)argc; (void)argv;
    if (gethostname(old, sizeof(old)) < 0)
        old[0] = '\0';
    old[sizeof(old) - 1] = '\0';
    if (sethostname("evil", 4) < 0)
        return blocked("sethostname", errno);
    if (old[0])
        sethostname(old, strlen(old)); /* restore */
    return escaped("sethostname", "hostname changeable (was '%s', restored)", old);
}

static int cmd_chroot(int argc, char **argv)
{
    (void)argc; (void)argv;
    if (chroot("/tmp") < 0)
        return blocked("chroot", errno);
    return escaped("chroot", "chroot(\"/tmp\") succeeded");
}

static int cmd_kill(int argc, char **argv)
{
    long pid;
    if (arg_long(argc, argv, 1, -1, 1, INT_MAX, &pid))
        return 2;
    if (kill((pid_t)pid, 0) < 0)
        return blocked("kill", errno);
    return escaped("kill", "pid %ld exists and is signalable", pid);
}

static int cmd_all(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* Subcommand table                                                    */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* syscall: one raw call, for `airlock profile test` cases and explain */
/* ------------------------------------------------------------------ */

/* A few names, so case files read well; anything else by number. */
static const struct { const char *name; long nr; } syscall_names[] = {
    { "getpid", SYS_getpid },       { "ptrace", SYS_ptrace },
    { "unshare", SYS_unshare },     { "setns", SYS_setns },
    { "socket", SYS_socket },       { "personality", SYS_personality },
    { "clone", SYS_clone },         { "keyctl", SYS_keyctl },
    { "bpf", SYS_bpf },             { "perf_event_open", SYS_perf_event_open },
    { "userfaultfd", SYS_userfaultfd }, { "io_uring_setup", NR_IO_URING_SETUP },
    { "mount", SYS_mount },         { "chroot", SYS_chroot },
    { "uname", SYS_uname },         { "getuid", SYS_getuid },
    { "sethostname", SYS_sethostname }, { "clone3", NR_CLONE3 },
};

/*
 * syscall NAME|NR [ARG...]: make the call with these arguments (decimal or 0x hex; "buf" is a
 * pointer to 4 KiB of zeroed memory). Prints "ok <name> ret=<r>" and exits 0, or
 * "failed <name> errno=<N> (<message>)" and exits 1. A forked child (clone/fork-like calls
 * returning 0 in the child) exits 0 at once.
 */
static int cmd_syscall(int argc, char **argv)
{
    static char buf[4096];
    long nr = -1, args[6] = { 0, 0, 0, 0, 0, 0 };
    size_t i;
    pid_t self = getpid();
    char *end;
    if (argc < 2)
        return usage_error("syscall needs NAME or NR");
    for (i = 0; i < sizeof syscall_names / sizeof syscall_names[0]; i++)
        if (strcmp(argv[1], syscall_names[i].name) == 0)
            nr = syscall_names[i].nr;
    if (nr < 0) {
        nr = strtol(argv[1], &end, 0);
        if (*end || nr < 0)
            return usage_error("unknown syscall '%s' (give a number)", argv[1]);
    }
    if (argc > 8)
        return usage_error("at most six arguments");
    for (i = 2; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "buf") == 0) {
            args[i - 2] = (long)buf;
            continue;
        }
        args[i - 2] = (long)strtoull(argv[i], &end, 0);
        if (*end)
            return usage_error("bad argument '%s'", argv[i]);
    }
    long r = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    if (r == 0 && getpid() != self)
        _exit(0); /* the child of a successful clone */
    if (r < 0) {
        int e = errno;
        printf("failed %s errno=%d (%s)\n", argv[1], e, strerror(e));
        return 1;
    }
    printf("ok %s ret=%ld\n", argv[1], r);
    return 0;
}

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    int in_all; /* run by `all` (attack needing no arguments) */
};

static const struct subcommand commands[] = {
    { "status",        cmd_status,        "",              0 },
    { "syscall",       cmd_syscall,       "NAME|NR [ARG...]", 0 },
    { "unshare-user",  cmd_unshare_user,  "",              1 },
    { "clone-newuser", cmd_clone_newuser, "",              1 },
    { "clone3",        cmd_clone3,        "",              1 },
    { "mount",         cmd_mount,         "",              1 },
    { "ptrace",        cmd_ptrace,        "[PID=1]",       1 },
    { "keyctl",        cmd_keyctl,        "",              1 },
    { "perf",          cmd_perf,          "",              1 },
    { "userfaultfd",   cmd_userfaultfd,   "",              1 },
    { "io_uring",      cmd_io_uring,      "",              1 },
    { "personality",   cmd_personality,   "",              1 },
    { "vsock",         cmd_vsock,         "",              1 },
    { "alg",           cmd_alg,           "",              1 },
    { "raw",           cmd_raw,           "",              1 },
    { "connect",       cmd_connect,       "HOST PORT",     0 },
    { "tiocsti",       cmd_tiocsti,       "",              0 },
    { "read",          cmd_read,          "PATH",          0 },
    { "write",         cmd_write,         "PATH",          0 },
    { "fds",           cmd_fds,           "",              0 },
    { "procs",         cmd_procs,         "",              0 },
    { "env",           cmd_env,           "",              0 },
    { "forkbomb",      cmd_forkbomb,      "N",             0 },
    { "membomb",       cmd_membomb,       "MiB",           0 },
    { "fill",          cmd_fill,          "PATH MiB",      0 },
    { "spawn-tree",    cmd_spawn_tree,    "SECONDS",       0 },
    { "sleep",         cmd_sleep,         "SECONDS",       0 },
    { "sethostname",   cmd_sethostname,   "",              1 },
    { "chroot",        cmd_chroot,        "",              1 },
    { "kill",          cmd_kill,          "PID",           0 },
    { "all",           cmd_all,           "",              0 },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(void)
{
    size_t i;
    fprintf(stderr, "usage: airlock-probe SUBCOMMAND [ARGS]\nsubcommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(stderr, "  %-14s %s\n", commands[i].name, commands[i].args);
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "airlock-probe: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage();
    return 2;
}

static int cmd_all(int argc, char **argv)
{
    int all_blocked = 1;
    size_t i;
    (void)argc; (void)argv;

    for (i = 0; i < NCOMMANDS; i++) {
        const struct subcommand *c = &commands[i];
        char *cargv[2];
        pid_t pid;
        int st;

        if (!c->in_all)
            continue;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
            printf("blocked all-fork errno=%d (%s)\n", errno, strerror(errno));
            all_blocked = 0; /* could not test the rest: do not claim success */
            break;
        }
        if (pid == 0) {
            int rc;
            cargv[0] = (char *)c->name;
            cargv[1] = NULL;
            rc = c->fn(1, cargv);
            fflush(stdout);
            fflush(stderr);
            _exit(rc);
        }
        while (waitpid(pid, &st, 0) < 0) {
            if (errno != EINTR) {
                st = 0x7f00; /* treat as exit status 127 */
                break;
            }
        }
        if (WIFSIGNALED(st)) {
            /* e.g. SIGSYS from a seccomp kill action: the attack did not run */
            printf("blocked %s signal=%d (%s)\n", c->name, WTERMSIG(st),
                   strsignal(WTERMSIG(st)));
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            all_blocked = 0;
        }
        fflush(stdout);
    }
    return all_blocked ? 0 : 1;
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        usage();
        return 2;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            fflush(stdout);
            return rc;
        }
    }
    fprintf(stderr, "airlock-probe: unknown subcommand '%s'\n", argv[1]);
    usage();
    return 2;
}
