/*
 * The in-guest benchmark's workload program (npm run bench:guest). Built on the host with
 * `gcc -m32 -static -O2` and packed into the bench initramfs as /bench/workloads; it only ever
 * runs inside a guest (the CI hosts cannot execute i386 code).
 *
 * usage: workloads SCALE [NAME,NAME,...|all]
 *
 * Each workload prints one start line and one end line on stdout (the serial console):
 *
 *   @wvb start NAME n=N
 *   @wvb end NAME OK|FAIL n=N mono_ns=T real_ns=T result=X [why=...]
 *
 * mono_ns and real_ns are the guest's own elapsed CLOCK_MONOTONIC and CLOCK_REALTIME times of
 * the work (read after the start line is written and before the end line is), so the host can
 * set them against its own timestamps of the two lines. Every workload checks its result; the
 * exit status is the number of workloads that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Iteration counts at --scale 1. */
#define COMPUTE_ITERS 125000000L /* 16 instructions per iteration at -O2: ~2 G guest instructions */
#define CALLS_ITERS 78000000L
#define MEMCPY_BYTES (64 * 1024)
#define MEMCPY_ITERS 300000L
#define GETPPID_ITERS 1000000L
#define PAGEFAULT_PAGES_PER_ROUND 1024L
#define PAGEFAULT_ROUNDS 100L
#define FORK_ITERS 1000L
#define PIPE_ITERS 10000L
#define SIGFPE_ITERS 30000L

static double scale = 1.0;

/* Writes a formatted line with one write(2) (no stdio buffering between the lines). */
static void emit(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(1, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += w;
  }
}

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A workload's outcome: a result value to print and, when it failed, why. */
struct outcome {
  uint64_t result;
  const char *why; /* NULL: OK */
};

/* ---- 1. integer compute ------------------------------------------------------------------
 * A xorshift32 generator and a 32-bit LCG stepped together, with the LCG multiplying the
 * xorshift output into a running mix. Both generators have closed forms for n steps (xorshift32
 * is linear over GF(2), the LCG is affine), so the final states are checked against a jump-ahead
 * computed in O(log n); the mix is printed. */

