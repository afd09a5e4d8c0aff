/*
 * no-ia32 COMMAND [ARGS...]: runs COMMAND as on a host whose kernel cannot run 32-bit x86
 * programs. A seccomp filter, inherited by every child, kills any process at its first 32-bit
 * system call (the i386 entry points: int 0x80, sysenter, the compat syscall), which every i386
 * program makes before it can print anything. 64-bit programs (node, gcc, qemu) are unaffected.
 *
 * It lets a developer on a host that does run i386 code check the paths taken where it cannot
 * (the oracle's probe choosing QEMU, the guest build's busybox fallback, the boot tier's
 * reference run): `bash test/setup/without-ia32.sh npm test`.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: no-ia32 COMMAND [ARGS...]\n");
    return 2;
  }
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
    perror("no-ia32: installing the seccomp filter");
    return 2;
  }
  execvp(argv[1], argv + 1);
  perror("no-ia32: exec");
  return 127;
}
