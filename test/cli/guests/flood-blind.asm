; flood.asm without waiting for THRE: flow control the guest ignores.
%define BLIND
%include "flood.asm"
