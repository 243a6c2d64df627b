# Runs with interrupts off, then turns them on: with request_interrupt_window set,
# KVM_RUN returns KVM_EXIT_IRQ_WINDOW_OPEN only once `sti` (and its shadow) is past.
.code16
    movb $1, 0x2000
    nop
    movb $2, 0x2000
    sti
1:  incw 0x2002
    jmp 1b
