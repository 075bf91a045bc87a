#define _GNU_SOURCE
#include "CMonitor.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

int crio_monitor_set_subreaper(void) {
  return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int crio_monitor_receive_fd(int socket) {
  char byte;
  int fd = -1, received = 0;
  if (crio_monitor_receive_fds(socket, &byte, 1, &fd, 1, &received) < 0) return -1;
  if (received != 1) {
    errno = EBADMSG;
    return -1;
  }
  return fd;
}

int crio_monitor_signalfd(const int *signals, int count) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int crio_monitor_pipe(int fds[2]) {
  return pipe2(fds, O_CLOEXEC);
}

int crio_monitor_accept(int socket, int flags) {
  return accept4(socket, NULL, NULL, flags);
}

long crio_monitor_send_fds(int socket, const void *bytes, unsigned long length, const int *fds, int count) {
  if (count < 0 || count > 8) {
    errno = EINVAL;
    return -1;
  }
  struct iovec iov = {.iov_base = (void *)bytes, .iov_len = length};
  union {
    char buffer[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
  if (count > 0) {
    message.msg_control = control.buffer;
    message.msg_controllen = CMSG_SPACE(count * sizeof(int));
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(header), fds, count * sizeof(int));
  }
  ssize_t sent;
  do {
    sent = sendmsg(socket, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

long crio_monitor_receive_fds(int socket, void *bytes, unsigned long length, int *fds, int max, int *received) {
  *received = 0;
  if (max < 0 || max > 8) {
    errno = EINVAL;
    return -1;
  }
  struct iovec iov = {.iov_base = bytes, .iov_len = length};
  union {
    char buffer[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr message = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof(control.buffer)};
  ssize_t got;
  do {
    got = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return -1;
  for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *passed = (int *)CMSG_DATA(header);
    for (int i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, passed + i, sizeof(int));
      // Descriptors beyond what the caller takes are not leaked.
      if (*received < max) fds[(*received)++] = fd; else close(fd);
    }
  }
  return got;
}
