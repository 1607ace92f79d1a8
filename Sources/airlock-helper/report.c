/* The report pipe (fd 5): fixed-size records the agent decodes (struct airlock_report). */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int report_fd = AIRLOCK_FD_REPORT;

void report(int kind, int stage, int err, int64_t value, const char *detail) {
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

__attribute__((noreturn)) void fail_with(int code, int stage, const char *detail) {
    int e = errno;
    report(AIRLOCK_REPORT_ERROR, stage, e, 0, detail);
    _exit(code);
}

__attribute__((noreturn)) void fail(int stage, const char *detail) { fail_with(125, stage, detail); }

#ifdef AIRLOCK_TRACE
void trace(const char *what) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    dprintf(2, "[helper %d] %ld.%06ld %s\n", (int)getpid(), (long)t.tv_sec, t.tv_nsec / 1000, what);
}
#endif
