/**
 * The one place that loads the C library. Every other module reaches libc
 * through the typed wrappers in this folder, never through these symbols.
 *
 * Linux, glibc, x86_64 or aarch64 (struct layouts differ by architecture and
 * are handled in the wrappers that use them).
 *
 * @module
 */

const SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  mkfifoat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_blocking: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  fsync: { parameters: ["i32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  fchown: { parameters: ["i32", "u32", "u32"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  flock_blocking: {
    name: "flock",
    parameters: ["i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32" },
  pidfd_send_signal: { parameters: ["i32", "i32", "pointer", "u32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpid_blocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  setsid: { parameters: [], result: "i32" },
  getpgid: { parameters: ["i32"], result: "i32" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: {
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addclose: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_addfchdir_np: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  _exit: { parameters: ["i32"], result: "void" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  getpwnam: { parameters: ["buffer"], result: "pointer" },
  getgrnam: { parameters: ["buffer"], result: "pointer" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  chroot: { parameters: ["buffer"], result: "i32" },
  nice: { parameters: ["i32"], result: "i32" },
  reboot: { parameters: ["i32"], result: "i32" },
  sync: { parameters: [], result: "void" },
  // A static `char *`: the symbol is its address (glibc sets it to argv[0]).
  program_invocation_name: { type: "pointer" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
type Name = keyof typeof SYMBOLS;

let symbols: Symbols | undefined;
const libraries: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[] = [];

/** Bind one symbol: dlopen cost grows with every symbol bound (~75 µs each). */
function bind(name: Name): unknown {
  const library = Deno.dlopen(
    "libc.so.6",
    { [name]: SYMBOLS[name] } as Deno.ForeignLibraryInterface,
  );
  libraries.push(library);
  return library.symbols[name];
}

/**
 * The libc symbols, each bound on first use (so that programs that never
 * touch them do not pay for, or need permission for, FFI, and a program
 * pays only for the calls it makes). After the first use a symbol is a
 * plain property.
 *
 * @example
 * ```ts
 * import { libc } from "./libc.ts";
 * const result = libc().close(-1); // -1, errno EBADF
 * ```
 */
export function libc(): Symbols {
  if (symbols) return symbols;
  const table: Record<string, unknown> = {};
  for (const name of Object.keys(SYMBOLS) as Name[]) {
    Object.defineProperty(table, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = bind(name);
        Object.defineProperty(table, name, { value, enumerable: true });
        return value;
      },
    });
  }
  symbols = table as Symbols;
  return symbols;
}

/**
 * The calling thread's errno, read right after a failed synchronous call.
 *
 * @example
 * ```ts
 * import { errno, libc } from "./libc.ts";
 * if (libc().close(-1) === -1) console.log(errno()); // 9 (EBADF)
 * ```
 */
export function errno(): number {
  const location = libc().__errno_location();
  return location === null ? 0 : new Deno.UnsafePointerView(location).getInt32();
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
/** Lone surrogates: in a name, the escaped bytes that are not UTF-8. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A name (file name, argument) from its bytes: UTF-8, with every byte that
 * is not part of valid UTF-8 kept as U+DC80-U+DCFF (Python's
 * "surrogateescape"), so that {@link encodeName} gives the same bytes back.
 * Valid UTF-8 never decodes to a lone surrogate, so nothing is ambiguous.
 *
 * @example
 * ```ts
 * import { decodeName, encodeName } from "./libc.ts";
 * const name = decodeName(new Uint8Array([0x69, 0xff])); // "i\udcff"
 * encodeName(name); // Uint8Array [0x69, 0xff]
 * ```
 */
export function decodeName(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    // Not UTF-8: decode by hand below.
  }
  let text = "";
  for (let at = 0; at < bytes.length;) {
    const lead = bytes[at];
    const length = lead < 0x80
      ? 1
      : lead >= 0xc2 && lead <= 0xdf
      ? 2
      : lead >= 0xe0 && lead <= 0xef
      ? 3
      : lead >= 0xf0 && lead <= 0xf4
      ? 4
      : 0;
    let point = -1;
    if (length === 1) point = lead;
    else if (length > 0 && at + length <= bytes.length) {
      point = lead & (0xff >> (length + 1));
      for (let i = 1; i < length; i++) {
        const next = bytes[at + i];
        if ((next & 0xc0) !== 0x80) {
          point = -1;
          break;
        }
        point = (point << 6) | (next & 0x3f);
      }
      const least = [0, 0, 0x80, 0x800, 0x10000][length];
      if (point < least || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) point = -1;
    }
    if (point < 0) {
      text += String.fromCharCode(0xdc00 + lead);
      at++;
    } else {
      text += String.fromCodePoint(point);
      at += length;
    }
  }
  return text;
}

/**
 * The bytes of a name: UTF-8, with U+DC80-U+DCFF turned back into the bytes
 * {@link decodeName} kept that way.
 *
 * @example
 * ```ts
 * import { encodeName } from "./libc.ts";
 * encodeName("run"); // Uint8Array [114, 117, 110]
 * ```
 */
export function encodeName(text: string): Uint8Array<ArrayBuffer> {
  if (!SURROGATE.test(text)) return encoder.encode(text);
  const parts: number[] = [];
  let plain = "";
  const flush = () => {
    if (plain) parts.push(...encoder.encode(plain));
    plain = "";
  };
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff && !(i > 0 && isHigh(text.charCodeAt(i - 1)))) {
      flush();
      parts.push(unit - 0xdc00);
    } else {
      plain += text[i];
    }
  }
  flush();
  return new Uint8Array(parts);
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * Set the calling thread's errno (to 0 before calls such as nice(2) whose
 * -1 result is ambiguous).
 *
 * @example
 * ```ts
 * import { errno, libc, setErrno } from "./libc.ts";
 * setErrno(0);
 * libc().nice(0);
 * errno(); // 0
 * ```
 */
export function setErrno(value: number): void {
  const location = libc().__errno_location();
  if (location === null) return;
  new Int32Array(Deno.UnsafePointerView.getArrayBuffer(location, 4))[0] = value;
}

/**
 * A NUL-terminated copy of a string, for passing to C; a name's escaped
 * bytes (see {@link decodeName}) are passed as those bytes.
 *
 * @example
 * ```ts
 * import { cstring } from "./libc.ts";
 * cstring("run"); // Uint8Array [114, 117, 110, 0]
 * ```
 */
export function cstring(text: string): Uint8Array<ArrayBuffer> {
  if (SURROGATE.test(text)) {
    const name = encodeName(text);
    const bytes = new Uint8Array(name.length + 1);
    bytes.set(name);
    return bytes;
  }
  const bytes = new Uint8Array(text.length * 3 + 1);
  const { written } = encoder.encodeInto(text, bytes);
  return bytes.subarray(0, written + 1);
}

/**
 * A NULL-terminated C array of pointers to NUL-terminated strings. The
 * returned `keep` array must stay referenced for as long as C may read it.
 *
 * @example
 * ```ts
 * import { cstringArray } from "./libc.ts";
 * const { array } = cstringArray(["./run"]);
 * ```
 */
export function cstringArray(
  items: readonly string[],
): { array: Uint8Array<ArrayBuffer>; keep: Uint8Array[] } {
  const keep = items.map(cstring);
  const pointers = new BigUint64Array(items.length + 1);
  keep.forEach((bytes, index) => {
    pointers[index] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  });
  return { array: new Uint8Array(pointers.buffer), keep };
}
