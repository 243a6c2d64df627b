# `jmp $`: never exits to user space. Only a kick (a signal into KVM_RUN) stops it.
.code16
1:  jmp 1b
