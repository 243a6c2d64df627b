# Port I/O, MMIO and RAM from real mode, loaded at 0x1000; the host points FS's hidden
# base at the MMIO window (0xd0000000) before the run.
.code16
start:
    mov $0x5a, %al
    outb %al, $0x80             # PIO write, one byte
    mov $0xc110, %dx
    inw %dx, %ax                # PIO read, two bytes
    mov %ax, %bx
    movl %fs:0x0, %eax          # MMIO read, four bytes
    movl %eax, %fs:0x4          # MMIO write of what was read
    movw %bx, %fs:0x8           # MMIO write of the port's answer
    movb $0x42, 0x2000          # RAM: no exit
    hlt
