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

// Blocks `signals` for the process and returns a non-blocking,
// close-on-exec signalfd for them; -1 with errno.
int crio_monitor_signalfd(const int *signals, int count);

// pipe2(O_CLOEXEC) and accept4, which need _GNU_SOURCE: no descriptor of
// one container may leak into runc started for another. 0 / a descriptor,
// or -1 with errno.
int crio_monitor_pipe(int fds[2]);
int crio_monitor_accept(int socket, int flags);
