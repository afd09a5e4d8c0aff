; CPUID, the time-stamp counter and MSRs (SDM vol. 2 CPUID/RDTSC/RDMSR/WRMSR; vol. 3, 17.17):
; the vendor and family/model/stepping, the features Linux needs for a 686 kernel (FPU DE PSE
; TSC MSR CX8 SEP PGE CMOV), the SYSENTER MSRs, the TSC counting on after a WRMSR to it, and
; CR4.TSD at CPL 3. (QEMU's TCG accepts unknown MSRs and keeps its own TSC arithmetic, so the
; #GP for a missing MSR and the value after WRMSR(TSC) are checked by
; test/unit/vmm/system-msr.test.ts instead.)
%include "boot.inc"

NEED_EDX equ (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15)

test_main:
    xor eax, eax
    cpuid
    mov [vendor], ebx
    mov [vendor + 4], edx
    mov [vendor + 8], ecx
    PRINT "vendor: "
    mov esi, vendor
    call puts
    mov eax, 1
    cpuid
    PRINT " signature="
    PRINTHEX 32, eax
    PRINT " needed features present="
    and edx, NEED_EDX
    cmp edx, NEED_EDX
    sete al
    PRINTHEX 8, eax
    NL

    PRINT "sysenter msrs:"
    mov esi, 0x174
.msr:
    mov ecx, esi
    mov eax, esi
    and eax, 0xFF
    shl eax, 8
    or eax, 0x5A                ; 16-bit values: QEMU keeps only a selector in SYSENTER_CS
    xor edx, edx
    wrmsr
    xor eax, eax
    mov edx, 0x77
    rdmsr
    PRINT " "
    PRINTHEX 32, eax
    PRINT "/"
    PRINTHEX 32, edx
    inc esi
    cmp esi, 0x177
    jb .msr
    NL

    mov ecx, 0x10
    xor edx, edx
    mov eax, 0x40000000
    wrmsr
    rdtsc
    mov ebx, eax
    mov edi, edx
    rdtsc
    PRINT "tsc: second read not below the first="
    sub eax, ebx
    sbb edx, edi
    setns cl
    PRINTHEX 8, ecx
    NL

    mov eax, cr4
    or eax, 4                   ; TSD
    mov cr4, eax
    PRINT "rdtsc at CPL 0 with TSD: "
    TRY .c
    rdtsc
    PRINT `ok\n`
    ENDTRY
.c:
    TRY .d
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.d:
    mov eax, cr4
    and eax, ~4
    mov cr4, eax
    ret

ring3:
    UPRINT "rdtsc at CPL 3 with TSD: "
    UTRY .a
    rdtsc
    UPRINT `ok\n`
.a:
    UPRINT "cpuid at CPL 3: "
    UTRY .b
    xor eax, eax
    cpuid
    UPRINT `ok\n`
.b:
    UEXIT

section .bss
vendor: resb 16
