; Privilege transitions through the IDT and IRET (SDM vol. 3, 6.12 "Exception and Interrupt
; Handling", 5.8.x, IRET in vol. 2): ring 0 -> 3 by IRET (data segments whose DPL is below the
; new CPL become null), ring 3 -> 0 through DPL-3 interrupt and trap gates (stack switch from
; the TSS, frame contents, IF handling), the gate DPL check for INT n / INT3 / INTO, a
; not-present gate, and SYSENTER/SYSEXIT.
%include "boot.inc"

test_main:
    ; Vector 0x81: DPL-3 interrupt gate; 0x82: DPL-3 trap gate; 0x83: DPL-0 interrupt gate;
    ; 0x84: DPL-3 gate, not present. Vectors 3 and 4 (INT3, INTO) stay DPL 0.
    mov eax, 0x81
    mov ebx, frame_handler
    mov ecx, KCODE
    mov edx, 0xEE00
    call set_gate
    mov eax, 0x82
    mov edx, 0xEF00
    call set_gate
    mov eax, 0x83
    mov edx, 0x8E00
    call set_gate
    mov eax, 0x84
    mov edx, 0x6E00
    call set_gate

    PRINT `-- IRET to ring 3 with DS/ES = kernel data, FS = user data\n`
    TRY .r1
    call manual_iret
    ENDTRY
.r1:

    PRINT `-- SYSENTER/SYSEXIT\n`
    mov ecx, 0x174
    xor edx, edx
    mov eax, KCODE
    wrmsr
    mov ecx, 0x175
    mov eax, kstack0_top
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    TRY .r2
    mov eax, ring3_sysenter
    mov ecx, 0x202
    call enter_user
    ENDTRY
.r2:
    ret

; Like enter_user, but leaves DS/ES = kernel data and FS = user data for the IRET.
manual_iret:
    push ebp
    mov [user_ret_esp], esp
    push UDATA                  ; SS
    push ustack_top             ; ESP
    push 0x3202                 ; EFLAGS: IF, IOPL 3
    push UCODE
    push ring3_a
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ax, UDATA
    mov fs, ax
    iretd

ring3_a:
    UPRINT "ring 3: cs="
    mov eax, 0
    mov ax, cs
    UHEX eax
    UPRINT " ss="
    mov ax, ss
    UHEX eax
    UPRINT " ds="
    mov ax, ds
    UHEX eax
    UPRINT " es="
    mov ax, es
    UHEX eax
    UPRINT " fs="
    mov ax, fs
    UHEX eax
    UPRINT " eflags&3200="
    pushfd
    pop eax
    and eax, 0x3200
    UHEX eax
    UPRINT `\n`
    mov ax, UDATA
    mov ds, ax
    mov es, ax

    UPRINT "int 0x81 (interrupt gate): "
    mov eax, 0x11111111
    int 0x81
    UPRINT "int 0x82 (trap gate): "
    int 0x82
    UPRINT "back in ring 3, eax="
    UHEX eax
    UPRINT `\n`

    UPRINT "int 0x83 (DPL 0 gate): "
    UTRY .b
    int 0x83
    UPRINT `no fault\n`
.b:
    UPRINT "int 0x84 (not present): "
    UTRY .c
    int 0x84
    UPRINT `no fault\n`
.c:
    UPRINT "int3 (DPL 0 gate): "
    UTRY .d
    int3
    UPRINT `no fault\n`
.d:
    UPRINT "int 3 (DPL 0 gate): "
    UTRY .e
    int 3
    UPRINT `no fault\n`
.e:
    UPRINT "into with OF=0: "
    UTRY .f
    xor eax, eax
    into
    UPRINT `no trap\n`
.f:
    UPRINT "into with OF=1: "
    UTRY .g
    mov al, 0x7F
    add al, 1
    into
    UPRINT `no fault\n`
.g:
    UEXIT

; A DPL-3 gate's handler at CPL 0: shows the frame the processor built on the TSS stack.
frame_handler:
    push eax
    push ds
    push ebp
    mov ebp, esp                ; [ebp+12] EIP, +16 CS, +20 EFLAGS, +24 ESP, +28 SS
    mov ax, KDATA
    mov ds, ax
    PRINT "cpl0 cs="
    mov eax, 0
    mov ax, cs
    PRINTHEX 16, eax
    PRINT " ss="
    mov ax, ss
    PRINTHEX 16, eax
    PRINT " frame bytes="
    mov eax, kstack0_top
    sub eax, ebp
    sub eax, 12                 ; our three pushes
    PRINTHEX 8, eax
    PRINT " ret cs="
    PRINTHEX 16, [ebp + 16]
    PRINT " eflags&3200="
    mov eax, [ebp + 20]
    and eax, 0x3200
    PRINTHEX 16, eax
    PRINT " ss="
    PRINTHEX 16, [ebp + 28]
    PRINT " esp=top-"
    mov eax, ustack_top
    sub eax, [ebp + 24]
    PRINTHEX 8, eax
    PRINT " IF now="
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    PRINTHEX 8, eax
    NL
    pop ebp
    pop ds
    pop eax
    add eax, 0x11111111
    iretd

ring3_sysenter:
    mov ebp, esp
    mov ecx, esp
    mov edx, .after
    sysenter
.after:
    UPRINT "after sysexit: cs="
    mov eax, 0
    mov ax, cs
    UHEX eax
    UPRINT " ss="
    mov ax, ss
    UHEX eax
    UPRINT " esp restored="
    xor eax, eax
    cmp esp, ebp
    sete al
    UHEX eax
    UPRINT " eflags&200="
    pushfd
    pop eax
    and eax, 0x200
    UHEX eax
    UPRINT `\n`
    UEXIT

sysenter_entry:
    push eax
    PRINT "sysenter: cs="
    mov eax, 0
    mov ax, cs
    PRINTHEX 16, eax
    PRINT " ss="
    mov ax, ss
    PRINTHEX 16, eax
    PRINT " esp=top-"
    mov eax, kstack0_top
    sub eax, esp
    PRINTHEX 8, eax
    PRINT " IF="
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    PRINTHEX 8, eax
    NL
    pop eax
    sysexit
