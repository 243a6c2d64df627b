# The in-kernel PIT ticking into the in-kernel PIC, set up as a BIOS does: the PICs
# initialised (ICW1-4, vectors 0x20 and 0x28), IRQ0 alone unmasked, PIT channel 0 in
# mode 2 (rate generator) with a count of 11932 (about 10 ms). The IRQ0 handler counts
# ticks at 0x2000 and reports each with OUT 0x80; the main loop polls with OUT 0x81
# rather than halting, so that a missing timer fails the test instead of hanging it.
.code16
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x3000, %sp
    movw $0, 0x2000
    movw $(irq0 - start + 0x1000), 0x20 * 4
    movw $0, 0x20 * 4 + 2
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
    mov $0xfe, %al
    out %al, $0x21
    mov $0xff, %al
    out %al, $0xa1
    mov $0x34, %al
    out %al, $0x43
    mov $(11932 & 0xff), %al
    out %al, $0x40
    mov $(11932 >> 8), %al
    out %al, $0x40
    sti
1:  mov $0x1000, %cx
2:  loop 2b
    out %al, $0x81
    jmp 1b

irq0:
    push %ax
    incw 0x2000
    mov 0x2000, %ax
    out %ax, $0x80
    mov $0x20, %al
    out %al, $0x20
    pop %ax
    iret
