# Writes one byte into each of the 200 pages from 0x10000 (segments 0x1000 to 0xd700): more
# first writes than a one-page dirty ring takes before its soft limit (256 entries, 64 kept back).
.code16
    mov $0x1000, %ax
1:  mov %ax, %es
    movb $1, %es:0
    add $0x100, %ax
    cmp $0xd800, %ax
    jb 1b
    hlt
