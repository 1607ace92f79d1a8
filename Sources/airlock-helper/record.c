/*
 * Recording (`airlock profile record`): every call the job makes, through a seccomp
 * user-notification listener.
 *
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
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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
#define RECORD_MAX_TUPLES 64

int rec_sock[2] = {-1, -1};
int rec_out = -1;
int rec_listener = -1;
static uint64_t rec_cookie;
static int rec_got_listener; /* the job handed its listener over (it reached the filter) */
static unsigned long rec_counts[RECORD_MAX_NR];
static unsigned long rec_other; /* calls with numbers outside the table (none expected) */
static struct {
    uint64_t v[6];
} rec_tuples[RECORD_MAX_ARG_RULES][RECORD_MAX_TUPLES];
static int rec_n_tuples[RECORD_MAX_ARG_RULES];
static int rec_overflow[RECORD_MAX_ARG_RULES];

/* Before clone: the output file, the socketpair and the cookie. */
void record_prepare(void) {
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
void record_install(int sock) {
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
void record_take_listener(void) {
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
void record_one(void) {
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
void record_finish(void) {
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

