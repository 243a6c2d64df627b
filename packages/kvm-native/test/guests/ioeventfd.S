# ioeventfd: matched writes stay in the kernel, a datamatch miss exits as MMIO.
.code16
    mov $0xd000, %ax
    mov %ax, %es
    mov $5, %cx
1:  movb $0x41, %es:0x100   # 0xd0100: ioeventfd without datamatch, 5 times
    loop 1b
    movb $0x41, %es:0x200   # 0xd0200: ioeventfd with datamatch 0x41, hit
    movb $0x42, %es:0x200   # datamatch miss: MMIO exit
    mov $0x510, %dx
    mov $7, %al
    outb %al, %dx           # PIO ioeventfd on port 0x510 with datamatch 7, hit
    hlt
