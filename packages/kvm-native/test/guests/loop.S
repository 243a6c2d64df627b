# The exit loop of the tests and bench/exits.mjs: dword [0x500] PIO writes to port
# 0x3f8, then dword [0x504] MMIO writes to 0xd0000, then hlt.
.code16
    mov $0xd000, %ax
    mov %ax, %es
    mov $0x3f8, %dx
    movl 0x500, %ecx
1:  test %ecx, %ecx
    jz 2f
    outb %al, %dx
    dec %ecx
    jmp 1b
2:  movl 0x504, %ecx
3:  test %ecx, %ecx
    jz 4f
    movb %al, %es:0
    dec %ecx
    jmp 3b
4:  hlt
