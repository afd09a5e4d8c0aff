; Integer compute workload: a sieve of Eratosthenes over a byte array, then a xorshift/multiply
; mixing loop over the primes found, in small functions with a few branches each -- the shape of
; ordinary compiled integer code. Result: EAX = prime count, EBX = checksum. Ends with HLT.
bits 32
org 0x1000

%define SIEVE 0x100000
%define N 65536

start:
    mov esp, 0x80000
    mov ebp, 3                 ; repetitions
.rep:
    call sieve
    mov [count], eax
    call mix
    dec ebp
    jnz .rep
    mov eax, [count]
    mov ebx, [sum]
    hlt

; sieve: marks composites in SIEVE[0..N); returns the number of primes in EAX.
sieve:
    push ebx
    push esi
    push edi
    mov edi, SIEVE
    mov ecx, N
    xor eax, eax
.clear:
    mov byte [edi + ecx - 1], 1
    dec ecx
    jnz .clear
    mov byte [edi], 0
    mov byte [edi + 1], 0
    mov esi, 2
.outer:
    mov eax, esi
    imul eax, esi
    cmp eax, N
    jae .count
    cmp byte [edi + esi], 0
    je .next
.inner:
    mov byte [edi + eax], 0
    add eax, esi
    cmp eax, N
    jb .inner
.next:
    inc esi
    jmp .outer
.count:
    xor eax, eax
    xor ecx, ecx
.cnt:
    movzx edx, byte [edi + ecx]
    add eax, edx
    inc ecx
    cmp ecx, N
    jb .cnt
    pop edi
    pop esi
    pop ebx
    ret

; mix: xorshift32 state advanced once per prime, folded into [sum].
mix:
    push ebx
    mov ebx, [sum]
    mov edx, 0x2545f491
    xor ecx, ecx
.loop:
    cmp byte [SIEVE + ecx], 0
    je .skip
    mov eax, edx
    shl eax, 13
    xor edx, eax
    mov eax, edx
    shr eax, 17
    xor edx, eax
    mov eax, edx
    shl eax, 5
    xor edx, eax
    lea eax, [ecx + ecx*4]
    imul eax, edx
    add ebx, eax
    rol ebx, 3
    test edx, 1
    jz .skip
    sub ebx, ecx
.skip:
    inc ecx
    cmp ecx, N
    jb .loop
    mov [sum], ebx
    pop ebx
    ret

align 4
count: dd 0
sum:   dd 0
