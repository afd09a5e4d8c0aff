; Virtual-8086 mode (SDM vol. 3, 20.2 "Virtual-8086 Mode", 20.3 interrupt and exception handling
; in it): entered by IRET with EFLAGS.VM set; real-mode style addressing; IN/OUT always consult
; the TSS I/O bitmap (even with IOPL 3); CLI, STI, PUSHF, POPF, INT n, IRET are IOPL-sensitive
; (#GP(0) below IOPL 3); HLT is always #GP(0); INT n with IOPL 3 goes through the IDT to a
; ring-0 handler, which sees a frame holding the v86 data segment registers, and IRET returns.
%include "boot.inc"

V86_BASE equ 0x8000             ; the 16-bit code runs from 0800:0000
MAP equ tss_main + 0x68

test_main:
    mov esi, v86_code
    mov edi, V86_BASE
    mov ecx, v86_end - v86_code
    rep movsb
    mov edi, MAP
    mov ecx, 8192 + 1
    mov al, 0xFF
    rep stosb
    and byte [MAP + 0xE9 / 8], ~(1 << (0xE9 & 7))
    mov ecx, 0x68 + 8192
    call reload_tr
    mov eax, 0x30
    mov ebx, int30_handler
    mov ecx, KCODE
    mov edx, 0xEE00
    call set_gate

    PRINT `-- IOPL 3\n`
    mov ebx, 0x00023202         ; VM, IOPL 3, IF
    mov eax, v86_iopl3 - v86_code
    call run_v86
    PRINT `-- IOPL 0\n`
    mov ebx, 0x00020002         ; VM, IOPL 0
    mov eax, v86_iopl0 - v86_code
    call run_v86
    PRINT "int 0x30 at IOPL 0: "
    mov ebx, 0x00020002
    mov eax, v86_int - v86_code
    call run_v86
    PRINT "pushf at IOPL 0: "
    mov ebx, 0x00020002
    mov eax, v86_pushf - v86_code
    call run_v86
    mov ecx, 0x67
    call reload_tr
    ret

; run_v86: EAX = IP in the 16-bit blob, EBX = EFLAGS. Returns when the v86 code faults on its
; final HLT (or anything else unexpected).
run_v86:
    TRY .done
    push dword 0                ; GS
    push dword 0                ; FS
    push dword 0x0900           ; DS
    push dword 0x0A00           ; ES
    push dword 0x0900           ; SS
    push dword 0x1000           ; ESP
    push ebx                    ; EFLAGS
    push dword V86_BASE >> 4    ; CS
    push eax                    ; EIP
    iretd
.done:
    ret

; INT 0x30 from v86 mode: the frame is EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
int30_handler:
    push ebp
    mov ebp, esp
    push eax
    push ebx
    xor ebx, ebx
    mov bx, ds                  ; the processor cleared DS, ES, FS, GS on the way in
    mov ax, KDATA
    mov ds, ax
    PRINT "int 0x30 from v86: cs="
    PRINTHEX 16, [ebp + 8]
    PRINT " eflags.VM="
    mov eax, [ebp + 12]
    shr eax, 17
    and eax, 1
    PRINTHEX 8, eax
    PRINT " ss:sp="
    PRINTHEX 16, [ebp + 20]
    PRINT ":"
    PRINTHEX 16, [ebp + 16]
    PRINT " es="
    PRINTHEX 16, [ebp + 24]
    PRINT " ds="
    PRINTHEX 16, [ebp + 28]
    PRINT " ds in the handler="
    PRINTHEX 16, ebx
    NL
    pop ebx
    pop eax
    pop ebp
    iretd

; ---------------------------------------------------------------------------- 16-bit code
bits 16
v86_code:
v86_iopl3:
    mov al, 'v'
    out 0xE9, al                ; allowed by the bitmap
    mov al, 10
    out 0xE9, al
    mov byte [0x10], 0x77       ; DS = 0900: linear 0x9010
    cli
    sti
    pushf
    popf
    int 0x30
    mov al, 'r'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    in al, 0x80                 ; denied by the bitmap although IOPL = 3
    hlt
v86_iopl0:
    mov al, '0'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    cli                         ; #GP(0) at IOPL 0
    hlt
v86_int:
    int 0x30
    hlt
v86_pushf:
    pushf
    hlt
v86_end:
bits 32
