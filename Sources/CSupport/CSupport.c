#define _GNU_SOURCE
#include <sched.h>
#include <errno.h>
#include <unistd.h>
#include "CSupport.h"

int crio_unshare(int flags) { return unshare(flags); }

int crio_sethostname(const char *name, size_t length) { return sethostname(name, length); }

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int crio_loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct ifreq request;
  memset(&request, 0, sizeof(request));
  strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  int result = ioctl(fd, SIOCGIFFLAGS, &request);
  if (result == 0) {
    request.ifr_flags |= IFF_UP;
    result = ioctl(fd, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return result;
}

#include <spawn.h>

int crio_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
  return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/wait.h>

static void crio_pid_init_on_signal(int signal) {
  if (signal != SIGCHLD) _exit(0);
}

// PID 1 of a pod's PID namespace. Only async-signal-safe calls: the
// process that forked it may have had other threads.
static void crio_pid_init_run(void) {
  setsid();
  close_range(0, ~0U, 0);
  int null = open("/dev/null", O_RDWR);
  if (null == 0) {
    dup2(0, 1);
    dup2(0, 2);
  }
  if (chdir("/") != 0) _exit(1);
  prctl(PR_SET_NAME, "crio-pod-init", 0, 0, 0);
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = crio_pid_init_on_signal;
  sigaction(SIGCHLD, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  for (;;) {
    pause();
    // Orphans of the pod's containers are reparented here: reap them.
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
  }
}

pid_t crio_start_pid_namespace_init(void) {
  // The unshare happens in a short-lived middle process: a process whose
  // PID namespace for children differs from its own cannot start threads
  // any more, which the Swift runtime of the caller needs.
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) return -1;
  pid_t middle = fork();
  if (middle < 0) {
    int saved = errno;
    close(report_pipe[0]);
    close(report_pipe[1]);
    errno = saved;
    return -1;
  }
  if (middle == 0) {
    close(report_pipe[0]);
    int32_t report = -EINVAL;
    if (unshare(CLONE_NEWPID) != 0) {
      report = -errno;
    } else {
      pid_t init = fork();
      if (init == 0) crio_pid_init_run();
      report = init > 0 ? init : -errno;
    }
    if (write(report_pipe[1], &report, sizeof(report)) != sizeof(report)) _exit(1);
    _exit(0);
  }
  close(report_pipe[1]);
  int32_t report = 0;
  ssize_t got = read(report_pipe[0], &report, sizeof(report));
  close(report_pipe[0]);
  waitpid(middle, NULL, 0);
  if (got != sizeof(report) || report <= 0) {
    errno = (got == sizeof(report) && report < 0) ? -report : ECHILD;
    return -1;
  }
  return report;
}
