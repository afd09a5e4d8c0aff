; The call loop of bench/handwritten/calls-loop.wat as a multiboot kernel: 20 M iterations, then
; isa-debug-exit. bench/handwritten/run.ts times it under the translator.
bits 32
org 0x100000
MAGIC equ 0x1BADB002
FLAGS equ 0x00010000
hdr:
  dd MAGIC, FLAGS, -(MAGIC+FLAGS)
  dd hdr, 0x100000, end, end, start
start:
  mov esp, 0x80000
  sub esp, 0x40
  mov esi, 20000000
  xor edi, edi
  xor ebx, ebx
  jmp loop
  align 16
callee:
  mov eax, [esp+4]
  lea eax, [eax+eax*2+1]
  ret
  align 16
loop:
  mov [esp], edi
  inc edi
  call callee
  add ebx, eax
  cmp esi, edi
  jne loop
  mov al, 0
  out 0xf4, al
  hlt
end:
