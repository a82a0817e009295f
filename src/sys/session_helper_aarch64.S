// The session helper for aarch64 Linux: a whole static ELF (header from elf_header.inc,
// assembled and cut out with scripts/session_helper.ts). See
// src/sys/session_helper.ts for what it does and why.
//
// argv: [any, program, argv0, args...]. fd 3: the status pipe.
//   setsid(); pid = clone(CLONE_PARENT | SIGCHLD)
//   parent: write(3, &pid, 4), exit 0
//   child:  fcntl(3, F_SETFD, FD_CLOEXEC); execve(program, argv + 2, envp)
//   on any failure: write(3, &-errno, 4), exit 111
        .include "elf_header.inc"
        elf_header 183                          // e_machine: EM_AARCH64

_start: ldr     x19, [sp]               // argc
        add     x20, sp, #8             // argv
        add     x21, x20, x19, lsl #3
        add     x21, x21, #8            // envp
        mov     x8, #157                // setsid()
        svc     #0
        tbnz    x0, #63, fail
        mov     x0, #0x8011             // clone(CLONE_PARENT|SIGCHLD, 0, 0, 0, 0)
        mov     x1, #0
        mov     x2, #0
        mov     x3, #0
        mov     x4, #0
        mov     x8, #220
        svc     #0
        tbnz    x0, #63, fail
        cbz     x0, child
        bl      report                  // parent: report the pid, exit 0
        mov     x0, #0
        b       exit
child:  mov     x0, #3                  // fcntl(3, F_SETFD, FD_CLOEXEC)
        mov     x1, #2
        mov     x2, #1
        mov     x8, #25
        svc     #0
        ldr     x0, [x20, #8]           // execve(argv[1], argv + 2, envp)
        add     x1, x20, #16
        mov     x2, x21
        mov     x8, #221
        svc     #0
fail:   bl      report                  // -errno, exit 111
        mov     x0, #111
exit:   mov     x8, #94                 // exit_group(x0)
        svc     #0
report: str     w0, [sp, #-16]!         // write(3, &w0, 4)
        mov     x1, sp
        mov     x0, #3
        mov     x2, #4
        mov     x8, #64
        svc     #0
        add     sp, sp, #16
        ret
end:
