; The local APIC (SDM vol. 3, chapter 10) as a P6-class processor has it, after the BIOS (virtual
; wire): CPUID.APIC and IA32_APIC_BASE; the register page's reset values; self-IPIs through the
; ICR (shorthand self, physical and logical destinations, all-excluding-self); IRR, ISR and PPR
; as an interrupt is accepted, in service and ended by EOI; the task priority holding back a
; lower class; a higher class nesting inside a handler while a lower one waits for the EOI;
; the timer one-shot and periodic, its current count counting down; and the 8259A's interrupts
; through LINT0 in ExtINT mode, held in the 8259A while LINT0 is masked and taken as soon as
; it is unmasked.
; @needs pic pit apic
%include "boot.inc"

APIC        equ 0xFEE00000
A_ID        equ APIC + 0x20
A_VER       equ APIC + 0x30
A_TPR       equ APIC + 0x80
A_PPR       equ APIC + 0xA0
A_EOI       equ APIC + 0xB0
A_LDR       equ APIC + 0xD0
A_DFR       equ APIC + 0xE0
A_SVR       equ APIC + 0xF0
A_ISR       equ APIC + 0x100
A_IRR       equ APIC + 0x200
A_ICR_LO    equ APIC + 0x300
A_ICR_HI    equ APIC + 0x310
A_LVT_TIMER equ APIC + 0x320
A_LVT_LINT0 equ APIC + 0x350
A_LVT_ERROR equ APIC + 0x370
A_INIT      equ APIC + 0x380
A_CUR       equ APIC + 0x390
A_DIV       equ APIC + 0x3E0

; Logs the vector and the ISR dword of vectors 60h-7Fh.. 80h-9Fh as seen by the handler.
%macro VEC_STUB 1
vec_%1:
    push eax
    mov eax, %1
    jmp log_vector
%endmacro

test_main:
    mov eax, 1
    cpuid
    PRINT "CPUID.APIC="
    shr edx, 9
    and edx, 1
    PRINTHEX 8, edx
    mov ecx, 0x1B
    rdmsr
    PRINT " IA32_APIC_BASE="
    PRINTHEX 32, edx
    PRINTHEX 32, eax
    NL
    PRINT "ID "
    PRINTHEX 32, [A_ID]
    PRINT " version "
    PRINTHEX 32, [A_VER]
    PRINT " TPR "
    PRINTHEX 32, [A_TPR]
    PRINT " PPR "
    PRINTHEX 32, [A_PPR]
    PRINT " LDR "
    PRINTHEX 32, [A_LDR]
    PRINT " DFR "
    PRINTHEX 32, [A_DFR]
    NL
    PRINT "LVT timer "
    PRINTHEX 32, [A_LVT_TIMER]
    PRINT " error "
    PRINTHEX 32, [A_LVT_ERROR]
    PRINT " initial "
    PRINTHEX 32, [A_INIT]
    PRINT " divide "
    PRINTHEX 32, [A_DIV]
    NL

    ; Gates for the vectors used below.
    mov esi, gate_list
.gates:
    mov eax, [esi]
    test eax, eax
    jz .gates_done
    mov ebx, [esi + 4]
    mov ecx, KCODE
    mov edx, 0x8E00
    call set_gate
    add esi, 8
    jmp .gates
.gates_done:

    ; A self-IPI with interrupts off waits in IRR; STI lets it in; the handler sees it in ISR
    ; and PPR at its class; EOI ends it.
    mov dword [A_ICR_LO], 0x00040040
    PRINT "self-IPI 40h pending: IRR[40h..5Fh]="
    PRINTHEX 32, [A_IRR + 0x20]
    NL
    call open_window
    call show_log

    ; TPR 50h holds back class 4; lowering it lets the interrupt in.
    mov dword [A_TPR], 0x50
    mov dword [A_ICR_LO], 0x00040041
    call open_window
    PRINT "TPR 50h: PPR="
    PRINTHEX 32, [A_PPR]
    PRINT " IRR[40h..5Fh]="
    PRINTHEX 32, [A_IRR + 0x20]
    NL
    call show_log
    mov dword [A_TPR], 0
    call open_window
    PRINT "TPR 0: "
    call show_log

    ; Vector 80h's handler sends 90h and 70h and opens a window: 90h nests, 70h waits.
    mov dword [A_ICR_LO], 0x00040080
    call open_window
    PRINT "nesting: "
    call show_log

    ; Destinations without a shorthand.
    mov dword [A_ICR_HI], 0x00000000        ; physical APIC ID 0: us
    mov dword [A_ICR_LO], 0x00000042
    mov dword [A_ICR_HI], 0x01000000        ; physical APIC ID 1: nobody
    mov dword [A_ICR_LO], 0x00000043
    mov dword [A_ICR_HI], 0xFF000000        ; broadcast
    mov dword [A_ICR_LO], 0x00000044
    mov dword [A_ICR_LO], 0x000C0045        ; all excluding self: nobody
    mov dword [A_LDR], 0x01000000           ; logical, flat model: bit 0 is us
    mov dword [A_ICR_HI], 0x01000000
    mov dword [A_ICR_LO], 0x00000846
    mov dword [A_ICR_HI], 0x02000000
    mov dword [A_ICR_LO], 0x00000847
    call open_window
    PRINT "destinations: "
    call show_log

    ; The timer, one-shot: 1 ms (1 GHz bus clock, divide by 1).
    mov dword [A_DIV], 0x0B
    mov dword [A_LVT_TIMER], 0x000000A0
    mov dword [A_INIT], 1000000
    sti
