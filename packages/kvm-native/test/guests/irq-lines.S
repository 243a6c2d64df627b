# Interrupts raised by the host: the PICs at vectors 0x20/0x28 with IRQ3, IRQ4 and IRQ5
# unmasked, IRQ3 and IRQ5 level-triggered through the ELCR (port 0x4d0), IRQ4 edge.
# Each handler counts at 0x2000 + 2 * irq, reports the IRQ with OUT 0x80 (before its EOI,
# so that the host can lower the line in between) and sends the EOI. The NMI handler
# (vector 2: an MSI with NMI delivery) counts at 0x2010 and reports 2. The main loop polls
# with OUT 0x81 so that the host acts between interrupts.
.code16
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x3000, %sp
    mov $0x2000, %di
    mov $9, %cx
    rep stosw
    movw $(irq3 - start + 0x1000), 0x23 * 4
    movw $0, 0x23 * 4 + 2
    movw $(irq4 - start + 0x1000), 0x24 * 4
    movw $0, 0x24 * 4 + 2
    movw $(irq5 - start + 0x1000), 0x25 * 4
    movw $0, 0x25 * 4 + 2
    movw $(nmi - start + 0x1000), 2 * 4
    movw $0, 2 * 4 + 2
    mov $0x11, %al
    out %al, $0x20
    mov $0x20, %al
    out %al, $0x21
    mov $0x04, %al
    out %al, $0x21
    mov $0x01, %al
    out %al, $0x21
    mov $0x11, %al
    out %al, $0xa0
    mov $0x28, %al
    out %al, $0xa1
    mov $0x02, %al
    out %al, $0xa1
    mov $0x01, %al
    out %al, $0xa1
    mov $0x28, %al
    mov $0x4d0, %dx
    out %al, %dx
    mov $0xc7, %al
    out %al, $0x21
    mov $0xff, %al
    out %al, $0xa1
    sti
1:  mov $0x400, %cx
2:  loop 2b
    out %al, $0x81
    jmp 1b

irq3:
    push %ax
    incw 0x2006
    mov $3, %al
    jmp eoi
irq4:
    push %ax
    incw 0x2008
    mov $4, %al
    jmp eoi
irq5:
    push %ax
    incw 0x200a
    mov $5, %al
eoi:
    out %al, $0x80
    mov $0x20, %al
    out %al, $0x20
    pop %ax
    iret

nmi:
    push %ax
    incw 0x2010
    mov $2, %al
    out %al, $0x80
    pop %ax
    iret
