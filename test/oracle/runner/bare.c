/*
 * The bare-metal reference of the oracle: a tiny multiboot kernel that qemu-system-i386 boots,
 * for hosts whose kernel cannot run 32-bit x86 programs (reference.ts builds it with gcc -m32
 * -ffreestanding and the linker script bare.ld). It hosts cases exactly as a 32-bit Linux
 * process hosts them on the real CPU (linux.c): at CPL 3, with paging, CS 0x23 / SS 0x2B, the
 * windows mapped as user pages at their linear addresses, the same GDT and LDT descriptors
 * (the batch carries them, from layout.ts), CR0.NE/WP/AM set, no I/O permission, and the same
 * user-mode entry sequence (core.h). Unlike a Linux process, it sees every exception first hand:
 * the vector, the error code, CR2 and the registers come straight from its IDT handler.
 *
 * Memory (guest-physical = linear for everything below):
 *   windows (from the batch)     user pages; every other page below 8 MiB is unmapped, so stray
 *                                accesses fault as they do in the VM and in a Linux process
 *   descriptor tables            supervisor pages (GDT, LDT and IDT at layout.ts's addresses)
 *   0x800000 ...                 this image (bare.ld): supervisor, except its .user pages
 *   12 MiB ... end of RAM        supervisor 4 MiB pages: the batch and the results
 * The batch and the result area are in a file that QEMU maps as guest RAM (memory-backend-file,
 * share=on): the host writes the batch before boot and reads the results after the exit, with
 * no device in between. The multiboot command line names the addresses: `in=H out=H end=H`.
 *   in : 'ORCB', length, then the batch (core.h's protocol)
 *   out: struct out_header (256 bytes), then the result records
 * The run ends by writing to the isa-debug-exit port 0xF4 (QEMU exits with status 2v+1):
 * v = 0 when every case ran, 1 on a harness error (out_header.msg says what). A case that left
 * the CPU in a state the harness cannot reset (QEMU can enter virtual-8086 mode through an IRET
 * at CPL 3, and keeps VIF/VIP from it, which no later IRET or POPF clears) ends the run early
 * (STATE_PARTIAL): the host boots the harness again for the cases after it.
 *
 * Which pages a case wrote is read from the dirty bits of the window PTEs (cleared before each
 * case), so only those pages are compared and restored: the emulated CPU then spends its time
 * on the cases, not on copying 40 KiB of windows per case.
 */
#include <stdint.h>

#define KCODE 0x08
#define KDATA 0x18
#define TSS_INDEX 8
#define LDT_INDEX 10
#define TSS_SEL (TSS_INDEX * 8)
#define LDT_SEL (LDT_INDEX * 8)
#define EXIT_PORT 0xf4

#define IN_MAGIC 0x4243524fu  /* 'ORCB' */
#define OUT_MAGIC 0x5243524fu /* 'ORCR' */
#define STATE_RUNNING 0u
#define STATE_DONE 1u
#define STATE_ERROR 2u
/* Stopped early: the cases before cases_done ran; the CPU may not be clean for the next one. */
#define STATE_PARTIAL 3u

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_D 0x040u
#define PTE_PS 0x080u

#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x00000010u

/* The result area's header, read by qemu.ts. */
struct out_header {
  uint32_t magic, state;
  /* Cases finished; while running, the index of the case under way. */
  uint32_t cases_done;
  uint32_t out_len;
  char msg[240];
};
_Static_assert(sizeof(struct out_header) == 256, "out_header layout");

static struct out_header *oh;
uint8_t *outbuf;
uint32_t out_len, out_cap;

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static __attribute__((noreturn)) void finish(uint32_t state) {
  oh->state = state;
  oh->out_len = out_len;
  outb(EXIT_PORT, state == STATE_ERROR ? 1 : 0);
  for (;;) __asm__ volatile("cli; hlt");
}

/* ---------------------------------------------------------------- messages */
static uint32_t msg_len;

static void msg_str(const char *s) {
  while (*s && msg_len < sizeof oh->msg - 1) oh->msg[msg_len++] = *s++;
  oh->msg[msg_len] = 0;
}

static void msg_hex(uint32_t v) {
  char b[11] = "0x";
  for (int k = 0; k < 8; k++) b[2 + k] = "0123456789abcdef"[(v >> (28 - 4 * k)) & 15];
  b[10] = 0;
  msg_str(b);
}

