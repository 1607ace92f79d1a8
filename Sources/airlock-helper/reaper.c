/*
 * The two processes that wait: pid 1 in the sandbox (the reaper, parent of the job) and the
 * helper on the host (the supervisor, parent of the reaper).
 */
#include "helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* ── pid 1 in the sandbox: reap, forward signals, exit with the job's status ────────────────── */

__attribute__((noreturn)) void reaper_main(pid_t job) {
    /* Not dumpable: no process of the sandbox can ptrace the reaper or read its /proc files,
     * whatever its uid. The job keeps its own copy of the report pipe (close-on-exec, for an
     * exec error); the reaper's copy goes. */
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

/* ── the helper on the host: supervise the sandbox until its init exits ─────────────────────── */

pid_t sandbox_init = -1;

void kill_sandbox(void) {
    /* Killing pid 1 of a pid namespace kills every process in it. */
    if (sandbox_init > 0) kill(sandbox_init, SIGKILL);
}

__attribute__((noreturn)) void host_fail(int stage, const char *detail) {
    int e = errno;
    kill_sandbox();
    if (sandbox_init > 0) waitpid(sandbox_init, NULL, 0);
    errno = e;
    fail(stage, detail);
}

int supervise(int sigfd) {
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
