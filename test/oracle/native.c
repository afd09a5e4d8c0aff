/*
 * The real-CPU side of the oracle: runs one instruction at a time natively, as 32-bit user code
 * on this host, and reports the complete resulting state. Built with `gcc -m32` by native.ts
 * into test/oracle/.build/ (rebuilt whenever this file changes).
 *
 * Protocol (all little-endian u32 unless noted; see native.ts, which writes and reads it):
 *   stdin : batch header { magic 'ORC1', nCases, bgSeed, nWindows, { addr, size, kind } * n }
 *           then nCases case records (see struct layout in read_case()).
 *   stdout: one result record per case (see write_result()).
 *
 * How a case runs:
 * - The windows (code, data, stack pages) are mapped once at fixed low addresses with
 *   MAP_FIXED_NOREPLACE. Data windows get a deterministic pseudo-random background (xorshift32,
 *   mirrored by layout.ts); code windows are filled with HLT (F4).
 * - Per case: restore the windows the previous case touched from their master copies, apply
 *   the case's pokes, write the instruction bytes, keep a shadow copy of each poked window as
 *   the initial memory (the master serves for the others), then enter the instruction
 *   through run_case (asm below): FRSTOR (optional), POPFD, segment loads, all eight GPRs, JMP
 *   (a far JMP to LDT selector 0x07, a 16-bit code segment, for code16 cases).
 * - Whatever happens next raises a signal: the HLT filler traps with #GP wherever control lands
 *   (fall-through, branch target, return address), and the instruction itself may fault. The
 *   handler (on an alternate stack) copies registers, EFLAGS, segment selectors, trap number,
 *   error code, CR2 and the FSAVE image out of the signal context, then rewrites the context so
 *   that sigreturn resumes in run_case's epilogue with the runner's own registers. No
 *   siglongjmp: the kernel restores segments, flags and the signal mask for us.
 * - A watchdog (SIGALRM every second) ends a case that made no progress for three ticks.
 * - A case that loads the x87 state is run again (from its initial memory) when the thread was
 *   descheduled or took a watchdog signal while it ran: the kernel's save and restore of the
 *   x87 state then lose FIP/FCS/FOP/FDP/FDS (this AMD host's XSAVE stores them only with an
 *   unmasked exception pending, and the 64-bit kernel keeps no FCS/FDS), so FNSTENV/FNSAVE
 *   would store zeros where the FRSTOR image had pointers.
 * - Memory changes are reported as (address, new byte) pairs against the shadow copy.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
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

#define MAGIC 0x3143524fu /* 'ORC1' */
#define MAX_WINDOWS 16
#define MAX_CODE 32
#define MAX_DIFFS 16384
#define FPU_IMAGE 108

#define CF_FPU_LOAD 1u
#define CF_FPU_CAPTURE 2u
#define CF_CODE16 4u

/* LDT entry 0: a 16-bit code segment (base 0, limit 0xFFFF), selector 0x07. */
#define CODE16_SEL 0x07

#define ST_OK 0u
#define ST_TIMEOUT 1u
#define ST_DIFF_OVERFLOW 2u

struct window {
  uint32_t addr, size, kind; /* kind 0 = data (random background), 1 = code (HLT filler) */
  uint8_t *master, *shadow;
  /* The mapped bytes may differ from the master (poked or written by the last case). */
  int dirty;
  /* The initial state of the current case: the shadow copy if poked, else the master. */
  const uint8_t *initial;
};

static struct window win[MAX_WINDOWS];
static uint32_t n_win;

