/*
 * The real-CPU reference of the oracle: runs one instruction at a time natively, as 32-bit user
 * code on this host, and reports the complete resulting state. Built with `gcc -m32` by
 * reference.ts into test/oracle/.build/ (rebuilt whenever a source changes). The protocol, the
 * windows and the user-mode entry are core.h's, shared with the bare-metal harness (bare.c).
 *
 *   linux-runner < batch > results      run a batch (protocol in core.h)
 *   linux-runner --probe                print "oracle-native x87-fcs=F x87-fop=F x87-fdp=F x87-fds=F <vendor> <brand>":
 *                                       the host probe (F = 1 when stored as a P6 does)
 *
 * Host specifics:
 * - The windows are mapped once at fixed low addresses with MAP_FIXED_NOREPLACE.
 * - The 16-bit code segment is LDT entry 0, made with modify_ldt.
 * - Whatever the instruction does ends in a signal: the HLT filler traps with #GP wherever
 *   control lands, and the instruction itself may fault. The handler (on an alternate stack)
 *   copies registers, EFLAGS, selectors, trap number, error code, CR2 and the FSAVE image out of
 *   the signal context, then rewrites the context so that sigreturn resumes in run_case's
 *   epilogue with the runner's own registers. No siglongjmp: the kernel restores segments, flags
 *   and the signal mask for us.
 * - A watchdog (SIGALRM every second) ends a case that made no progress for three ticks.
 * - A case that loads the x87 state is run again (from its initial memory) when the thread was
 *   descheduled or took a watchdog signal while it ran: the kernel's save and restore of the
 *   x87 state then lose FIP/FCS/FOP/FDP/FDS (an AMD host's XSAVE stores them only with an
 *   unmasked exception pending, and the 64-bit kernel keeps no FCS/FDS), so FNSTENV/FNSAVE
 *   would store zeros where the FRSTOR image had pointers.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void die(const char *msg) {
  fprintf(stderr, "oracle-native: %s\n", msg);
  exit(2);
}

static void *core_alloc(uint32_t n) {
  void *p = malloc(n);
  if (!p) die("out of memory");
  return p;
}

uint8_t *outbuf;
uint32_t out_len, out_cap;

static void output_reserve(uint32_t n) {
  while (out_len + n > out_cap) {
    out_cap = out_cap ? out_cap * 2 : 1 << 20;
    outbuf = realloc(outbuf, out_cap);
    if (!outbuf) die("out of memory");
  }
}

/* Every page is compared: a user process cannot see which pages a case wrote. */
static int page_written(uint32_t k) {
  (void)k;
  return 1;
}

#include "core.h"

struct case_in cin;
uint32_t host_esp;
uint32_t host_gs, host_fs, host_ds, host_es, host_cs, host_ss;

/* Captured by the signal handler. */
static volatile sig_atomic_t in_test;
static volatile uint32_t serial, watchdog_seen, watchdog_ticks;
/* Watchdog signals taken inside a case (each one saved and restored the x87 state). */
static volatile uint32_t alarms_in_test;
static struct case_result res;
static uint32_t capture_fpu;

void run_case(void);
extern char resume_point[];
void sig_entry(int, siginfo_t *, void *);

__asm__(
  ".intel_syntax noprefix\n"
  ".text\n"
  ".globl run_case\n"
  "run_case:\n"
  "  pushad\n"
  "  mov [host_esp], esp\n"
  RUN_CASE_ENTRY
  ".globl resume_point\n"
  "resume_point:\n"
  "  popad\n"
  "  ret\n"
  /* Signal entry: the kernel set DS/ES to the user data segment but left FS/GS as the test had
     them; glibc needs its TLS selector in GS before any C code runs. */
  ".globl sig_entry\n"
  "sig_entry:\n"
  "  mov gs, ss:[host_gs]\n"
  "  mov fs, ss:[host_fs]\n"
  "  jmp c_handler\n"
  ".att_syntax prefix\n");

