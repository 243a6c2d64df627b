# Runs until kicked: 2^20 iterations of a dec/jnz loop, then one `out` to port 0x80, forever.
.code16
1:  mov $0x100000, %ecx
2:  dec %ecx
    jnz 2b
    outb %al, $0x80
    jmp 1b