/* ---------------------------------------------------------------- state shared with the asm */
/* Case input, read by run_case. Offsets are hard-coded in the asm: keep the order. */
struct case_in {
  uint32_t regs[8];   /* 0:  EAX ECX EDX EBX ESP EBP ESI EDI */
  uint32_t eflags;    /* 32 */
  uint32_t eip;       /* 36 */
  uint32_t ds, es, fs, gs; /* 40, 44, 48, 52 */
  uint32_t fpu_load;  /* 56 */
  uint8_t fpu[FPU_IMAGE]; /* 60 */
  uint32_t code16;    /* 168: enter through a far jump to the 16-bit code segment */
  uint32_t far_eip;   /* 172: far pointer for that jump */
  uint32_t far_cs;    /* 176 */
};
_Static_assert(__builtin_offsetof(struct case_in, eflags) == 32, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, eip) == 36, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, ds) == 40, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, fpu_load) == 56, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, fpu) == 60, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, code16) == 168, "asm offsets");
_Static_assert(__builtin_offsetof(struct case_in, far_eip) == 172, "asm offsets");
struct case_in cin;
uint32_t host_esp;
uint32_t host_gs, host_fs, host_ds, host_es, host_cs, host_ss;

/* Captured by the signal handler. */
static volatile sig_atomic_t in_test;
static volatile uint32_t serial, watchdog_seen, watchdog_ticks;
/* Watchdog signals taken inside a case (each one saved and restored the x87 state). */
static volatile uint32_t alarms_in_test;
static struct {
  uint32_t status, sig, trapno, err, cr2, eip, eflags;
  uint32_t regs[8];
  uint16_t gs, fs, es, ds, cs, ss;
  uint8_t fpu[FPU_IMAGE];
} res;
static uint32_t capture_fpu;

void run_case(void);
extern char resume_point[];
void sig_entry(int, siginfo_t *, void *);

/* Loads the case's flags, data segments and registers; the jump that follows is the caller's.
   From POPFD on no instruction may change flags; memory is reached through SS, which stays the
   flat user data segment while DS/ES/FS/GS take the case's selectors. */
#define LOAD_STATE \
  "  push dword ptr [cin+32]\n" \
  "  popfd\n" \
  "  mov es, ss:[cin+44]\n" \
  "  mov fs, ss:[cin+48]\n" \
  "  mov gs, ss:[cin+52]\n" \
  "  mov ds, ss:[cin+40]\n" \
  "  mov eax, ss:[cin+0]\n" \
  "  mov ecx, ss:[cin+4]\n" \
  "  mov edx, ss:[cin+8]\n" \
  "  mov ebx, ss:[cin+12]\n" \
  "  mov ebp, ss:[cin+20]\n" \
  "  mov esi, ss:[cin+24]\n" \
  "  mov edi, ss:[cin+28]\n" \
  "  mov esp, ss:[cin+16]\n"

__asm__(
  ".intel_syntax noprefix\n"
  ".text\n"
  ".globl run_case\n"
  "run_case:\n"
  "  pushad\n"
  "  mov [host_esp], esp\n"
  "  cmp dword ptr [cin+56], 0\n"
  "  je 1f\n"
  "  frstor [cin+60]\n"
  "1:\n"
  "  cmp dword ptr [cin+168], 0\n"
  "  jne 2f\n"
  LOAD_STATE
  "  jmp dword ptr ss:[cin+36]\n"
  "2:\n"
  LOAD_STATE
  "  jmp fword ptr ss:[cin+172]\n"
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

static void die(const char *msg) {
  fprintf(stderr, "oracle-native: %s\n", msg);
  exit(2);
}

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

/* ---------------------------------------------------------------- I/O helpers */
static uint8_t *inbuf;
static size_t in_len, in_pos;

static void read_all(void) {
  size_t cap = 1 << 20;
  inbuf = malloc(cap);
  for (;;) {
    if (in_len == cap) { cap *= 2; inbuf = realloc(inbuf, cap); }
    ssize_t n = read(0, inbuf + in_len, cap - in_len);
    if (n < 0) die("read failed");
    if (n == 0) break;
    in_len += (size_t)n;
  }
}

static uint32_t get32(void) {
  if (in_pos + 4 > in_len) die("truncated input");
  uint32_t v;
  memcpy(&v, inbuf + in_pos, 4);
  in_pos += 4;
  return v;
}

static void get_bytes(void *dst, size_t n) {
  if (in_pos + n > in_len) die("truncated input");
  memcpy(dst, inbuf + in_pos, n);
  in_pos += (n + 3) & ~(size_t)3;
}

static uint8_t *outbuf;
static size_t out_len, out_cap;

static void put32(uint32_t v) {
  if (out_len + 4 > out_cap) { out_cap = out_cap ? out_cap * 2 : 1 << 20; outbuf = realloc(outbuf, out_cap); }
  memcpy(outbuf + out_len, &v, 4);
  out_len += 4;
}

static void put_bytes(const void *src, size_t n) {
  while (out_len + n + 4 > out_cap) { out_cap = out_cap ? out_cap * 2 : 1 << 20; outbuf = realloc(outbuf, out_cap); }
  memcpy(outbuf + out_len, src, n);
  out_len += (n + 3) & ~(size_t)3;
}

/* ---------------------------------------------------------------- windows */
/* Same generator as layout.ts: xorshift32 per dword, seeded from the batch seed and address. */
static void fill_background(uint8_t *p, uint32_t addr, uint32_t size, uint32_t seed) {
  uint32_t x = (seed ^ (addr * 0x9e3779b9u)) | 1u;
  for (uint32_t i = 0; i < size; i += 4) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    memcpy(p + i, &x, 4);
  }
}

