# A real-mode guest for exceptions injected with KVM_SET_VCPU_EVENTS. The test points IVT
# entry 6 (#UD) at `handler` (0x1010) and injects vector 6 before the first KVM_RUN: the
# handler runs first, writes its marker at 0x2000 and halts, leaving the interrupt frame
# (IP, CS, FLAGS) on the stack. Without the injection the main path writes 0x2001 instead.
.code16
start:
    movb $0x11, 0x2001
    hlt
    .org 0x10
handler:
    movb $0x5a, 0x2000
    hlt
