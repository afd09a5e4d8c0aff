; Halts for good: HLT with interrupts off.
%include "multiboot.inc"
start:
    mov esi, msg
    call puts
    cli
    hlt
    jmp start
msg: db "halting", 10, 0
IMAGE_END