static uint32_t xorshift32(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/* A 32x32 bit matrix over GF(2): column j is the image of bit j. */
typedef struct { uint32_t col[32]; } bitmat;

static uint32_t bm_apply(const bitmat *m, uint32_t v) {
  uint32_t r = 0;
  for (int j = 0; j < 32; j++)
    if (v >> j & 1) r ^= m->col[j];
  return r;
}

static bitmat bm_mul(const bitmat *a, const bitmat *b) { /* a after b */
  bitmat r;
  for (int j = 0; j < 32; j++) r.col[j] = bm_apply(a, b->col[j]);
  return r;
}

/* xorshift32 applied n times, by squaring its matrix. */
static uint32_t xorshift32_jump(uint32_t x, uint64_t n) {
  bitmat m, acc;
  for (int j = 0; j < 32; j++) {
    m.col[j] = xorshift32(1u << j);
    acc.col[j] = 1u << j;
  }
  for (; n; n >>= 1) {
    if (n & 1) acc = bm_mul(&m, &acc);
    m = bm_mul(&m, &m);
  }
  return bm_apply(&acc, x);
}

#define LCG_A 1664525u
#define LCG_C 1013904223u

/* s -> A*s + C applied n times: compose the affine maps by squaring. */
static uint32_t lcg_jump(uint32_t s, uint64_t n) {
  uint32_t a = LCG_A, c = LCG_C, ra = 1, rc = 0;
  for (; n; n >>= 1) {
    if (n & 1) {
      rc = a * rc + c;
      ra = a * ra;
    }
    c = a * c + c;
    a = a * a;
  }
  return ra * s + rc;
}

static struct outcome w_compute(long n) {
  uint32_t x = 2463534242u, s = 12345u, mix = 0;
  for (long i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s = s * LCG_A + LCG_C;
    mix = (mix ^ x) + s;
  }
  struct outcome o = { ((uint64_t)x << 32) | (mix ^ s), NULL };
  if (x != xorshift32_jump(2463534242u, n)) o.why = "xorshift state differs from its jump-ahead";
  else if (s != lcg_jump(12345u, n)) o.why = "LCG state differs from its jump-ahead";
  return o;
}

/* ---- 2. call/return ----------------------------------------------------------------------- */

/* noipa: no inlining, cloning or interprocedural constant propagation: a real call each time. */
__attribute__((noipa)) static uint32_t callee(uint32_t i) { return i * 3 + 1; }

static struct outcome w_calls(long n) {
  uint32_t sum = 0;
  for (long i = 0; i < n; i++) sum += callee((uint32_t)i);
  /* sum of 3i+1 for i < n, mod 2^32 */
  uint64_t nn = (uint64_t)n;
  uint32_t expect = (uint32_t)(3 * (nn * (nn - 1) / 2) + nn);
  struct outcome o = { sum, sum == expect ? NULL : "sum of the callee's results is wrong" };
  return o;
}

/* ---- 3. memcpy with rep movsl ------------------------------------------------------------- */

static uint32_t copy_src[MEMCPY_BYTES / 4], copy_dst[MEMCPY_BYTES / 4];

static void rep_movsl(void *dst, const void *src, unsigned long words) {
  __asm__ volatile("cld\n\trep movsl" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
}

static struct outcome w_memcpy(long n) {
  struct outcome o = { 0, NULL };
  for (unsigned k = 0; k < MEMCPY_BYTES / 4; k++) copy_src[k] = k * 2654435761u;
  for (long i = 0; i < n; i++) {
    copy_src[0] = (uint32_t)i;
    copy_src[MEMCPY_BYTES / 4 - 1] = ~(uint32_t)i;
    rep_movsl(copy_dst, copy_src, MEMCPY_BYTES / 4);
    if (copy_dst[0] != (uint32_t)i || copy_dst[MEMCPY_BYTES / 4 - 1] != ~(uint32_t)i) {
      o.why = "destination ends differ after a copy";
      return o;
    }
  }
  if (memcmp(copy_dst, copy_src, MEMCPY_BYTES) != 0) o.why = "destination differs from the source";
  o.result = (uint64_t)n * MEMCPY_BYTES;
  return o;
}

/* ---- 4. getppid through libc -------------------------------------------------------------- */

static struct outcome w_getppid(long n) {
  pid_t first = getppid();
  long same = 0;
  for (long i = 0; i < n; i++) same += getppid() == first;
  struct outcome o = { (uint64_t)first, same == n ? NULL : "getppid changed" };
  return o;
}

/* ---- 5. page faults ------------------------------------------------------------------------ */

static struct outcome w_pagefault(long rounds) {
  struct outcome o = { 0, NULL };
  const long pages = PAGEFAULT_PAGES_PER_ROUND, page = 4096;
  for (long r = 0; r < rounds; r++) {
    unsigned char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      o.why = "mmap failed";
      return o;
    }
    /* The word written lands at a different offset in each page. */
    for (long k = 0; k < pages; k++) *(volatile uint32_t *)(p + k * page + (k % 1024) * 4) = (uint32_t)(r << 16 | k);
    for (long k = 0; k < pages; k++) {
      if (*(volatile uint32_t *)(p + k * page + (k % 1024) * 4) != (uint32_t)(r << 16 | k) || p[k * page + ((k + 1) % 1024) * 4] != 0) {
        o.why = "a page does not hold what was written";
        munmap(p, pages * page);
        return o;
      }
    }
    if (munmap(p, pages * page) != 0) {
      o.why = "munmap failed";
      return o;
    }
    o.result += (uint64_t)pages;
  }
  return o;
}

/* ---- 6. fork + wait ------------------------------------------------------------------------- */

static struct outcome w_fork(long n) {
  struct outcome o = { 0, NULL };
  for (long k = 0; k < n; k++) {
    pid_t pid = fork();
    if (pid < 0) {
      o.why = "fork failed";
      return o;
    }
    if (pid == 0) _exit((int)(k & 0x7f));
    int status;
    if (waitpid(pid, &status, 0) != pid) {
      o.why = "waitpid failed";
      return o;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != (k & 0x7f)) {
      o.why = "wrong exit status";
      return o;
    }
    o.result += (uint64_t)WEXITSTATUS(status);
  }
  return o;
}

/* ---- 7. pipe ping-pong ---------------------------------------------------------------------- */

static int read1(int fd, unsigned char *b) {
  for (;;) {
    ssize_t r = read(fd, b, 1);
    if (r == 1) return 0;
    if (r < 0 && errno == EINTR) continue;
    return -1;
  }
}

static struct outcome w_pipe(long n) {
  struct outcome o = { 0, NULL };
  int there[2], back[2];
  if (pipe(there) || pipe(back)) {
    o.why = "pipe failed";
    return o;
  }
  pid_t pid = fork();
  if (pid < 0) {
    o.why = "fork failed";
    return o;
  }
  if (pid == 0) {
    /* The echo: returns each byte plus one, until the pipe closes. */
    close(there[1]);
    close(back[0]);
    unsigned char b;
    while (read1(there[0], &b) == 0) {
      b = (unsigned char)(b + 1);
      if (write(back[1], &b, 1) != 1) _exit(2);
    }
    _exit(0);
  }
  close(there[0]);
  close(back[1]);
  for (long k = 0; k < n && !o.why; k++) {
    unsigned char b = (unsigned char)(k * 7), r;
    if (write(there[1], &b, 1) != 1) o.why = "write to the pipe failed";
    else if (read1(back[0], &r) != 0) o.why = "read from the pipe failed";
    else if (r != (unsigned char)(b + 1)) o.why = "the echoed byte is wrong";
    else o.result += r;
  }
  close(there[1]);
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    if (!o.why) o.why = "the echo process did not exit cleanly";
  close(back[0]);
  return o;
}

/* ---- 8. SIGFPE ------------------------------------------------------------------------------ */

static sigjmp_buf fpe_env;
static volatile long fpe_count;

static void on_fpe(int sig) {
  (void)sig;
  fpe_count++;
  siglongjmp(fpe_env, 1);
}

static struct outcome w_sigfpe(long n) {
  struct outcome o = { 0, NULL };
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fpe;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGFPE, &sa, &old) != 0) {
    o.why = "sigaction failed";
    return o;
  }
  fpe_count = 0;
  volatile int zero = 0, dividend = 1000;
  volatile long survived = 0;
  for (volatile long k = 0; k < n; k++) {
    if (sigsetjmp(fpe_env, 1) == 0) {
      survived += dividend / zero; /* idiv by zero: #DE, delivered as SIGFPE */
      survived++;
    }
  }
  sigaction(SIGFPE, &old, NULL);
  o.result = (uint64_t)fpe_count;
  if (fpe_count != n || survived != 0) o.why = "the handler did not run once per division";
  return o;
}

