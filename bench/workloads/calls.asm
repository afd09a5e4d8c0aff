; Call/return-heavy recursion: naive Fibonacci with the argument on the stack (cdecl-like
; frames with EBP), fib(24), twice. Result: EAX = fib(24) = 46368. Ends with HLT.
bits 32
org 0x1000

start:
    mov esp, 0x80000
    mov esi, 2
.rep:
    push 24
    call fib
    add esp, 4
    dec esi
    jnz .rep
    hlt

fib:
    push ebp
    mov ebp, esp
    push ebx
    mov eax, [ebp + 8]
    cmp eax, 2
    jb .done
    dec eax
    push eax
    call fib
    mov ebx, eax
    mov eax, [esp]
    dec eax
    mov [esp], eax
    call fib
    add esp, 4
    add eax, ebx
.done:
    pop ebx
    pop ebp
    ret
