# A KVM_MEM_READONLY slot at 0x4000: writes exit as MMIO and change nothing, reads are direct.
.code16
    movb $0x77, 0x4000      # write to ROM: MMIO exit
    movb 0x4000, %al        # read from ROM: no exit
    movb %al, 0x2000
    hlt
