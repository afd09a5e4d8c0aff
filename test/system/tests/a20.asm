; @raw-real
; @needs a20
; The A20 gate (IBM PC/AT; PS/2 system control port A; the 8042's output port): with A20
; closed, physical address bit 20 is forced to 0, so FFFF:0510 (physical 100500h) is the byte
; at 0000:0500. The gate is opened and closed through port 92h bit 1 and through the 8042's
; "write output port" command (D1h, bit 1), each while the other source is closed, and read
; back through port 92h and the 8042's "read output port" command (D0h). Also a word access
; that straddles the 1 MiB boundary (FFFF:000F), whose high byte wraps to 0. (Only the gate's effect is
; compared with QEMU: the two sources are ORed on PIIX chipsets and in this VM, while QEMU lets
; the last write win; test/unit/vmm/a20.test.ts checks the OR.)
bits 16
org 0x7C00

start:
    cli
    cld
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ax, 0xFFFF
    mov es, ax                  ; ES:0510 = physical 100500h (0500h when A20 is closed)

    mov si, s_open
    call report                 ; the BIOS (or our reset state) left A20 open

    call kbc_close              ; close both sources
    in al, 0x92
    and al, 0xFC
    out 0x92, al
    mov si, s_closed
    call report

    call kbc_open
    mov si, s_kbc_open
    call report

    call kbc_close
    mov si, s_kbc_closed
    call report

    in al, 0x92
    or al, 0x02
    out 0x92, al
    mov si, s_92_open
    call report

    in al, 0x92
    and al, 0xFC
    out 0x92, al
    mov si, s_92_closed
    call report

    ; A word at FFFF:000F is bytes FFFFFh and 100000h: the second is 00000h with A20 closed.
    mov byte [0], 0x33
    mov ax, [es:0x000F]
    mov si, s_word
    call puts16
    mov al, ah
    call hex_al
    mov al, 10
    out 0xE9, al

    mov al, 0
    out 0xF4, al
    hlt

; Prints the string at SI, then "wraps=" (0/1), port 92h bit 1 and the 8042 output port's bit 1.
report:
    call puts16
    mov byte [0x500], 0x55
    mov byte [es:0x510], 0xAA
    mov al, [0x500]
    cmp al, 0xAA
    sete al
    call hex_al
    in al, 0x92
    shr al, 1
    and al, 1
    call hex_al
    call kbc_wait_in
    mov al, 0xD0
    out 0x64, al
.wait_out:
    in al, 0x64
    test al, 1
    jz .wait_out
    in al, 0x60
    shr al, 1
    and al, 1
    call hex_al
    mov al, 10
    out 0xE9, al
    ret

kbc_open:
    mov ah, 0xCF
    jmp kbc_write_outport
kbc_close:
    mov ah, 0xCD
kbc_write_outport:              ; output port = AH (bit 0, the reset line, stays 1)
    call kbc_wait_in
    mov al, 0xD1
    out 0x64, al
    call kbc_wait_in
    mov al, ah
    out 0x60, al
    call kbc_wait_in
    ret

kbc_wait_in:
    in al, 0x64
    test al, 2
    jnz kbc_wait_in
    ret

puts16:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts16
.done:
    ret

hex_al:                         ; AL as two hex digits and a space
    push ax
    shr al, 4
    call .nib
    pop ax
    push ax
    and al, 15
    call .nib
    mov al, ' '
    out 0xE9, al
    pop ax
    ret
.nib:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 7
.out:
    out 0xE9, al
    ret

s_open:       db 'at boot: ', 0
s_closed:     db 'both closed: ', 0
s_kbc_open:   db '8042 open: ', 0
s_kbc_closed: db '8042 closed: ', 0
s_92_open:    db '92h open: ', 0
s_92_closed:  db '92h closed: ', 0
s_word:       db 'high byte of the word at FFFF:000F with A20 closed: ', 0

times 510 - ($ - $$) db 0
dw 0xAA55
