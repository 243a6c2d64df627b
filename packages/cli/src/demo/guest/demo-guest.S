# The guest of `memtopo demo`: 16-bit real mode, loaded at 0x1000, every segment base 0
# except FS, whose hidden base the host sets to the demo device's BAR before the run
# (real mode keeps a segment's base until the register is reloaded, so FS reaches a
# 32-bit MMIO address). Port 0x80 gets a POST code after each step, as firmware does.
# Assemble (as --32, objcopy -O binary), from the repository root, rewriting demo-guest-bytes.ts:
#   node scripts/assemble-guest.mjs packages/cli/src/demo/guest/demo-guest.S DEMO_GUEST_HEX "The demo guest"
.code16
start:
    movb $0x01, %al
    outb %al, $0x80             # POST 1: running

# 1. RAM: copy the message to 0x5000 (a RAM memslot: no exit)
    cld
    mov $0x1000 + (msg - start), %si
    mov $0x5000, %di
    mov $(msg_end - msg), %cx
    rep movsb

# 2. I/O port device: send the message to the UART at 0x3f8, waiting for
#    "transmitter empty" (LSR bit 5) before each byte
    mov $0x1000 + (msg - start), %si
1:  lodsb
    test %al, %al
    jz 3f
    mov %al, %ah
    mov $0x3fd, %dx
2:  inb %dx, %al
    testb $0x20, %al
    jz 2b
    mov $0x3f8, %dx
    mov %ah, %al
    outb %al, %dx
    jmp 1b
3:  movb $0x02, %al
    outb %al, $0x80             # POST 2: UART done

# 3. MMIO device: read its ID register, write the scratch register and read it back
    movl %fs:0x0, %eax
    movl %eax, 0x600
    movl $0x1234abcd, %fs:0x4
    movl %fs:0x4, %eax
    movl %eax, 0x604
    movb $0x03, %al
    outb %al, $0x80             # POST 3: MMIO done

# 4. ROM: 0xe0000 is isa-bios, an alias of the BIOS ROM (a read-only memslot).
#    The write exits to userspace and the ROM ignores it.
    mov $0xe000, %ax
    mov %ax, %es
    movb %es:0, %al
    movb %al, 0x608             # the byte before
    movb $0x55, %es:0
    movb %es:0, %al
    movb %al, 0x609             # the byte after
    movb $0x04, %al
    outb %al, $0x80             # POST 4: ROM checked

# 5. ioeventfd: three doorbell writes; the kernel signals the eventfd, no exit
    movl $1, %fs:0x10
    movl $2, %fs:0x10
    movl $3, %fs:0x10
    movb $0x05, %al
    outb %al, $0x80             # POST 5: done
    hlt

msg:
    .asciz "hello from a real-mode guest\n"
msg_end:
