// Linux calls and headers that Swift's Glibc module leaves out.
#include <stddef.h>
#include <sys/xattr.h>
// Readiness (epoll, eventfd) and DirectoryWatch (inotify): not in Swift's Glibc module.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

// unshare(2) and sethostname(2) need _GNU_SOURCE, which the Glibc module is
// not built with; thin wrappers in CSupport.c are compiled with it.
int crio_unshare(int flags);
int crio_sethostname(const char *name, size_t length);
// syncfs(2), _GNU_SOURCE too: the clean shutdown file is written only after
// the storage's file system was synced.
int crio_syncfs(int fd);

// Sets IFF_UP on the loopback interface of the calling thread's network
// namespace (ioctl is variadic, which Swift cannot call). 0 or -1 with errno.
int crio_loopback_up(void);

#include <spawn.h>
// posix_spawn_file_actions_addclosefrom_np (glibc 2.34), a GNU extension:
// closes every descriptor from `from` up in the child.
int crio_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);
/// A child that starts with every signal at its default action and none
/// blocked, whatever its parent ignores or blocks (a signalfd, SIGPIPE).
int crio_spawnattr_clean_signals(posix_spawnattr_t *attributes);
// posix_spawn_file_actions_addchdir_np (glibc 2.29): the child's working directory.
int crio_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

#include <sys/types.h>

// TIOCSWINSZ on a terminal (ioctl is variadic). 0 or -1 with errno.
int crio_set_window_size(int fd, unsigned short rows, unsigned short columns);

// A new pseudo-terminal pair (close-on-exec): 0, or -1 with errno.
int crio_open_pty(int *master, int *slave);

// Connects to 127.0.0.1:port inside the network namespace at
// `namespace_path` (a pinned netns file), from a short-lived thread that
// alone enters the namespace. A connected TCP socket or -1 with errno.
int crio_connect_in_network_namespace(const char *namespace_path, unsigned short port);

// User namespaces. crio_userns_fork forks a child that unshares its user
// namespace and reports back: the caller then writes /proc/<pid>/uid_map
// and gid_map (it has CAP_SETUID where the child does not). Returns the
// child's PID and sets *channel, or -1 with errno. Closing the channel
// ends the child; /proc/<pid>/ns/user stays usable until then.
pid_t crio_userns_fork(int *channel);
// Once the maps are written: has the child unshare `flags` (namespaces
// then owned by its user namespace). The child keeps its namespaces until
// the channel is closed. 0 or -1 with errno.
int crio_userns_continue(int channel, int flags);
// setns(2) for the calling thread.
int crio_setns(int fd, int type);

// Idmapped mounts (Linux 5.12+): a detached clone of `source` whose IDs
// are mapped through the user namespace `userns_fd`; a mount fd, or -1
// with errno (EINVAL when the file system cannot be idmapped).
int crio_idmapped_clone(const char *source, int userns_fd, int recursive);
// Attaches a detached mount (from crio_idmapped_clone) on `target`.
int crio_attach_mount(int tree, const char *target);
// 1 when `path` is the root of a mount, 0 when not, -1 with errno.
int crio_is_mount_root(const char *path);
// Sets the calling thread's effective uid alone (setresuid(2) without
// glibc's all-threads broadcast). 0 or -1 with errno.
int crio_thread_set_effective_uid(uid_t uid);
// pidfd_open(2) (Linux 5.3): a descriptor that polls readable once `pid`
// has ended, child or not. Close-on-exec; -1 with errno.
int crio_pidfd_open(pid_t pid);

// Fixes glibc's mmap threshold (mallopt M_MMAP_THRESHOLD, which the Glibc
// module leaves out): allocations of `bytes` or more are mapped on their
// own and unmapped when freed. 1 on success, 0 on failure.
int crio_set_mmap_threshold(int bytes);
