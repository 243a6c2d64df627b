# Interrupts through the in-kernel PIC, loaded at 0x1000. The host sets SI to the master's
# ELCR (0x10: IRQ4 level-triggered), DI to the count to wait for, and BP to how to wait:
# 1 = halt until an interrupt (STI; HLT, so none is missed), 0 = at most CX checks. The
# handler of IRQ4 (vector 0x24) counts at 0x500, reports the count on port 0x82 and sends
# an EOI. Port 0x81 says "ready" (the host then raises the line), port 0x83 "done".
.code16
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    movw $0, 0x500
    movw $0x1000 + (handler - start), 0x90
    movw $0, 0x92
    mov $0x11, %al
    outb %al, $0x20             # ICW1: edge, cascade, ICW4 follows
    mov $0x20, %al
    outb %al, $0x21             # ICW2: vectors 0x20-0x27
    mov $0x04, %al
    outb %al, $0x21             # ICW3: the slave on IRQ2
    mov $0x01, %al
    outb %al, $0x21             # ICW4: 8086 mode
    mov $0xef, %al
    outb %al, $0x21             # OCW1: IRQ4 alone unmasked
    mov %si, %ax
    mov $0x4d0, %dx
    outb %al, %dx               # ELCR
    outb %al, $0x81             # ready
    test %bp, %bp
    jz 2f
1:  cli
    cmp %di, 0x500
    jae 3f
    sti
    hlt
    jmp 1b
2:  sti
    cmp %di, 0x500
    jae 3f
    loop 2b
3:  cli
    outb %al, $0x83             # done
4:  jmp 4b

handler:
    push %ax
    incw 0x500
    mov 0x500, %ax
    outb %al, $0x82             # the count so far
    mov $0x20, %al
    outb %al, $0x20             # non-specific EOI
    pop %ax
    iret
