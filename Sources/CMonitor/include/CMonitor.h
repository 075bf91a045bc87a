// Linux calls the pod monitor needs that Swift's Glibc module leaves out
// (signalfd's header) or that Swift cannot make (prctl is variadic, and the
// CMSG_* macros that pass descriptors over Unix sockets are not imported).
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/types.h>

// prctl(PR_SET_CHILD_SUBREAPER, 1): the container processes runc leaves
// behind become the monitor's children, so it reaps them and learns their
// exit status. 0 or -1 with errno.
int crio_monitor_set_subreaper(void);

// Receives one descriptor passed with SCM_RIGHTS on `socket` (runc's
// --console-socket hands over the terminal's master this way), made
// close-on-exec. The descriptor, or -1 with errno.
int crio_monitor_receive_fd(int socket);

// Sends `length` bytes with `count` descriptors attached (SCM_RIGHTS): a
// streaming exec's stdio, from the monitor to the daemon. Bytes sent, or
// -1 with errno.
long crio_monitor_send_fds(int socket, const void *bytes, unsigned long length, const int *fds, int count);
// Receives up to `length` bytes and up to `max` descriptors (made
// close-on-exec) into `fds`, setting `*received`. Bytes read, or -1.
long crio_monitor_receive_fds(int socket, void *bytes, unsigned long length, int *fds, int max, int *received);

// Blocks `signals` for the process and returns a non-blocking,
// close-on-exec signalfd for them; -1 with errno.
int crio_monitor_signalfd(const int *signals, int count);

// pipe2(O_CLOEXEC) and accept4, which need _GNU_SOURCE: no descriptor of
// one container may leak into runc started for another. 0 / a descriptor,
// or -1 with errno.
int crio_monitor_pipe(int fds[2]);
int crio_monitor_accept(int socket, int flags);
