; Prints a line and spins for ever (for --timeout and signals).
%include "multiboot.inc"
start:
    mov esi, msg
    call puts
    jmp $
msg: db "spinning", 10, 0
IMAGE_END
