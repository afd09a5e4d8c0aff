; Triple-faults once, then on the second boot exits with isa-debug-exit 21 (status 43). It
; counts its boots in RAM above the image, which a reset keeps (on QEMU as on real hardware).
%include "multiboot.inc"
BOOTS equ 0x400000
MAGIC equ 0x7e5e7b00
start:
    mov eax, [BOOTS]
    cmp eax, MAGIC + 1
    je .second
    mov dword [BOOTS], MAGIC + 1
    mov esi, msg
    call puts
    lidt [null_idtr]
    int3
.second:
    mov al, 21
    out 0xf4, al
    jmp $
null_idtr: dw 0
    dd 0
msg: db "first boot", 10, 0
IMAGE_END
