# The log placeholder for x86_64 Linux: a whole static ELF (header from elf_header.inc,
# assembled and cut out with scripts/session_helper.ts). See
# src/sys/log_placeholder.ts for what it does and why.
#
# fd 0: the log pipe (kept open, never read). fd 3: the host channel.
#   prctl(PR_SET_NAME, "svlogd"); block HUP and ALRM
#   loop: sig = rt_sigtimedwait({HUP, ALRM}); write(3, &sig, 1)
#   exit 0 once the write fails (the host is gone); other signals: default
        .include "elf_header.inc"
        elf_header 62                           # e_machine: EM_X86_64

_start: mov     $157, %eax              # prctl(PR_SET_NAME, "svlogd")
        mov     $15, %edi
        lea     name(%rip), %rsi
        syscall
        sub     $16, %rsp               # (%rsp): the signal set; 8(%rsp): the byte sent
        movq    $0x2001, (%rsp)         # SIGHUP (1) and SIGALRM (14)
        mov     $14, %eax               # rt_sigprocmask(SIG_BLOCK, &set, 0, 8)
        xor     %edi, %edi
        mov     %rsp, %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
wait:   mov     $128, %eax              # rt_sigtimedwait(&set, 0, 0, 8)
        mov     %rsp, %rdi
        xor     %esi, %esi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        test    %rax, %rax
        js      wait                    # interrupted: wait again
        mov     %al, 8(%rsp)
send:   mov     $1, %eax                # write(3, &signal, 1)
        mov     $3, %edi
        lea     8(%rsp), %rsi
        mov     $1, %edx
        syscall
        cmp     $-4, %rax               # EINTR: again
        je      send
        test    %rax, %rax
        jg      wait
        mov     $231, %eax              # exit_group(0): the host is gone
        xor     %edi, %edi
        syscall
name:   .asciz  "svlogd"
end:
