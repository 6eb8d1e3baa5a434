// Types for the part of write-file-atomic@7 the benchmark calls (it ships none of its own).
declare module 'write-file-atomic' {
  interface Options {
    readonly fsync?: boolean;
    readonly mode?: number;
  }
  function writeFileAtomic(filename: string, data: string | Uint8Array, options?: Options): Promise<void>;
  export default writeFileAtomic;
}
