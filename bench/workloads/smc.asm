; Self-modifying loop: every iteration patches the immediate of an instruction in its own body
; (as JITs, trampolines and some copy protections do), so the code page keeps being invalidated.
; 20000 iterations. Result: EBX = sum of 1..20000 = 200010000. Ends with HLT.
bits 32
org 0x1000

start:
    mov esp, 0x80000
    mov ecx, 20000
    xor ebx, ebx
.loop:
    mov [.patch + 1], ecx
.patch:
    mov eax, 0
    add ebx, eax
    dec ecx
    jnz .loop
    hlt
