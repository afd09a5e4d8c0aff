; 32-bit paging (SDM vol. 3, 4.3, 4.6 "Access Rights", 4.7 "Page-Fault Exceptions", 4.8
; "Accessed and Dirty Flags", 4.10.4 TLB invalidation): page faults from ring 0 and ring 3 with
; their error codes and CR2, CR0.WP, instruction fetch from a supervisor page, a fault on the
; second page of a crossing access, A and D in PTEs, PDEs and 4 MiB PDEs, INVLPG and CR3
; reloads making a changed PTE visible, and implicit supervisor accesses (GDT, IDT, TSS in
; supervisor pages) from ring 3. (Reserved-bit faults are in paging-rsvd.asm: QEMU reports them
; without the P bit.)
%include "boot.inc"

P   equ 1
RW  equ 2
US  equ 4
PS  equ 0x80

%macro ACCESS 2
    PRINT %1
    PRINT ": "
    TRY %%fault
    %2
    ENDTRY
    PRINT `ok\n`
%%fault:
%endmacro

%macro UACCESS 2
    UPRINT %1
    UPRINT ": "
    UTRY %%fault
    %2
    UPRINT `ok\n`
%%fault:
%endmacro


test_main:
    ; Identity map of 0..4 MiB, user read/write, except the pages holding the IDT, the TSS and
    ; a copy of the GDT, which are supervisor-only.
    xor ecx, ecx
.id:
    mov eax, ecx
    shl eax, 12
    or eax, P | RW | US
    mov [pt0 + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jb .id
    mov eax, idt
.sup:
    mov ecx, eax
    shr ecx, 12
    and dword [pt0 + ecx * 4], ~US
    add eax, 4096
    cmp eax, tss_main + 0x68 + 8193
    jb .sup
    mov ecx, gdt_copy
    shr ecx, 12
    and dword [pt0 + ecx * 4], ~US

    ; 4..8 MiB: test pages.
    mov dword [pt1 + 0 * 4], 0                              ; 0x400000 not present
    mov eax, page_a
    or eax, P | RW
    mov [pt1 + 1 * 4], eax                                  ; 0x401000 supervisor -> A
    mov eax, page_a
    or eax, P | US
    mov [pt1 + 2 * 4], eax                                  ; 0x402000 user read-only -> A
    mov eax, page_b
    or eax, P | RW | US
    mov [pt1 + 3 * 4], eax                                  ; 0x403000 user rw -> B, A/D clear
    mov eax, page_a
    or eax, P | RW | US
    mov [pt1 + 4 * 4], eax                                  ; 0x404000 user rw -> A (remapped later)
    mov dword [pt1 + 5 * 4], 0                              ; 0x405000 not present
    mov eax, sup_code
    or eax, P | RW
    mov [pt1 + 6 * 4], eax                                  ; 0x406000 supervisor code page

    mov eax, pt0
    or eax, P | RW | US
    mov [pd + 0], eax
    mov eax, pt1
    or eax, P | RW | US
    mov [pd + 4], eax
    mov dword [pd + 8], 0x800000 | PS | P | RW | US          ; 8..12 MiB: one 4 MiB page
    mov dword [page_a], 0x41414141
    mov dword [page_b], 0x42424242

    ; The GDT moves to a supervisor-only page.
    mov esi, gdt
    mov edi, gdt_copy
    mov ecx, GDT_ENTRIES * 2
    rep movsd
    mov dword [gdt_copy_desc + 2], gdt_copy
    lgdt [gdt_copy_desc]

    mov eax, pd
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                ; PSE
    mov cr4, eax
    mov eax, 0x80000011         ; PG, PE (WP clear)
    mov cr0, eax
    PRINT `paging on\n`

    PRINT `-- ring 0\n`
    ACCESS "read not-present", {mov eax, [0x400000]}
    ACCESS "write not-present", {mov dword [0x400010], 1}
    ACCESS "read supervisor page", {mov eax, [0x401000]}
    ACCESS "write user read-only page, WP=0", {mov byte [0x402004], 0x61}
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    ACCESS "write user read-only page, WP=1", {mov byte [0x402008], 0x62}
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax
    PRINT "page A now: "
    PRINTHEX 32, [page_a + 4]
    PRINTHEX 32, [page_a + 8]
    NL
    ACCESS "dword across into a not-present page", {mov eax, [0x404FFE]}
    ACCESS "write word across into a not-present page", {mov word [0x404FFF], 0}

    PRINT `-- 4 MiB pages\n`
    PRINT "pde A/D before: "
    mov eax, [pd + 8]
    and eax, 0x60
    PRINTHEX 8, eax
    mov eax, [0x9FFFF0]
    PRINT " after read: "
    mov eax, [pd + 8]
    and eax, 0x60
    PRINTHEX 8, eax
    mov dword [0x800000], 0x12345678
    PRINT " after write: "
    mov eax, [pd + 8]
    and eax, 0x60
    PRINTHEX 8, eax
    NL

    PRINT `-- INVLPG and CR3\n`
    PRINT "0x404000 reads "
    PRINTHEX 32, [0x404000]
    mov eax, page_b
    or eax, P | RW | US
    mov [pt1 + 4 * 4], eax
    invlpg [0x404000]
    PRINT ", after remap + invlpg "
    PRINTHEX 32, [0x404000]
    mov eax, page_a
    or eax, P | RW | US
    mov [pt1 + 4 * 4], eax
    mov eax, cr3
    mov cr3, eax
    PRINT ", after remap + CR3 reload "
    PRINTHEX 32, [0x404000]
    NL

    PRINT `-- ring 3\n`
    TRY .r3
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.r3:
    PRINT "pte 0x403000 A/D: "
    mov eax, [pt1 + 3 * 4]
    and eax, 0x60
    PRINTHEX 8, eax
    PRINT " pde 1 A: "
    mov eax, [pd + 4]
    and eax, 0x20
    PRINTHEX 8, eax
    NL
    mov eax, 0x11
    mov cr0, eax
    ret

ring3:
    UPRINT `implicit supervisor accesses (GDT, IDT, TSS) from ring 3: ok\n`
    UACCESS "read not-present", {mov eax, [0x400000]}
    UACCESS "write not-present", {mov dword [0x400010], 1}
    UACCESS "read supervisor page", {mov eax, [0x401000]}
    UACCESS "write supervisor page", {mov dword [0x401000], 1}
    UACCESS "read user read-only page", {mov eax, [0x402000]}
    UACCESS "write user read-only page", {mov dword [0x402000], 1}
    UACCESS "execute in a supervisor page", {call 0x406000}
    UACCESS "load DS from the supervisor GDT page", {mov ds, word [uds_sel]}
    mov eax, [pt1 + 3 * 4]
    and eax, 0x60
    UPRINT "pte A/D: "
    UHEX eax
    mov eax, [0x403000]
    mov eax, [pt1 + 3 * 4]
    and eax, 0x60
    UPRINT " after read: "
    UHEX eax
    mov dword [0x403004], 0
    mov eax, [pt1 + 3 * 4]
    and eax, 0x60
    UPRINT " after write: "
    UHEX eax
    UPRINT `\n`
    UEXIT

align 4096
sup_code:
    ret
align 4096

uds_sel: dw UDATA
gdt_copy_desc:
    dw GDT_ENTRIES * 8 - 1
    dd 0

section .bss
alignb 4096
pd:         resb 4096
pt0:        resb 4096
pt1:        resb 4096
gdt_copy:   resb 4096
page_a:     resb 4096
page_b:     resb 4096
