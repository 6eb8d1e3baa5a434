// An Error shaped like the one Node's fs raises for `code`, for fault injection. Plain JavaScript so
// that the tests (src/) and the crash children (dist/) share it. Types: errno.d.mts.
const ERRNOS = { EIO: -5, ENOSPC: -28, EACCES: -13, EPERM: -1, EMFILE: -24, EXDEV: -18, EROFS: -30, ENOENT: -2 };

export function errnoError(code, op, path) {
  const err = new Error(`${code}: injected fault, ${op} '${path}'`);
  err.code = code;
  err.errno = ERRNOS[code] ?? -1;
  err.syscall = op;
  err.path = path;
  return err;
}
