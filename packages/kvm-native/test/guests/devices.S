# MMIO and PIO reads and writes to TypeScript devices. es:0 is 0xd0000, where no memslot is.
.code16
    mov $0xd000, %ax
    mov %ax, %es
    mov $0x3f8, %dx
    inb %dx, %al            # PIO read: the device's byte
    movb %al, 0x2000
    incb %al
    outb %al, %dx           # PIO write: that byte + 1
    movb %es:0, %bl         # MMIO read, 1 byte, kept in bl
    movb %bl, 0x2001
    movl %es:4, %ecx        # MMIO read, 4 bytes, kept in ecx
    movl %ecx, 0x2004
    movw $0x1234, %es:8     # MMIO write, 2 bytes
    hlt