__attribute__((used, optimize("no-stack-protector"))) void c_handler(int sig, siginfo_t *si, void *vuc) {
  (void)si;
  ucontext_t *uc = vuc;
  greg_t *g = uc->uc_mcontext.gregs;
  if (!in_test) {
    if (sig == SIGALRM) return;
    static const char m[] = "oracle-native: fault outside a test case\n";
    write(2, m, sizeof m - 1);
    _exit(3);
  }
  if (sig == SIGALRM) {
    alarms_in_test++;
    /* A case is stuck only after three ticks without progress: a loaded machine can
       deschedule the runner for longer than one tick. */
    if (watchdog_seen != serial) { watchdog_seen = serial; watchdog_ticks = 0; return; }
    if (++watchdog_ticks < 3) return;
    res.status = ST_TIMEOUT;
  } else {
    res.status = ST_OK;
  }
  in_test = 0;
  res.sig = sig;
  res.trapno = g[REG_TRAPNO];
  res.err = g[REG_ERR];
  res.cr2 = uc->uc_mcontext.cr2;
  res.eip = g[REG_EIP];
  res.eflags = g[REG_EFL];
  res.regs[0] = g[REG_EAX]; res.regs[1] = g[REG_ECX]; res.regs[2] = g[REG_EDX]; res.regs[3] = g[REG_EBX];
  res.regs[4] = g[REG_ESP]; res.regs[5] = g[REG_EBP]; res.regs[6] = g[REG_ESI]; res.regs[7] = g[REG_EDI];
  res.gs = g[REG_GS]; res.fs = g[REG_FS]; res.es = g[REG_ES]; res.ds = g[REG_DS];
  res.cs = g[REG_CS]; res.ss = g[REG_SS];
  if (capture_fpu && uc->uc_mcontext.fpregs) memcpy(res.fpu, uc->uc_mcontext.fpregs, FPU_IMAGE);
  /* Resume in run_case's epilogue with the runner's registers. */
  g[REG_EIP] = (greg_t)(uintptr_t)resume_point;
  g[REG_ESP] = host_esp;
  g[REG_CS] = host_cs; g[REG_SS] = host_ss; g[REG_DS] = host_ds; g[REG_ES] = host_es;
  g[REG_FS] = host_fs; g[REG_GS] = host_gs;
  g[REG_EFL] = 0x202;
}

static void read_stdin(void) {
  size_t cap = 1 << 20, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (len == cap) { cap *= 2; buf = realloc(buf, cap); }
    if (!buf) die("out of memory");
    ssize_t n = read(0, buf + len, cap - len);
    if (n < 0) die("read failed");
    if (n == 0) break;
    len += (size_t)n;
  }
  inbuf = buf;
  in_len = (uint32_t)len;
}

static void map_windows(void) {
  for (uint32_t k = 0; k < n_pages; k++) {
    void *p = mmap((void *)(uintptr_t)pg[k].addr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || (uintptr_t)p != pg[k].addr) {
      fprintf(stderr, "oracle-native: cannot map window page 0x%x\n", pg[k].addr);
      exit(2);
    }
  }
}

/* Puts every page back to the current case's initial memory (before running it again). */
static void restore_initial(void) {
  for (uint32_t k = 0; k < n_pages; k++) {
    struct page *p = &pg[k];
    if (!same_bytes((void *)(uintptr_t)p->addr, p->initial, PAGE)) copy_bytes((void *)(uintptr_t)p->addr, p->initial, PAGE);
  }
}

/* Runs of an x87 case disturbed by the host before its result is taken as it is. */
#define MAX_FPU_RETRIES 4

/* Voluntary and involuntary context switches of this thread so far. */
static long context_switches(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru)) die("getrusage failed");
  return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void run_one(void) {
  uint32_t flags = read_case(&cin);
  capture_fpu = (flags & CF_FPU_CAPTURE) != 0;
  for (int attempt = 0;; attempt++) {
    uint32_t alarms = alarms_in_test;
    long switches = cin.fpu_load ? context_switches() : 0;
    memset(&res, 0, sizeof res);
    serial++;
    in_test = 1;
    run_case();
    /* A case may leave an unmasked exception pending: the next case starts from a clean FPU. */
    __asm__ volatile("fninit");
    if (!cin.fpu_load || res.status != ST_OK || attempt == MAX_FPU_RETRIES) break;
    if (alarms_in_test == alarms && context_switches() == switches) break;
    restore_initial();
  }
  write_result(&res, capture_fpu);
}

/*
 * What this processor stores as x87 FCS, FOP, FDP and FDS after a masked FADD m64: a P6 stores the
 * code selector, the opcode, the operand address and the data selector; newer Intel processors
 * may store zeros (CPUID.(7,0):EBX[13] deprecates FCS/FDS, EBX[6] keeps FDP only for unmasked
 * exceptions; FOP is kept only for unmasked exceptions unless IA32_MISC_ENABLE enables FOP
 * compatibility).
 */
