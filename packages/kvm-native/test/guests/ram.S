# RAM both ways. Loaded at 0x1000, 16-bit real mode, every segment base 0.
.code16
    movb 0x2000, %al        # the byte TypeScript wrote into the ArrayBuffer
    incb %al
    movb %al, 0x2001        # TypeScript reads it back from the ArrayBuffer
    movw $0xbeef, 0x3000
    hlt