.wait_one:
    hlt
    cmp dword [timer_count], 0
    je .wait_one
    cli
    PRINT "one-shot: interrupts="
    PRINTHEX 32, [timer_count]
    PRINT " current count="
    PRINTHEX 32, [A_CUR]
    NL
    ; Periodic, 0.5 ms (divide by 2): five interrupts, then masked.
    mov dword [timer_count], 0
    mov dword [A_DIV], 0x00
    mov dword [A_LVT_TIMER], 0x000200A0
    mov dword [A_INIT], 250000
    sti
.wait_five:
    hlt
    cmp dword [timer_count], 5
    jb .wait_five
    cli
    mov dword [A_LVT_TIMER], 0x000300A0
    PRINT "periodic: LVT timer "
    PRINTHEX 32, [A_LVT_TIMER]
    PRINT " interrupts="
    PRINTHEX 32, [timer_count]
    NL
    ; The current count runs down from the initial count.
    mov dword [A_DIV], 0x0A                  ; divide by 128
    mov dword [A_INIT], 0x7FFFFFFF
    mov eax, [A_CUR]
    mov ecx, 1000
.spin:
    loop .spin
    mov ebx, [A_CUR]
    mov dword [A_INIT], 0                    ; stopped
    PRINT "count runs down: "
    cmp ebx, eax
    setb cl
    cmp eax, 0x7FFFFFFF
    setbe ch
    and cl, ch
    movzx ecx, cl
    PRINTHEX 8, ecx
    PRINT " stopped: "
    PRINTHEX 32, [A_CUR]
    NL

    ; The 8259A through LINT0 (ExtINT): IRQ 0 at vector 20h, PIT channel 0 at about 1 kHz.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    mov al, 0x34
    out 0x43, al
    mov al, 0xA9
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    sti
.wait_pic:
    hlt
    cmp dword [pic_count], 0
    je .wait_pic
    cli
    PRINT "8259A through LINT0: "
    PRINTHEX 32, [pic_count]
    ; Masked LINT0: with interrupts on, the next tick stays requested in the 8259A's IRR.
    mov eax, [A_LVT_LINT0]
    or eax, 0x10000
    mov [A_LVT_LINT0], eax
    mov dword [pic_count], 0
    mov al, 0x0A                            ; OCW3: reads of port 20h return IRR
    out 0x20, al
    sti
.wait_masked:
    in al, 0x20
    test al, 1
    jz .wait_masked
    cli
    PRINT " masked: "
    PRINTHEX 32, [pic_count]
    PRINT " IRR "
    PRINTHEX 8, eax
    mov eax, [A_LVT_LINT0]
    and eax, ~0x10000
    mov [A_LVT_LINT0], eax
    sti
    nop
    cli
    PRINT " unmasked: "
    cmp dword [pic_count], 0
    setne al
    movzx eax, al
    PRINTHEX 8, eax
    NL
    mov al, 0xFF
    out 0x21, al
    ret

; STI, a few instructions with interrupts on, CLI.
open_window:
    sti
    nop
    nop
    nop
    cli
    ret

; Prints and clears the log: "vector/ISR-bit-seen" entries.
show_log:
    push esi
    mov esi, 0
.next:
    cmp esi, [log_len]
    jae .done
    PRINTHEX 8, [log + esi]
    PRINT " "
    inc esi
    jmp .next
.done:
    mov dword [log_len], 0
    PRINT "| ISR in handler: "
    PRINTHEX 32, [isr_seen]
    PRINT " PPR in handler: "
    PRINTHEX 32, [ppr_seen]
    NL
    pop esi
    ret

log_vector:                             ; EAX = vector (pushed EAX on the stack)
    push ebx
    mov ebx, [log_len]
    mov [log + ebx], al
    inc dword [log_len]
    mov ebx, [A_PPR]
    mov [ppr_seen], ebx
    mov ebx, [A_ISR + 0x20]             ; vectors 40h-5Fh
    mov [isr_seen], ebx
    cmp al, 0x80
    jne .eoi
    ; 80h: send 90h (higher class: nests) and 70h (lower: waits for our EOI).
    mov dword [A_ICR_LO], 0x00040090
    mov dword [A_ICR_LO], 0x00040070
    sti
    nop
    nop
    cli
    mov ebx, [log_len]
    mov byte [log + ebx], 0xEE          ; the EOI of 80h comes here
    inc dword [log_len]
.eoi:
    mov dword [A_EOI], 0
    pop ebx
    pop eax
    iret

VEC_STUB 0x40
VEC_STUB 0x41
VEC_STUB 0x42
VEC_STUB 0x43
VEC_STUB 0x44
VEC_STUB 0x45
VEC_STUB 0x46
VEC_STUB 0x47
VEC_STUB 0x70
VEC_STUB 0x80
VEC_STUB 0x90

timer_handler:
    inc dword [timer_count]
    mov dword [A_EOI], 0
    iret

pic_handler:
    push eax
    inc dword [pic_count]
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

gate_list:
    dd 0x40, vec_0x40, 0x41, vec_0x41, 0x42, vec_0x42, 0x43, vec_0x43, 0x44, vec_0x44
    dd 0x45, vec_0x45, 0x46, vec_0x46, 0x47, vec_0x47, 0x70, vec_0x70, 0x80, vec_0x80
    dd 0x90, vec_0x90, 0xA0, timer_handler, 0x20, pic_handler, 0, 0

timer_count: dd 0
pic_count:   dd 0
log_len:     dd 0
isr_seen:    dd 0
ppr_seen:    dd 0
log:         times 32 db 0