/* --------------------------------------------------------------------------------------------- */

struct workload {
  const char *name;
  long base;
  struct outcome (*fn)(long);
};

static const struct workload workloads[] = {
  { "compute", COMPUTE_ITERS, w_compute },
  { "calls", CALLS_ITERS, w_calls },
  { "memcpy", MEMCPY_ITERS, w_memcpy },
  { "getppid", GETPPID_ITERS, w_getppid },
  { "pagefault", PAGEFAULT_ROUNDS, w_pagefault },
  { "fork", FORK_ITERS, w_fork },
  { "pipe", PIPE_ITERS, w_pipe },
  { "sigfpe", SIGFPE_ITERS, w_sigfpe },
};

static int selected(const char *list, const char *name) {
  if (!list || !strcmp(list, "all") || !*list) return 1;
  size_t len = strlen(name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == len && !strncmp(p, name, len)) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) scale = strtod(argv[1], NULL);
  if (!(scale > 0)) {
    emit("@wvb error bad scale \"%s\"", argc > 1 ? argv[1] : "");
    return 100;
  }
  const char *only = argc > 2 ? argv[2] : "all";
  int failed = 0, ran = 0;
  for (unsigned i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
    const struct workload *w = &workloads[i];
    if (!selected(only, w->name)) continue;
    long n = (long)(w->base * scale + 0.5);
    if (n < 1) n = 1;
    emit("@wvb start %s n=%ld", w->name, n);
    int64_t m0 = now_ns(CLOCK_MONOTONIC), r0 = now_ns(CLOCK_REALTIME);
    struct outcome o = w->fn(n);
    int64_t m1 = now_ns(CLOCK_MONOTONIC), r1 = now_ns(CLOCK_REALTIME);
    emit("@wvb end %s %s n=%ld mono_ns=%lld real_ns=%lld result=%llu%s%s", w->name, o.why ? "FAIL" : "OK", n, (long long)(m1 - m0),
         (long long)(r1 - r0), (unsigned long long)o.result, o.why ? " why=" : "", o.why ? o.why : "");
    failed += o.why != NULL;
    ran++;
  }
  emit("@wvb summary ran=%d failed=%d", ran, failed);
  return failed;
}
