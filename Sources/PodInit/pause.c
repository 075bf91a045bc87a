// The pod's PID 1 when its containers share a PID namespace (CRI-O's and
// Kubernetes' "pause"): it reaps the orphans reparented to it and otherwise
// sleeps. It is compiled into a tiny static executable with no C library
// (see Plugins/PodInitPlugin), so its root file system is this one file and
// nothing of the host (no loader, no libc) is reachable through
// /proc/1/{exe,root,map_files} from the pod's containers.
//
// It holds no descriptors (0, 1 and 2 are closed at once) and no handlers:
// every signal is blocked and taken synchronously, so a SIGCHLD reaps,
// SIGTERM and SIGINT end it (as Kubernetes' pause does), and the rest are
// left pending. SIGKILL from the host (the daemon stopping the pod) always
// ends it, and with it every process of the namespace.

#if defined(__x86_64__)
enum { SYS_close = 3, SYS_rt_sigprocmask = 14, SYS_wait4 = 61, SYS_rt_sigtimedwait = 128, SYS_exit_group = 231 };

static long system_call(long number, long a, long b, long c, long d) {
  long result;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return result;
}

// The kernel enters with the stack 16-byte aligned and no return address.
__asm__(".text\n.global _start\n_start:\n xor %rbp, %rbp\n and $-16, %rsp\n call pod_init_main\n hlt\n");
#elif defined(__aarch64__)
enum { SYS_close = 57, SYS_rt_sigprocmask = 135, SYS_rt_sigtimedwait = 137, SYS_wait4 = 260, SYS_exit_group = 94 };

static long system_call(long number, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}

__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n bl pod_init_main\n");
#else
#error "pod init: unsupported architecture"
#endif

enum { SIGINT = 2, SIGTERM = 15, SIGCHLD = 17, SIG_BLOCK = 0, WNOHANG = 1 };

__attribute__((noreturn, used)) void pod_init_main(void) {
  for (long fd = 0; fd < 3; fd++) system_call(SYS_close, fd, 0, 0, 0);
  unsigned long all = ~0UL;
  system_call(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, sizeof(all));
  unsigned long wanted = (1UL << (SIGCHLD - 1)) | (1UL << (SIGTERM - 1)) | (1UL << (SIGINT - 1));
  for (;;) {
    long signal = system_call(SYS_rt_sigtimedwait, (long)&wanted, 0, 0, sizeof(wanted));
    if (signal == SIGTERM || signal == SIGINT) system_call(SYS_exit_group, 0, 0, 0, 0);
    // Orphans of the pod's containers are reparented here: reap them all.
    while (system_call(SYS_wait4, -1, 0, WNOHANG, 0) > 0) {}
  }
}
