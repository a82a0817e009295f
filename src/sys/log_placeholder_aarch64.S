// The log placeholder for aarch64 Linux: a whole static ELF (header from elf_header.inc,
// assembled and cut out with scripts/session_helper.ts). See
// src/sys/log_placeholder.ts for what it does and why.
//
// fd 0: the log pipe (kept open, never read). fd 3: the host channel.
//   prctl(PR_SET_NAME, "svlogd"); block HUP and ALRM
//   loop: sig = rt_sigtimedwait({HUP, ALRM}); write(3, &sig, 1)
//   exit 0 once the write fails (the host is gone); other signals: default
        .include "elf_header.inc"
        elf_header 183                          // e_machine: EM_AARCH64

_start: mov     x0, #15                 // prctl(PR_SET_NAME, "svlogd")
        adr     x1, name
        mov     x8, #167
        svc     #0
        sub     sp, sp, #16             // [sp]: the signal set; [sp, #8]: the byte sent
        mov     x0, #0x2001             // SIGHUP (1) and SIGALRM (14)
        str     x0, [sp]
        mov     x0, #0                  // rt_sigprocmask(SIG_BLOCK, &set, 0, 8)
        mov     x1, sp
        mov     x2, #0
        mov     x3, #8
        mov     x8, #135
        svc     #0
wait:   mov     x0, sp                  // rt_sigtimedwait(&set, 0, 0, 8)
        mov     x1, #0
        mov     x2, #0
        mov     x3, #8
        mov     x8, #137
        svc     #0
        tbnz    x0, #63, wait           // interrupted: wait again
        strb    w0, [sp, #8]
send:   mov     x0, #3                  // write(3, &signal, 1)
        add     x1, sp, #8
        mov     x2, #1
        mov     x8, #64
        svc     #0
        cmn     x0, #4                  // EINTR: again
        b.eq    send
        cmp     x0, #0
        b.gt    wait
        mov     x0, #0                  // exit_group(0): the host is gone
        mov     x8, #94
        svc     #0
name:   .asciz  "svlogd"
        .balign 4
end:
