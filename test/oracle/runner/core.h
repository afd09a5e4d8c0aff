/*
 * The oracle runners' shared core: the batch protocol and the memory windows, written once for
 * both references that run a case on an x86 processor.
 *
 *   linux.c  the real CPU: a 32-bit Linux process (gcc -m32) on a host that executes i386 code;
 *   bare.c   a bare-metal harness (multiboot, CPL 0 kernel, cases at CPL 3 with paging) that
 *            qemu-system-i386 boots, for hosts that cannot run 32-bit code natively.
 *
 * Both run a case the same way: the windows (code, data, stack pages) sit at the same linear
 * addresses as in the VM, the case's pokes and instruction bytes go over their background, and
 * the same user-mode entry sequence (RUN_CASE_ENTRY below) loads the x87 image, EFLAGS (with
 * POPFD at CPL 3), the data segments and the eight GPRs, and jumps to the instruction. Whatever
 * happens next raises an exception (the code windows are full of HLT, which faults at CPL 3),
 * and the host side records the complete state at that point into `res`.
 *
 * Protocol (little-endian u32 unless noted; test/oracle/protocol.ts writes and reads it):
 *   batch : magic 'ORC2', nCases, bgSeed, nWindows, { addr, size, kind } * nWindows,
 *           nTables, { kind, addr, size, bytes (padded to 4) } * nTables   (descriptor tables,
 *           kind 0 = GDT, 1 = LDT, 2 = IDT (its place and size; the harness makes the gates):
 *           the bare harness installs them; the Linux runner has the host's, which they mirror),
 *           then nCases case records (read_case).
 *   result: one record per case (write_result).
 *
 * The including file provides, before `#include "core.h"`:
 *   static void die(const char *msg);              reports a harness error and stops
 *   static void *core_alloc(uint32_t n);           memory for window copies (never freed)
 *   static void output_reserve(uint32_t n);        makes room for n more output bytes
 *   static int page_written(uint32_t k);           may the case have written page k (pg[k])?
 *   uint8_t *outbuf; uint32_t out_len, out_cap;    the output buffer
 */
#ifndef ORACLE_CORE_H
#define ORACLE_CORE_H

#include <stdint.h>

#define MAGIC 0x3243524fu /* 'ORC2' */
#define MAX_WINDOWS 16
#define PAGE 4096u
#define MAX_PAGES 64
#define MAX_TABLES 4
#define MAX_CODE 256
#define MAX_POKE 4096
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

/*
 * The windows, page by page: each page has a master copy (its background), and the state a case
 * starts from is the master plus the case's pokes (kept in `shadow` for the pages poked).
 */
struct page {
  uint32_t addr, kind; /* kind 0 = data (random background), 1 = code (HLT filler) */
  uint8_t *master, *shadow;
  /* The mapped bytes may differ from the master (poked or written by the last case). */
  int dirty;
  /* The initial state of the current case: the shadow copy if poked, else the master. */
  const uint8_t *initial;
};

#define TABLE_GDT 0u
#define TABLE_LDT 1u
#define TABLE_IDT 2u

struct table {
  uint32_t kind, addr, size;
  const uint8_t *bytes;
};

static struct page pg[MAX_PAGES];
static uint32_t n_pages;
static struct table tables[MAX_TABLES];
static uint32_t n_tables;

/* ---------------------------------------------------------------- state shared with the asm */
/* Case input, read by RUN_CASE_ENTRY. Offsets are hard-coded in the asm: keep the order. */
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

/* The state when the case stopped, filled by the host's exception path. */
struct case_result {
  uint32_t status, sig, trapno, err, cr2, eip, eflags;
  uint32_t regs[8];
  uint16_t gs, fs, es, ds, cs, ss;
  uint8_t fpu[FPU_IMAGE];
};

/*
 * The user-mode entry, at CPL 3 on both hosts: FRSTOR (if the case has an x87 image), POPFD,
 * the data segments, all eight GPRs, then a near JMP to the instruction (or a far JMP to the
 * 16-bit code segment). From POPFD on no instruction may change flags; memory is reached through
 * SS, which stays the flat user data segment while DS/ES/FS/GS take the case's selectors. `cin`
 * is the struct case_in symbol.
 */
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

#define RUN_CASE_ENTRY \
  "  cmp dword ptr [cin+56], 0\n" \
  "  je 1f\n" \
  "  frstor [cin+60]\n" \
  "1:\n" \
  "  cmp dword ptr [cin+168], 0\n" \
  "  jne 2f\n" \
  LOAD_STATE \
  "  jmp dword ptr ss:[cin+36]\n" \
  "2:\n" \
  LOAD_STATE \
  "  jmp fword ptr ss:[cin+172]\n"

/* ---------------------------------------------------------------- bytes */
static void copy_bytes(void *dst, const void *src, uint32_t n) {
  if ((((uintptr_t)dst | (uintptr_t)src | n) & 3) == 0) {
    uint32_t *d = dst;
    const uint32_t *s = src;
    for (uint32_t i = 0; i < n / 4; i++) d[i] = s[i];
    return;
  }
  uint8_t *d = dst;
  const uint8_t *s = src;
  while (n--) *d++ = *s++;
}

static int same_bytes(const void *a, const void *b, uint32_t n) {
  const uint8_t *x = a, *y = b;
  if ((((uintptr_t)x | (uintptr_t)y | n) & 3) == 0) {
    const uint32_t *p = a, *q = b;
    for (uint32_t i = 0; i < n / 4; i++) if (p[i] != q[i]) return 0;
    return 1;
  }
  for (uint32_t i = 0; i < n; i++) if (x[i] != y[i]) return 0;
  return 1;
}

/* ---------------------------------------------------------------- input and output */
static const uint8_t *inbuf;
static uint32_t in_len, in_pos;

static uint32_t get32(void) {
  if (in_pos + 4 > in_len) die("truncated input");
  uint32_t v;
  copy_bytes(&v, inbuf + in_pos, 4);
  in_pos += 4;
  return v;
}

/* The next n input bytes (padded to 4), in place. */
static const uint8_t *get_bytes(uint32_t n) {
  if (n > in_len || in_pos + n > in_len) die("truncated input");
  const uint8_t *p = inbuf + in_pos;
  in_pos += (n + 3) & ~3u;
  return p;
}

static void put32(uint32_t v) {
  output_reserve(4);
  copy_bytes(outbuf + out_len, &v, 4);
  out_len += 4;
}

static void put_bytes(const void *src, uint32_t n) {
  uint32_t padded = (n + 3) & ~3u;
  output_reserve(padded);
  copy_bytes(outbuf + out_len, src, n);
  for (uint32_t i = n; i < padded; i++) outbuf[out_len + i] = 0;
  out_len += padded;
}

/* ---------------------------------------------------------------- windows */
/* Same generator as layout.ts: xorshift32 per dword, seeded from the batch seed and the window
   address, running on through the window's pages (`x` carries the state from page to page). */
static void fill_background(uint8_t *p, uint32_t *x) {
  for (uint32_t i = 0; i < PAGE; i += 4) {
    *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5;
    copy_bytes(p + i, x, 4);
  }
}

/* Reads the batch header; returns the number of cases. Window pages get their master copies. */
static uint32_t read_header(void) {
  if (get32() != MAGIC) die("bad magic");
  uint32_t n_cases = get32();
  uint32_t seed = get32();
  uint32_t n_win = get32();
  if (n_win > MAX_WINDOWS) die("too many windows");
  for (uint32_t k = 0; k < n_win; k++) {
    uint32_t addr = get32(), size = get32(), kind = get32();
    if ((addr | size) & (PAGE - 1)) die("windows must be whole pages");
    uint32_t x = (seed ^ (addr * 0x9e3779b9u)) | 1u;
    for (uint32_t a = addr; a < addr + size; a += PAGE) {
      if (n_pages == MAX_PAGES) die("windows too large");
      struct page *p = &pg[n_pages++];
      p->addr = a;
      p->kind = kind;
      p->master = core_alloc(PAGE);
      p->shadow = core_alloc(PAGE);
      if (kind == 1) for (uint32_t i = 0; i < PAGE; i++) p->master[i] = 0xf4;
      else fill_background(p->master, &x);
      p->dirty = 1;
    }
  }
  n_tables = get32();
  if (n_tables > MAX_TABLES) die("too many descriptor tables");
  for (uint32_t k = 0; k < n_tables; k++) {
    tables[k].kind = get32();
    tables[k].addr = get32();
    tables[k].size = get32();
    tables[k].bytes = get_bytes(tables[k].size);
  }
  return n_cases;
}

static struct page *page_of(uint32_t addr) {
  for (uint32_t k = 0; k < n_pages; k++) {
    if (addr - pg[k].addr < PAGE) return &pg[k];
  }
  return 0;
}

