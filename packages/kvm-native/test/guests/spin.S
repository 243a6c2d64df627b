# Runs until kicked: 2^24 iterations of a dec/jnz loop (seconds under nested KVM), then one
# `out` to port 0x80, forever. A kick must not have to wait for the `out`.
.code16
1:  mov $0x1000000, %ecx
2:  dec %ecx
    jnz 2b
    outb %al, $0x80
    jmp 1b