static __attribute__((noreturn)) void die(const char *msg) {
  msg_str(msg);
  finish(STATE_ERROR);
}

/* ---------------------------------------------------------------- what core.h needs */
#define POOL_SIZE (2u * 64u * 4096u)
static uint8_t pool[POOL_SIZE] __attribute__((aligned(4096)));
static uint32_t pool_used;

static void *core_alloc(uint32_t n) {
  n = (n + 15) & ~15u;
  if (n > POOL_SIZE - pool_used) die("out of memory for window copies");
  void *p = pool + pool_used;
  pool_used += n;
  return p;
}

static void output_reserve(uint32_t n) {
  if (n > out_cap - out_len) die("result area full");
}

static uint32_t *pte_of(uint32_t addr);

static int page_written(uint32_t k);

/* gcc may call these for struct copies and clears, even freestanding. */
void *memcpy(void *d, const void *s, uint32_t n) {
  uint8_t *x = d;
  const uint8_t *y = s;
  while (n--) *x++ = *y++;
  return d;
}

void *memset(void *d, int c, uint32_t n) {
  uint8_t *x = d;
  while (n--) *x++ = (uint8_t)c;
  return d;
}

#include "core.h"

static int page_written(uint32_t k) {
  return (*pte_of(pg[k].addr) & PTE_D) != 0;
}

/* ---------------------------------------------------------------- CPU structures */
struct tss {
  uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
  uint32_t es, cs, ss, ds, fs, gs, ldt;
  uint16_t trap, iomap;
};
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct __attribute__((packed)) pseudo_desc {
  uint16_t limit;
  uint32_t base;
};

static struct tss tss __attribute__((aligned(128)));
/* The IDT, at the place the batch gives (layout.ts IDT_ADDR: the VM's IDTR mirrors it). */
static uint32_t (*idt)[2];
/* The harness's own stack, and the one the CPU switches to for a trap from CPL 3 (TSS.ESP0). */
static uint8_t boot_stack[16384] __attribute__((aligned(16), used));
static uint8_t exc_stack[16384] __attribute__((aligned(16)));
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
/* Page tables for 0-8 MiB (windows, descriptor tables) and 8-12 MiB (this image). */
static uint32_t page_low[2][1024] __attribute__((aligned(4096)));
static uint32_t page_image[1024] __attribute__((aligned(4096)));

extern char __image_start[], __image_end[], __user_start[], __user_end[], isr_table[];

/* Case input, read by the CPL-3 entry; on a user page with the entry's stack. */
struct case_in cin __attribute__((section(".user_data")));
uint8_t user_stack[4096] __attribute__((section(".user_data"), aligned(16)));

static struct case_result res;
static volatile uint32_t in_test;
/* The last case trapped from virtual-8086 mode. */
static uint32_t cpu_unclean;
static uint32_t capture_fpu;
uint32_t host_esp;

void run_case(void);
void user_entry(void);
__attribute__((noreturn)) void resume_host(void);

