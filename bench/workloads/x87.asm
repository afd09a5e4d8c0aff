; x87 workload: double-precision code as a C compiler emits it for the FNINIT control word
; (precision control 64 bits, as Linux programs run): loads and stores of m64 doubles, FILD,
; FSQRT, FDIV, FMUL/FADD with memory operands, FCOMP + FNSTSW + SAHF, FISTP. For i = 1..N:
; sum += sqrt(i); harm += 1/i; poly = poly * 0.5 + i; max = poly if poly > max.
; Result: EAX = round(sum), EBX = round(1000 * harm), ECX = round(max). Ends with HLT.
bits 32
org 0x1000
%define N 20000

start:
    mov esp, 0x80000
    fninit
    fldz
    fst qword [sum]
    fst qword [harm]
    fst qword [poly]
    fstp qword [max]
    mov ecx, 1
.loop:
    mov [i], ecx
    fild dword [i]              ; x
    fld st0                     ; x x
    fsqrt                       ; sqrt(x) x
    fadd qword [sum]
    fstp qword [sum]            ; x
    fld1                        ; 1 x
    fdivrp st1, st0             ; 1/x
    fadd qword [harm]
    fstp qword [harm]
    fld qword [poly]
    fmul qword [half]
    fiadd dword [i]
    fst qword [poly]            ; poly
    fcomp qword [max]
    fnstsw ax
    sahf
    jbe .notmax
    fld qword [poly]
    fstp qword [max]
.notmax:
    inc ecx
    cmp ecx, N + 1
    jne .loop
    fld qword [sum]
    fistp dword [res]
    mov eax, [res]
    fld qword [harm]
    fmul qword [thousand]
    fistp dword [res]
    mov ebx, [res]
    fld qword [max]
    fistp dword [res]
    mov ecx, [res]
    hlt

align 8
half:     dq 0.5
thousand: dq 1000.0
sum:      dq 0
harm:     dq 0
poly:     dq 0
max:      dq 0
i:        dd 0
res:      dd 0
