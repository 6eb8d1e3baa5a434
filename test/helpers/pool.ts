/** How many fs requests of libuv's thread pool are in flight, as Node counts them (inline.ts tests). */
export function poolRequests(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('FSReq')).length;
}