/* ---------------------------------------------------------------- assembly */
__asm__(
  /* Multiboot v1 header: ELF image, no flags needed (the command line always comes). */
  ".section .multiboot, \"a\"\n"
  ".balign 4\n"
  ".long 0x1BADB002, 0, -0x1BADB002\n"
  ".text\n"
  ".globl _start\n"
  "_start:\n"
  "  cld\n"
  "  mov %eax, %esi\n"
  "  mov %ebx, %edi\n"
  "  mov $__bss_start, %edx\n"
  "1: cmp $__bss_end, %edx\n"
  "  jae 2f\n"
  "  movb $0, (%edx)\n"
  "  inc %edx\n"
  "  jmp 1b\n"
  "2: mov $boot_stack + 16384, %esp\n"
  "  push %edi\n"
  "  push %esi\n"
  "  call kmain\n"
  "3: hlt\n"
  "  jmp 3b\n"

  /* run_case: enters the case at CPL 3 through the user entry; returns when a trap ends it. */
  ".globl run_case\n"
  "run_case:\n"
  "  pushal\n"
  "  mov %esp, host_esp\n"
  "  mov $0x2b, %eax\n"
  "  mov %eax, %ds\n"
  "  mov %eax, %es\n"
  "  mov %eax, %fs\n"
  "  mov %eax, %gs\n"
  "  pushl $0x2b\n"
  "  pushl $user_stack + 4096\n"
  "  pushl $0x202\n"
  "  pushl $0x23\n"
  "  pushl $user_entry\n"
  "  iret\n"
  ".globl resume_host\n"
  "resume_host:\n"
  "  mov host_esp, %esp\n"
  "  popal\n"
  "  ret\n"

  /* One 16-byte stub per vector: a zero in place of the error code where the CPU pushes none,
     then the vector number. */
  ".balign 16\n"
  ".globl isr_table\n"
  "isr_table:\n"
  ".set vec, 0\n"
  ".rept 256\n"
  ".balign 16\n"
  ".if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17)\n"
  ".else\n"
  "  pushl $0\n"
  ".endif\n"
  "  pushl $vec\n"
  "  jmp isr_common\n"
  ".set vec, vec + 1\n"
  ".endr\n"
  "isr_common:\n"
  "  cld\n" /* the case may have left DF set; C code needs it clear */
  "  pushal\n"
  "  xor %eax, %eax\n"
  "  mov %ds, %ax\n"
  "  push %eax\n"
  "  mov %es, %ax\n"
  "  push %eax\n"
  "  mov %fs, %ax\n"
  "  push %eax\n"
  "  mov %gs, %ax\n"
  "  push %eax\n"
  "  mov $0x18, %eax\n"
  "  mov %eax, %ds\n"
  "  mov %eax, %es\n"
  "  mov %eax, %fs\n"
  "  mov %eax, %gs\n"
  "  push %esp\n"
  "  call c_trap\n"
  "4: hlt\n"
  "  jmp 4b\n"

  /* The CPL-3 side: the entry sequence every reference shares (core.h). */
  ".section .user_text, \"ax\"\n"
  ".intel_syntax noprefix\n"
  ".globl user_entry\n"
  "user_entry:\n"
  RUN_CASE_ENTRY
  ".att_syntax prefix\n"
  ".text\n");

/* What isr_common leaves on the stack. esp/ss exist for traps from CPL 3 only, v86_* for traps
   from virtual-8086 mode (which a reference should never enter from a case, but QEMU can). */
struct frame {
  uint32_t gs, fs, es, ds;
  uint32_t edi, esi, ebp, esp_kernel, ebx, edx, ecx, eax;
  uint32_t vector, err;
  uint32_t eip, cs, eflags, esp, ss;
  uint32_t v86_es, v86_ds, v86_fs, v86_gs;
};

#define EFLAGS_VM 0x20000u

static inline uint32_t read_cr2(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

__attribute__((used, noreturn)) void c_trap(struct frame *f) {
  int v86 = (f->eflags & EFLAGS_VM) != 0;
  if (!in_test || ((f->cs & 3) != 3 && !v86)) {
    msg_str("exception ");
    msg_hex(f->vector);
    msg_str(" err ");
    msg_hex(f->err);
    msg_str(" at ");
    msg_hex(f->cs & 0xffff);
    msg_str(":");
    msg_hex(f->eip);
    msg_str(" cr2 ");
    msg_hex(read_cr2());
    die(" outside a test case");
  }
  res.status = ST_OK;
  res.sig = 0;
  res.trapno = f->vector;
  res.err = f->err;
  res.cr2 = read_cr2();
  res.eip = f->eip;
  res.eflags = f->eflags;
  res.regs[0] = f->eax; res.regs[1] = f->ecx; res.regs[2] = f->edx; res.regs[3] = f->ebx;
  res.regs[4] = f->esp; res.regs[5] = f->ebp; res.regs[6] = f->esi; res.regs[7] = f->edi;
  res.gs = f->gs; res.fs = f->fs; res.es = f->es; res.ds = f->ds;
  if (v86) {
    res.gs = f->v86_gs; res.fs = f->v86_fs; res.es = f->v86_es; res.ds = f->v86_ds;
    cpu_unclean = 1;
  }
  res.cs = f->cs & 0xffff; res.ss = f->ss & 0xffff;
  if (capture_fpu) __asm__ volatile("fnsave %0" : "=m"(res.fpu));
  __asm__ volatile("fninit");
  in_test = 0;
  resume_host();
}

/* ---------------------------------------------------------------- setup */
static uint32_t parse_hex(const char *s) {
  uint32_t v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
  for (;; s++) {
    char c = *s;
    uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10) : 99;
    if (d == 99) return v;
    v = v << 4 | d;
  }
}

