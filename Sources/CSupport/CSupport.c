#define _GNU_SOURCE
#include <sched.h>
#include <errno.h>
#include <unistd.h>
#include "CSupport.h"

int crio_unshare(int flags) { return unshare(flags); }

int crio_sethostname(const char *name, size_t length) { return sethostname(name, length); }

int crio_syncfs(int fd) { return syncfs(fd); }

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

int crio_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path) {
  return posix_spawn_file_actions_addchdir_np(actions, path);
}

#include <signal.h>

int crio_spawnattr_clean_signals(posix_spawnattr_t *attributes) {
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (posix_spawnattr_setsigdefault(attributes, &all) != 0) return -1;
  if (posix_spawnattr_setsigmask(attributes, &none) != 0) return -1;
  return posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>

#include <pthread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <stdlib.h>
#include <termios.h>

int crio_set_window_size(int fd, unsigned short rows, unsigned short columns) {
  struct winsize size;
  memset(&size, 0, sizeof(size));
  size.ws_row = rows;
  size.ws_col = columns;
  return ioctl(fd, TIOCSWINSZ, &size);
}

int crio_open_pty(int *master, int *slave) {
  int primary = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (primary < 0) return -1;
  char name[128];
  if (grantpt(primary) != 0 || unlockpt(primary) != 0 || ptsname_r(primary, name, sizeof(name)) != 0) {
    int saved = errno;
    close(primary);
    errno = saved;
    return -1;
  }
  int secondary = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (secondary < 0) {
    int saved = errno;
    close(primary);
    errno = saved;
    return -1;
  }
  *master = primary;
  *slave = secondary;
  return 0;
}

struct crio_netns_dial {
  const char *namespace_path;
  unsigned short port;
  int result;
  int error;
};

static void *crio_netns_dial_thread(void *argument) {
  struct crio_netns_dial *dial = argument;
  dial->result = -1;
  int namespace_fd = open(dial->namespace_path, O_RDONLY | O_CLOEXEC);
  if (namespace_fd < 0) {
    dial->error = errno;
    return NULL;
  }
  // Only this short-lived thread enters the pod's namespace; a socket stays
  // in the namespace it was made in.
  if (setns(namespace_fd, CLONE_NEWNET) != 0) {
    dial->error = errno;
    close(namespace_fd);
    return NULL;
  }
  close(namespace_fd);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    dial->error = errno;
    return NULL;
  }
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons(dial->port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
    dial->error = errno;
    close(fd);
    return NULL;
  }
  dial->result = fd;
  return NULL;
}

int crio_connect_in_network_namespace(const char *namespace_path, unsigned short port) {
  struct crio_netns_dial dial = {.namespace_path = namespace_path, .port = port, .result = -1, .error = 0};
  pthread_t thread;
  int created = pthread_create(&thread, NULL, crio_netns_dial_thread, &dial);
  if (created != 0) {
    errno = created;
    return -1;
  }
  pthread_join(thread, NULL);
  if (dial.result < 0) errno = dial.error;
  return dial.result;
}

#include <grp.h>
#include <sys/syscall.h>

// The user-namespace child: see crio_userns_fork. Only async-signal-safe
// calls, as it is forked from a process with other threads.
static void crio_userns_child_run(int channel) {
  // Hold nothing of the parent's open (a file being written stays busy for
  // exec while any process has it open for writing).
  if (channel > 3) close_range(3, channel - 1, 0);
  close_range(channel + 1, ~0U, 0);
  int32_t status = unshare(CLONE_NEWUSER) == 0 ? 0 : -errno;
  if (write(channel, &status, sizeof(status)) != sizeof(status) || status != 0) _exit(1);
  int32_t flags;
  // End of file: the caller only wanted the user namespace itself.
  if (read(channel, &flags, sizeof(flags)) != sizeof(flags)) _exit(0);
  // Become the namespace's root where it is mapped (sysctl files and
  // namespace ownership follow the creator's IDs, not its capabilities).
  if (setresgid(0, 0, 0) == 0) setgroups(0, NULL);
  setresuid(0, 0, 0);
  int32_t report = (flags != 0 && unshare(flags) != 0) ? -errno : 0;
  if (write(channel, &report, sizeof(report)) != sizeof(report)) _exit(1);
  // Keep the namespaces alive until the caller has pinned them.
  char byte;
  while (read(channel, &byte, 1) < 0 && errno == EINTR) {}
  _exit(0);
}

pid_t crio_userns_fork(int *channel) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
  pid_t child = fork();
  if (child < 0) {
    int saved = errno;
    close(pair[0]);
    close(pair[1]);
    errno = saved;
    return -1;
  }
  if (child == 0) {
    close(pair[0]);
    crio_userns_child_run(pair[1]);
  }
  close(pair[1]);
  int32_t status = 0;
  ssize_t got = read(pair[0], &status, sizeof(status));
  if (got != sizeof(status) || status != 0) {
    close(pair[0]);
    waitpid(child, NULL, 0);
    errno = (got == sizeof(status) && status < 0) ? -status : ECHILD;
    return -1;
  }
  *channel = pair[0];
  return child;
}

int crio_userns_continue(int channel, int flags) {
  int32_t order = flags;
  if (write(channel, &order, sizeof(order)) != sizeof(order)) return -1;
  int32_t report;
  ssize_t got = read(channel, &report, sizeof(report));
  if (got != sizeof(report)) {
    errno = ECHILD;
    return -1;
  }
  if (report < 0) {
    errno = -report;
    return -1;
  }
  return 0;
}

int crio_setns(int fd, int type) { return setns(fd, type); }

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct crio_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

int crio_idmapped_clone(const char *source, int userns_fd, int recursive) {
  unsigned int flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, flags);
  if (tree < 0) return -1;
  struct crio_mount_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)userns_fd;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) != 0) {
    int saved = errno;
    close(tree);
    errno = saved;
    return -1;
  }
  return tree;
}

int crio_attach_mount(int tree, const char *target) {
  return (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
}

#include <sys/stat.h>
#include <linux/stat.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int crio_is_mount_root(const char *path) {
  struct statx info;
  if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &info) != 0) return -1;
  if (!(info.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
    errno = ENOSYS;
    return -1;
  }
  return (info.stx_attributes & STATX_ATTR_MOUNT_ROOT) ? 1 : 0;
}

int crio_thread_set_effective_uid(uid_t uid) {
  // The raw system call changes the calling thread only; glibc's
  // seteuid would change every thread of the process.
  return (int)syscall(SYS_setresuid, (uid_t)-1, uid, (uid_t)-1);
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int crio_pidfd_open(pid_t pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

#include <malloc.h>

int crio_set_mmap_threshold(int bytes) {
  return mallopt(M_MMAP_THRESHOLD, bytes);
}