/* Writes bytes into the windows (a poke may cross into the next page of a window). */
static void poke(uint32_t addr, const uint8_t *bytes, uint32_t len) {
  while (len) {
    struct page *p = page_of(addr);
    if (!p) die("poke outside every window");
    uint32_t n = PAGE - (addr - p->addr);
    if (n > len) n = len;
    copy_bytes((void *)(uintptr_t)addr, bytes, n);
    p->dirty = 1;
    addr += n; bytes += n; len -= n;
  }
}

/*
 * Reads one case record into `cin` and prepares memory: windows the previous case changed go
 * back to their masters, then the pokes and the instruction bytes; the windows' initial state
 * is kept for the comparison after the run. Returns the case flags (CF_*).
 */
static uint32_t read_case(struct case_in *cin) {
  uint32_t rec_start = in_pos;
  uint32_t rec_len = get32();
  uint32_t flags = get32();
  for (uint32_t i = 0; i < sizeof *cin; i++) ((uint8_t *)cin)[i] = 0;
  cin->eip = get32();
  cin->eflags = get32();
  for (int r = 0; r < 8; r++) cin->regs[r] = get32();
  uint32_t segs = get32();
  cin->ds = segs & 0xffff; cin->es = segs >> 16;
  segs = get32();
  cin->fs = segs & 0xffff; cin->gs = segs >> 16;
  uint32_t code_len = get32();
  if (code_len > MAX_CODE) die("instruction too long");
  const uint8_t *code = get_bytes(code_len);

  /* Only pages the previous case poked or changed need restoring. */
  for (uint32_t k = 0; k < n_pages; k++) {
    if (pg[k].dirty) copy_bytes((void *)(uintptr_t)pg[k].addr, pg[k].master, PAGE);
    pg[k].dirty = 0;
  }
  uint32_t n_pokes = get32();
  for (uint32_t p = 0; p < n_pokes; p++) {
    uint32_t addr = get32();
    uint32_t len = get32();
    if (len > MAX_POKE) die("poke too long");
    poke(addr, get_bytes(len), len);
  }
  poke(cin->eip, code, code_len);
  if (flags & CF_FPU_LOAD) {
    copy_bytes(cin->fpu, get_bytes(FPU_IMAGE), FPU_IMAGE);
    cin->fpu_load = 1;
  }
  if (flags & CF_CODE16) {
    cin->code16 = 1;
    cin->far_eip = cin->eip;
    cin->far_cs = CODE16_SEL;
  }
  if (in_pos - rec_start != rec_len) die("case record length mismatch");
  for (uint32_t k = 0; k < n_pages; k++) {
    struct page *p = &pg[k];
    if (p->dirty) copy_bytes(p->shadow, (void *)(uintptr_t)p->addr, PAGE);
    p->initial = p->dirty ? p->shadow : p->master;
  }
  return flags;
}

/* Writes the result record of one case: the state in `res` and every changed memory byte. */
static void write_result(struct case_result *res, int with_fpu) {
  uint32_t start = out_len;
  put32(0); /* length, patched below */
  put32(res->status);
  put32(res->sig); put32(res->trapno); put32(res->err); put32(res->cr2);
  put32(res->eip); put32(res->eflags);
  for (int r = 0; r < 8; r++) put32(res->regs[r]);
  put32(res->gs | (uint32_t)res->fs << 16);
  put32(res->es | (uint32_t)res->ds << 16);
  put32(res->cs | (uint32_t)res->ss << 16);
  uint32_t count_at = out_len;
  put32(0);
  uint32_t n_diff = 0;
  for (uint32_t k = 0; k < n_pages; k++) {
    const uint8_t *now = (const uint8_t *)(uintptr_t)pg[k].addr;
    const uint8_t *was = pg[k].initial;
    if (!page_written(k) || same_bytes(now, was, PAGE)) continue;
    pg[k].dirty = 1;
    for (uint32_t i = 0; i < PAGE; i += 8) {
      if (same_bytes(now + i, was + i, 8)) continue;
      for (uint32_t j = i; j < i + 8; j++) {
        if (now[j] == was[j]) continue;
        if (n_diff == MAX_DIFFS) { res->status |= ST_DIFF_OVERFLOW; continue; }
        put32(pg[k].addr + j);
        put32(now[j]);
        n_diff++;
      }
    }
  }
  copy_bytes(outbuf + count_at, &n_diff, 4);
  if (with_fpu) put_bytes(res->fpu, FPU_IMAGE);
  copy_bytes(outbuf + start + 4, &res->status, 4);
  uint32_t len = out_len - start;
  copy_bytes(outbuf + start, &len, 4);
}

#endif