/* The value of `key=` in the multiboot command line, or 0. */
static uint32_t cmdline_value(const char *cmd, const char *key) {
  for (const char *p = cmd; *p; p++) {
    if (p != cmd && p[-1] != ' ') continue;
    const char *k = key, *q = p;
    while (*k && *q == *k) { k++; q++; }
    if (!*k && *q == '=') return parse_hex(q + 1);
  }
  return 0;
}

static void set_desc(uint8_t *gdt, uint32_t index, uint32_t base, uint32_t limit, uint32_t access) {
  uint8_t *d = gdt + index * 8;
  d[0] = limit & 0xff; d[1] = (limit >> 8) & 0xff;
  d[2] = base & 0xff; d[3] = (base >> 8) & 0xff; d[4] = (base >> 16) & 0xff;
  d[5] = access;
  d[6] = (limit >> 16) & 0x0f;
  d[7] = base >> 24;
}

static uint32_t *pte_of(uint32_t addr) {
  if (addr >= 0x800000) die("a window or table lies above 8 MiB");
  return &page_low[addr >> 22][(addr >> 12) & 1023];
}

/* Page tables: windows user, descriptor tables and this image supervisor (its .user pages
   user), the rest of RAM supervisor 4 MiB pages; everything else below 12 MiB unmapped. */
static void build_paging(uint32_t ram_end) {
  page_dir[0] = (uint32_t)page_low[0] | PTE_P | PTE_RW | PTE_US;
  page_dir[1] = (uint32_t)page_low[1] | PTE_P | PTE_RW | PTE_US;
  page_dir[2] = (uint32_t)page_image | PTE_P | PTE_RW | PTE_US;
  for (uint32_t d = 3; d < 1024 && (d << 22) < ram_end; d++) page_dir[d] = (d << 22) | PTE_P | PTE_RW | PTE_PS;
  if ((uint32_t)__image_end > 0xc00000) die("harness image larger than 4 MiB");
  for (uint32_t a = (uint32_t)__image_start & ~0xfffu; a < (uint32_t)__image_end; a += 4096) {
    uint32_t user = a >= (uint32_t)__user_start && a < (uint32_t)__user_end ? PTE_US : 0;
    page_image[(a >> 12) & 1023] = a | PTE_P | PTE_RW | user;
  }
  for (uint32_t k = 0; k < n_pages; k++) *pte_of(pg[k].addr) = pg[k].addr | PTE_P | PTE_RW | PTE_US;
  for (uint32_t k = 0; k < n_tables; k++) {
    for (uint32_t a = tables[k].addr & ~0xfffu; a < tables[k].addr + tables[k].size; a += 4096) {
      uint32_t *e = pte_of(a);
      if (*e & PTE_US) die("a descriptor table shares a page with a window");
      *e = a | PTE_P | PTE_RW;
    }
  }
  uint32_t cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE));
  __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir));
  __asm__ volatile("mov %0, %%cr0" : : "r"(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG));
}

/* Installs the batch's GDT and LDT, adds the harness's TSS (index 8) and the LDT descriptor
   (index 10) where the host's GDT has them, and loads everything. */
