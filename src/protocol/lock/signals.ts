/**
 * lock/signals.ts: keep an app's own signal listeners working when proper-lockfile loads after
 * them.
 *
 * proper-lockfile calls signal-exit (v3) when it loads, which listens to SIGTERM, SIGINT, SIGHUP
 * and the other fatal signals, and re-raises a signal when, at the moment it is called, its own
 * listeners are the only ones left. An app that registered `process.once('SIGTERM', stop)` before
 * txnfs was loaded (an earlier module, or a dynamic `import()`) has its listener called first and
 * removed, so signal-exit then finds itself alone and kills the app in the middle of `stop` (exit
 * 143). Loaded before the app's listener, as usual, signal-exit is called first and sees the
 * app's listener still there. So the listeners proper-lockfile adds are moved to the front:
 * every order then behaves as the usual one (test/protocol/lock/signals.test.ts).
 *
 * Order matters: this module takes its snapshot when it is evaluated, and acquire.ts requires
 * proper-lockfile in its body, after every import (so also in a bundle, which hoists imports).
 */
type Listener = (...args: unknown[]) => void;

function signalListeners(): Map<string, readonly Listener[]> {
  const now = new Map<string, readonly Listener[]>();
  for (const name of process.eventNames()) {
    if (typeof name === 'string' && name.startsWith('SIG')) now.set(name, process.rawListeners(name) as Listener[]);
  }
  return now;
}

/** The process's signal listeners when this module was evaluated: before proper-lockfile loads. */
export const signalListenersBefore: ReadonlyMap<string, readonly Listener[]> = signalListeners();

/** Move every signal listener added since `before` to the front, in the order they were added. */
export function putNewSignalListenersFirst(before: ReadonlyMap<string, readonly Listener[]>): void {
  for (const [name, listeners] of signalListeners()) {
    const old = new Set(before.get(name) ?? []);
    const added = listeners.filter((l) => !old.has(l));
    if (added.length === 0 || added.length === listeners.length) continue;
    for (const l of added) process.removeListener(name, l);
    for (const l of [...added].reverse()) process.prependListener(name as NodeJS.Signals, l);
  }
}
