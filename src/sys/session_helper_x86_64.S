# The session helper for x86_64 Linux: a whole static ELF (header from elf_header.inc,
# assembled and cut out with scripts/session_helper.ts). See
# src/sys/session_helper.ts for what it does and why.
#
# argv: [any, program, argv0, args...]. fd 3: the status pipe.
#   setsid(); pid = clone(CLONE_PARENT | SIGCHLD)
#   parent: write(3, &pid, 4), exit 0
#   child:  fcntl(3, F_SETFD, FD_CLOEXEC); execve(program, argv + 2, envp)
#   on any failure: write(3, &-errno, 4), exit 111
        .include "elf_header.inc"
        elf_header 62                           # e_machine: EM_X86_64

_start: mov     (%rsp), %rbx            # argc
        lea     8(%rsp), %r12           # argv
        lea     16(%rsp,%rbx,8), %r13   # envp
        mov     $112, %eax              # setsid()
        syscall
        test    %rax, %rax
        js      fail
        mov     $56, %eax               # clone(CLONE_PARENT|SIGCHLD, 0, 0, 0, 0)
        mov     $0x8011, %edi
        xor     %esi, %esi
        xor     %edx, %edx
        xor     %r10d, %r10d
        xor     %r8d, %r8d
        syscall
        test    %rax, %rax
        js      fail
        jz      child
        push    %rax                    # parent: report the pid, exit 0
        call    report
        xor     %edi, %edi
        jmp     exit
child:  mov     $72, %eax               # fcntl(3, F_SETFD, FD_CLOEXEC)
        mov     $3, %edi
        mov     $2, %esi
        mov     $1, %edx
        syscall
        mov     $59, %eax               # execve(argv[1], argv + 2, envp)
        mov     8(%r12), %rdi
        lea     16(%r12), %rsi
        mov     %r13, %rdx
        syscall
fail:   push    %rax                    # -errno
        call    report
        mov     $111, %edi
exit:   mov     $231, %eax              # exit_group(edi)
        syscall
report: mov     $1, %eax                # write(3, the 4 bytes pushed, 4)
        mov     $3, %edi
        lea     8(%rsp), %rsi
        mov     $4, %edx
        syscall
        ret
end:
