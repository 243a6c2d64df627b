# Timer interrupts from the in-kernel PIT, loaded at 0x1000: channel 0 in mode 2 with a
# 1 ms period; the IRQ0 handler (vector 0x20) counts at 0x500; after three ticks the
# guest reports "done" on port 0x83.
.code16
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    movw $0, 0x500
    movw $0x1000 + (handler - start), 0x80
    movw $0, 0x82
    mov $0x11, %al
    outb %al, $0x20
    mov $0x20, %al
    outb %al, $0x21
    mov $0x04, %al
    outb %al, $0x21
    mov $0x01, %al
    outb %al, $0x21
    mov $0xfe, %al
    outb %al, $0x21             # IRQ0 alone unmasked
    mov $0x34, %al
    outb %al, $0x43             # channel 0, low then high byte, mode 2
    mov $0xa9, %al
    outb %al, $0x40
    mov $0x04, %al
    outb %al, $0x40             # 1193 ticks of 1.193182 MHz: 1 ms
    sti
1:  hlt
    cmpw $3, 0x500
    jb 1b
    cli
    outb %al, $0x83             # done
2:  jmp 2b

handler:
    push %ax
    incw 0x500
    mov $0x20, %al
    outb %al, $0x20             # EOI
    pop %ax
    iret
