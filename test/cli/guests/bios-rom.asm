; A 64 KiB firmware image for `-bios` (QEMU's spelling): the CPU starts at F000:FFF0 with CS's
; base at FFFF0000h, so the first instructions run from the copy of the image just below 4 GiB;
; they read a marker through that copy and jump to the copy at F000:0000 (physical F0000h),
; which prints the reset state it found (EDX = the processor signature, CR0, EFLAGS, DS, SS:SP),
; compares the marker with its own copy, writes POST codes to port 80h and ends through
; isa-debug-exit with 7 (exit status 15).
bits 16
org 0

start:
    mov ebp, edx                    ; EDX at reset
    pushfd                          ; (SS:SP is 0000:0000 at reset: the push wraps to FFFC)
    pop edi
    mov al, 0x01
    out 0x80, al
    mov ax, cs
    mov ds, ax
    mov si, s_hello
    call puts
    mov eax, ebp
    call hex32
    mov si, s_cr0
    call puts
    mov eax, cr0
    call hex32
    mov si, s_flags
    call puts
    mov eax, edi
    call hex32
    mov si, s_marker
    call puts
    cmp ebx, [marker]               ; EBX was read through the high copy (reset stub)
    sete al
    add al, '0'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    mov al, 0x02
    out 0x80, al
    mov al, 7
    out 0xF4, al
    cli
    hlt

puts:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts
.done:
    ret

hex32:
    mov cx, 8
.digit:
    rol eax, 4
    push eax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 7
.out:
    out 0xE9, al
    pop eax
    loop .digit
    ret

s_hello:  db 'reset vector: EDX=', 0
s_cr0:    db ' CR0=', 0
s_flags:  db ' EFLAGS=', 0
s_marker: db ' high copy = low copy: ', 0

times 0xFF00 - ($ - $$) db 0
marker: db 'ROM!'

times 0xFFF0 - ($ - $$) db 0
reset:                              ; F000:FFF0, CS base FFFF0000h
    mov ebx, [cs:marker]            ; 66 2E 8B 1E 00 FF: through the copy below 4 GiB
    jmp 0xF000:start                ; EA 00 00 00 F0
times 0x10000 - ($ - $$) db 0