static void map_windows(uint32_t seed) {
  for (uint32_t k = 0; k < n_win; k++) {
    struct window *w = &win[k];
    void *p = mmap((void *)(uintptr_t)w->addr, w->size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || (uintptr_t)p != w->addr) {
      fprintf(stderr, "oracle-native: cannot map window 0x%x+0x%x\n", w->addr, w->size);
      exit(2);
    }
    w->master = malloc(w->size);
    w->shadow = malloc(w->size);
    if (w->kind == 1) memset(w->master, 0xf4, w->size);
    else fill_background(w->master, w->addr, w->size, seed);
    w->dirty = 1;
  }
}

static struct window *window_of(uint32_t addr, uint32_t len) {
  for (uint32_t k = 0; k < n_win; k++) {
    struct window *w = &win[k];
    if (addr >= w->addr && addr - w->addr + len <= w->size) return &win[k];
  }
  return 0;
}

static void poke(uint32_t addr, const uint8_t *bytes, uint32_t len) {
  struct window *w = window_of(addr, len);
  if (!w) {
    fprintf(stderr, "oracle-native: poke 0x%x+%u outside every window\n", addr, len);
    exit(2);
  }
  memcpy((void *)(uintptr_t)addr, bytes, len);
  w->dirty = 1;
}

/* ---------------------------------------------------------------- one case */
/* Runs of an x87 case disturbed by the host before its result is taken as it is. */
#define MAX_FPU_RETRIES 4

/* Voluntary and involuntary context switches of this thread so far. */
static long context_switches(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru)) die("getrusage failed");
  return ru.ru_nvcsw + ru.ru_nivcsw;
}

/* Puts every window back to the current case's initial memory (before running it again). */
static void restore_initial(void) {
  for (uint32_t k = 0; k < n_win; k++) {
    struct window *w = &win[k];
    if (memcmp((void *)(uintptr_t)w->addr, w->initial, w->size) != 0) memcpy((void *)(uintptr_t)w->addr, w->initial, w->size);
  }
}

