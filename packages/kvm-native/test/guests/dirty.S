# Writes pages 0, 2, 4 and 9 of the dirty-logged slot at 0x10000 (es:0).
.code16
    mov $0x1000, %ax
    mov %ax, %es
    movb $1, %es:0x0000
    movb $1, %es:0x2000
    movb $1, %es:0x4000
    movw $1, %es:0x9ffe
    hlt
