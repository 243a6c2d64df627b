# Reads whatever is mapped at 0x5000 now (RAM of some slot, or MMIO when nothing is).
.code16
    movb 0x5000, %al
    movb %al, 0x2000
    hlt
