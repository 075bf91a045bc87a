// Linux calls and headers that Swift's Glibc module leaves out.
#include <stddef.h>
#include <sys/xattr.h>

// unshare(2) and sethostname(2) need _GNU_SOURCE, which the Glibc module is
// not built with; thin wrappers in CSupport.c are compiled with it.
int crio_unshare(int flags);
int crio_sethostname(const char *name, size_t length);

// Sets IFF_UP on the loopback interface of the calling thread's network
// namespace (ioctl is variadic, which Swift cannot call). 0 or -1 with errno.
int crio_loopback_up(void);

#include <spawn.h>
// posix_spawn_file_actions_addclosefrom_np (glibc 2.34), a GNU extension:
// closes every descriptor from `from` up in the child.
int crio_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);
// posix_spawn_file_actions_addchdir_np (glibc 2.29): the child's working directory.
int crio_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

#include <sys/types.h>
// Unshares the PID namespace and forks the process that becomes its PID 1:
// a minimal init that reaps orphans and lives until SIGKILL/SIGTERM, so a
// pod's containers can share one PID namespace without an infra container.
// Returns the child's PID (in the caller's namespace), or -1 with errno.
pid_t crio_start_pid_namespace_init(void);

// TIOCSWINSZ on a terminal (ioctl is variadic). 0 or -1 with errno.
int crio_set_window_size(int fd, unsigned short rows, unsigned short columns);

// A new pseudo-terminal pair (close-on-exec): 0, or -1 with errno.
int crio_open_pty(int *master, int *slave);

// Connects to 127.0.0.1:port inside the network namespace at
// `namespace_path` (a pinned netns file), from a short-lived thread that
// alone enters the namespace. A connected TCP socket or -1 with errno.
int crio_connect_in_network_namespace(const char *namespace_path, unsigned short port);