static void probe_x87_pointers(int *fcs, int *fop, int *fdp, int *fds) {
  static double one = 1.0;
  uint8_t env[28];
  uint16_t cs, ds;
  __asm__ volatile("mov %%cs, %0\n mov %%ds, %1" : "=r"(cs), "=r"(ds));
  __asm__ volatile("fninit\n fld1\n faddl %1\n fnstenv %0\n fninit" : "=m"(env) : "m"(one));
  uint32_t csop, dptr, dsel;
  memcpy(&csop, env + 16, 4);
  memcpy(&dptr, env + 20, 4);
  memcpy(&dsel, env + 24, 4);
  *fdp = dptr == (uint32_t)(uintptr_t)&one;
  *fcs = (csop & 0xffff) == cs;
  *fop = (csop >> 16) != 0;
  *fds = (dsel & 0xffff) == ds;
}

/* The probe: proves that this program runs on the host's own processor and names it. */
static int probe(void) {
  int fcs, fop, fdp, fds;
  probe_x87_pointers(&fcs, &fop, &fdp, &fds);
  unsigned a, b, c, d;
  char vendor[13] = { 0 }, brand[49] = { 0 };
  __cpuid(0, a, b, c, d);
  memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4);
  __cpuid(0x80000000, a, b, c, d);
  if (a >= 0x80000004) {
    for (unsigned k = 0; k < 3; k++) {
      __cpuid(0x80000002 + k, a, b, c, d);
      memcpy(brand + 16 * k, &a, 4); memcpy(brand + 16 * k + 4, &b, 4);
      memcpy(brand + 16 * k + 8, &c, 4); memcpy(brand + 16 * k + 12, &d, 4);
    }
  }
  printf("oracle-native x87-fcs=%d x87-fop=%d x87-fdp=%d x87-fds=%d %s %s\n", fcs, fop, fdp, fds, vendor, brand);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--probe") == 0) return probe();
  read_stdin();
  uint32_t n_cases = read_header();
  map_windows();
  /* The 16-bit code segment in LDT entry 0 (the VM mirrors it; layout.ts MIRROR_LDT). */
  struct user_desc ldt;
  memset(&ldt, 0, sizeof ldt);
  ldt.entry_number = 0;
  ldt.limit = 0xffff;
  ldt.contents = MODIFY_LDT_CONTENTS_CODE;
  if (syscall(SYS_modify_ldt, 1, &ldt, sizeof ldt) != 0) die("modify_ldt failed (needed for the 16-bit code segment)");

  __asm__ volatile("mov %%gs, %0" : "=r"(host_gs));
  __asm__ volatile("mov %%fs, %0" : "=r"(host_fs));
  __asm__ volatile("mov %%ds, %0" : "=r"(host_ds));
  __asm__ volatile("mov %%es, %0" : "=r"(host_es));
  __asm__ volatile("mov %%cs, %0" : "=r"(host_cs));
  __asm__ volatile("mov %%ss, %0" : "=r"(host_ss));
  host_gs &= 0xffff; host_fs &= 0xffff; host_ds &= 0xffff; host_es &= 0xffff; host_cs &= 0xffff; host_ss &= 0xffff;

  static uint8_t altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  if (sigaltstack(&ss, 0)) die("sigaltstack failed");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = sig_entry;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  /* A watchdog tick must not interrupt the handler while it rewrites the context. */
  sigaddset(&sa.sa_mask, SIGALRM);
  int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM };
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
    if (sigaction(sigs[k], &sa, 0)) die("sigaction failed");
  }
  /* ORACLE_NATIVE_TICK_US shortens the watchdog tick (tests: many cases see a signal). */
  const char *tick = getenv("ORACLE_NATIVE_TICK_US");
  long us = tick ? strtol(tick, 0, 10) : 0;
  struct itimerval it = { { 1, 0 }, { 1, 0 } };
  if (us > 0) it.it_interval = it.it_value = (struct timeval){ us / 1000000, us % 1000000 };
  setitimer(ITIMER_REAL, &it, 0);

  for (uint32_t c = 0; c < n_cases; c++) run_one();

  size_t off = 0;
  while (off < out_len) {
    ssize_t n = write(1, outbuf + off, out_len - off);
    if (n <= 0) die("write failed");
    off += (size_t)n;
  }
  return 0;
}
