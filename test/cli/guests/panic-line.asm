; Prints a kernel's panic line on COM1 (no pvpanic), then exits through isa-debug-exit 3
; (status 7): a panic when the console is watched, an exit when it is not.
%include "multiboot.inc"
start:
    mov esi, msg
    call puts
    mov al, 3
    out 0xf4, al
    jmp $
msg: db "[    7.651234] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", 10, 0
IMAGE_END