static void run_one(void) {
  uint32_t rec_start = in_pos;
  uint32_t rec_len = get32();
  uint32_t flags = get32();
  memset(&cin, 0, sizeof cin);
  cin.eip = get32();
  cin.eflags = get32();
  for (int r = 0; r < 8; r++) cin.regs[r] = get32();
  uint32_t segs = get32();
  cin.ds = segs & 0xffff; cin.es = segs >> 16;
  segs = get32();
  cin.fs = segs & 0xffff; cin.gs = segs >> 16;
  uint32_t code_len = get32();
  uint8_t code[MAX_CODE];
  if (code_len > MAX_CODE) die("instruction too long");
  get_bytes(code, code_len);

  /* Only windows the previous case poked or changed need restoring. */
  for (uint32_t k = 0; k < n_win; k++) {
    if (win[k].dirty) memcpy((void *)(uintptr_t)win[k].addr, win[k].master, win[k].size);
    win[k].dirty = 0;
  }
  uint32_t n_pokes = get32();
  for (uint32_t p = 0; p < n_pokes; p++) {
    uint32_t addr = get32();
    uint32_t len = get32();
    uint8_t buf[4096];
    if (len > sizeof buf) die("poke too long");
    get_bytes(buf, len);
    poke(addr, buf, len);
  }
  poke(cin.eip, code, code_len);
  if (flags & CF_FPU_LOAD) {
    get_bytes(cin.fpu, FPU_IMAGE);
    cin.fpu_load = 1;
  }
  if (flags & CF_CODE16) {
    cin.code16 = 1;
    cin.far_eip = cin.eip;
    cin.far_cs = CODE16_SEL;
  }
  if (in_pos - rec_start != rec_len) die("case record length mismatch");
  capture_fpu = (flags & CF_FPU_CAPTURE) != 0;
  for (uint32_t k = 0; k < n_win; k++) {
    struct window *w = &win[k];
    if (w->dirty) memcpy(w->shadow, (void *)(uintptr_t)w->addr, w->size);
    w->initial = w->dirty ? w->shadow : w->master;
  }

  for (int attempt = 0;; attempt++) {
    uint32_t alarms = alarms_in_test;
    long switches = cin.fpu_load ? context_switches() : 0;
    memset(&res, 0, sizeof res);
    serial++;
    in_test = 1;
    run_case();
    if (cin.fpu_load || capture_fpu) __asm__ volatile("fninit");
    if (!cin.fpu_load || res.status != ST_OK || attempt == MAX_FPU_RETRIES) break;
    if (alarms_in_test == alarms && context_switches() == switches) break;
    restore_initial();
  }

  size_t start = out_len;
  put32(0); /* length, patched below */
  put32(res.status);
  put32(res.sig); put32(res.trapno); put32(res.err); put32(res.cr2);
  put32(res.eip); put32(res.eflags);
  for (int r = 0; r < 8; r++) put32(res.regs[r]);
  put32(res.gs | (uint32_t)res.fs << 16);
  put32(res.es | (uint32_t)res.ds << 16);
  put32(res.cs | (uint32_t)res.ss << 16);
  size_t count_at = out_len;
  put32(0);
  uint32_t n_diff = 0;
  for (uint32_t k = 0; k < n_win; k++) {
    const uint8_t *now = (const uint8_t *)(uintptr_t)win[k].addr;
    const uint8_t *was = win[k].initial;
    if (memcmp(now, was, win[k].size) == 0) continue;
    win[k].dirty = 1;
    for (uint32_t i = 0; i < win[k].size; i += 8) {
      if (memcmp(now + i, was + i, 8) == 0) continue;
      for (uint32_t j = i; j < i + 8; j++) {
        if (now[j] == was[j]) continue;
        if (n_diff == MAX_DIFFS) { res.status |= ST_DIFF_OVERFLOW; continue; }
        put32(win[k].addr + j);
        put32(now[j]);
        n_diff++;
      }
    }
  }
  memcpy(outbuf + count_at, &n_diff, 4);
  if (capture_fpu) put_bytes(res.fpu, FPU_IMAGE);
  memcpy(outbuf + start + 4, &res.status, 4);
  uint32_t len = (uint32_t)(out_len - start);
  memcpy(outbuf + start, &len, 4);
}

int main(void) {
  read_all();
  if (get32() != MAGIC) die("bad magic");
  uint32_t n_cases = get32();
  uint32_t seed = get32();
  n_win = get32();
  if (n_win > MAX_WINDOWS) die("too many windows");
  for (uint32_t k = 0; k < n_win; k++) {
    win[k].addr = get32();
    win[k].size = get32();
    win[k].kind = get32();
  }
  map_windows(seed);
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