static void install_tables(void) {
  uint8_t *gdt = 0;
  uint32_t gdt_size = 0, ldt_addr = 0, ldt_size = 0;
  for (uint32_t k = 0; k < n_tables; k++) {
    copy_bytes((void *)tables[k].addr, tables[k].bytes, tables[k].size);
    if (tables[k].kind == TABLE_GDT) { gdt = (uint8_t *)tables[k].addr; gdt_size = tables[k].size; }
    else if (tables[k].kind == TABLE_LDT) { ldt_addr = tables[k].addr; ldt_size = tables[k].size; }
    else if (tables[k].kind == TABLE_IDT && tables[k].size == 256 * 8) idt = (uint32_t (*)[2])tables[k].addr;
    else die("unknown descriptor table kind");
  }
  if (!gdt || !ldt_size || !idt) die("the batch lacks the GDT, the LDT or a 256-gate IDT");
  if (gdt_size < (LDT_INDEX + 1) * 8) die("GDT too small for the TSS and LDT slots");
  const uint8_t zero[8] = { 0 };
  if (!same_bytes(gdt + TSS_INDEX * 8, zero, 8) || !same_bytes(gdt + LDT_INDEX * 8, zero, 8)) die("GDT slots 8 and 10 must be free");
  /* The harness runs on the host's kernel code and data descriptors. */
  if (gdt[KCODE + 5] != 0x9b || (gdt[KCODE + 6] & 0x60) != 0x40 || gdt[KDATA + 5] != 0x93) die("GDT lacks flat kernel code 0x08 / data 0x18");
  tss.ss0 = KDATA;
  tss.esp0 = (uint32_t)exc_stack + sizeof exc_stack;
  tss.iomap = sizeof tss; /* no I/O bitmap: every port faults at CPL 3 */
  set_desc(gdt, TSS_INDEX, (uint32_t)&tss, sizeof tss - 1, 0x89);
  set_desc(gdt, LDT_INDEX, ldt_addr, ldt_size - 1, 0x82);
  for (uint32_t v = 0; v < 256; v++) {
    uint32_t handler = (uint32_t)isr_table + 16 * v;
    /* As Linux: INT3, INTO and INT 0x80 may be used from user mode. */
    uint32_t dpl = v == 3 || v == 4 || v == 0x80 ? 3 : 0;
    idt[v][0] = (KCODE << 16) | (handler & 0xffff);
    idt[v][1] = (handler & 0xffff0000) | 0x8e00 | (dpl << 13);
  }
  struct pseudo_desc g = { (uint16_t)(gdt_size - 1), (uint32_t)gdt };
  struct pseudo_desc i = { 256 * 8 - 1, (uint32_t)idt };
  __asm__ volatile(
    "lgdt %0\n"
    "ljmp $0x08, $1f\n"
    "1: mov $0x18, %%eax\n"
    "mov %%eax, %%ds\n"
    "mov %%eax, %%es\n"
    "mov %%eax, %%ss\n"
    "mov %%eax, %%fs\n"
    "mov %%eax, %%gs\n"
    "lidt %1\n"
    : : "m"(g), "m"(i) : "eax", "memory");
  __asm__ volatile("lldt %w0" : : "r"(LDT_SEL));
  __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

/* Clears the dirty bits of the window pages (and their cached TLB entries). */
static void clear_dirty(void) {
  for (uint32_t k = 0; k < n_pages; k++) *pte_of(pg[k].addr) &= ~PTE_D;
  __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
}

__attribute__((used)) void kmain(uint32_t magic, const uint32_t *mbi) {
  /* Mask both PICs: the BIOS left the timer running, and a case runs with IF = 1. */
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  const char *cmd = magic == 0x2BADB002 && (mbi[0] & 4) ? (const char *)mbi[4] : "";
  uint32_t in = cmdline_value(cmd, "in"), out = cmdline_value(cmd, "out"), end = cmdline_value(cmd, "end");
  if (!out || out >= end) for (;;) __asm__ volatile("cli; hlt"); /* nowhere to report: qemu.ts times out */
  oh = (struct out_header *)out;
  oh->magic = OUT_MAGIC;
  oh->state = STATE_RUNNING;
  oh->cases_done = 0;
  oh->out_len = 0;
  oh->msg[0] = 0;
  outbuf = (uint8_t *)out + sizeof *oh;
  out_cap = end - out - sizeof *oh;
  const uint32_t *envelope = (const uint32_t *)in;
  if (!in || envelope[0] != IN_MAGIC) die("no batch at in=");
  inbuf = (const uint8_t *)(envelope + 2);
  in_len = envelope[1];
  uint32_t n_cases = read_header();
  build_paging(end);
  install_tables();
  __asm__ volatile("fninit");
  for (uint32_t c = 0; c < n_cases; c++) {
    oh->cases_done = c;
    uint32_t flags = read_case(&cin);
    capture_fpu = (flags & CF_FPU_CAPTURE) != 0;
    for (uint32_t i = 0; i < sizeof res; i++) ((uint8_t *)&res)[i] = 0;
    clear_dirty();
    in_test = 1;
    run_case();
    write_result(&res, capture_fpu);
    if (cpu_unclean) {
      oh->cases_done = c + 1;
      finish(STATE_PARTIAL);
    }
  }
  oh->cases_done = n_cases;
  finish(STATE_DONE);
}
