# An exception injected through KVM_SET_VCPU_EVENTS, loaded at 0x1000: the guest puts its
# #UD handler (vector 6) in the IVT and says "ready" on port 0x81; the handler reports on
# port 0x82 and returns to the HLT, which ends the run.
.code16
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    movw $0x1000 + (handler - start), 0x18
    movw $0, 0x1a
    outb %al, $0x81             # ready
    hlt

handler:
    mov $0x06, %al
    outb %al, $0x82             # the vector
    iret
