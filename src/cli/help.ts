/**
 * help.ts: the text of `txnfs --help` and of each command's `--help`. Plain text, under 100
 * columns, with examples; printed on stdout (asked for, so it is output, not an error).
 */

export const mainUsage = `Usage:
  txnfs exec <dir> [options] -- <command> [args...]
  txnfs status <dir>|s3://<bucket>[/<prefix>] [--json]
  txnfs recover <dir>|s3://<bucket>[/<prefix>] [--dry-run] [--json]
  txnfs snapshot <dir> -- <command> [args...]
  txnfs snapshot s3://<bucket>[/<prefix>] (--list | --get <path>)
  txnfs help [<command>]`;

export const mainHelp = `txnfs: make a set of file writes land together or not at all, and heal after a crash.

${mainUsage}

Commands:
  exec      Run a command; commit every file it writes under $TXNFS_OUT into <dir>, all or nothing
  status    List the transactions pending in <dir>; exit non-zero when recovery is needed
  recover   Finish or discard what crashed transactions left in <dir>
  snapshot  Run a command on one pinned generation of <dir> (generations layout): $TXNFS_SNAPSHOT
  doctor    Probe the filesystem under [dir] for what txnfs relies on; say what it does where not

Options:
  -h, --help      Show help (also: txnfs <command> --help)
  -v, --version   Print the version of txnfs

Examples:
  txnfs exec out -- ./export.sh
  txnfs exec site --delete-missing -- sh -c 'hugo --destination "$TXNFS_OUT"'
  txnfs status out || txnfs recover out
`;

export const execUsage = 'Usage: txnfs exec <dir> [options] -- <command> [args...]';

export const execHelp = `${execUsage}

Run <command> with TXNFS_OUT set to a fresh, empty directory. When the command exits 0, every
file it wrote under TXNFS_OUT, nested directories included, is moved into <dir> in one
transaction: all of them land, or none. When the command fails or is killed, or txnfs receives
SIGINT, SIGTERM or SIGHUP (which it forwards to the command), nothing lands and the staging is
removed. TXNFS_OUT is on the same filesystem as <dir>, so committing costs one rename per file.

The command runs without a shell; use sh -c '...' for pipes and redirections.

Environment given to the command:
  TXNFS_OUT   where to write; its tree mirrors <dir> (or <dir>/<subtree>)
  TXNFS_DIR   the directory TXNFS_OUT is committed into, to read the current files

Options:
      --delete-missing     Also remove the files under <dir> (or <dir>/<subtree>) that the command
                           did not produce, in the same transaction. Regular files only:
                           symlinks, special files and directories are left alone.
      --subtree <path>     Commit into <dir>/<path> (a directory inside <dir>, relative to it);
                           --delete-missing then looks only there. Default: all of <dir>.
      --durability <mode>  full (default): everything is fsynced, a finished run survives a power
                           loss. none: no fsync; all-or-nothing still holds if a process crashes.
      --json               Print the outcome as JSON on stdout; the command's stdout then goes to
                           stderr, so stdout holds only the JSON.
  -h, --help               Show this help.

Only regular files are committed. A symlink, FIFO, socket or device left in TXNFS_OUT fails the
run (exit 125, nothing lands). Empty directories are not created (a transaction commits files),
and directories emptied by --delete-missing are left in place.

Exit status:
  the command's own exit status. If the command is killed by a signal, txnfs kills itself with
  the same signal once the staging is removed, so the shell sees what it would have seen without
  txnfs (128+n in $?); for signals that would dump core, and SIGUSR1, it exits 128+n instead.
  125  txnfs itself failed (bad arguments, an output that cannot be committed, a commit error).
       Nothing was committed, unless the message asks you to run txnfs recover.
  126  the command could not be run (permission denied)
  127  the command was not found

Examples:
  txnfs exec out -- ./export.sh
  txnfs exec out -- python3 export.py --day 2024-05-01
  txnfs exec site --delete-missing -- sh -c 'hugo --destination "$TXNFS_OUT"'
  txnfs exec data --subtree reports/daily --delete-missing -- make daily   # make sees $(TXNFS_OUT)
`;

export const statusUsage = 'Usage: txnfs status <dir>|s3://<bucket>[/<prefix>] [--json]';

export const statusHelp = `${statusUsage}

List every transaction in <dir>/.txnfs: its id, state, whether its owner process is alive, its
age, its journal entries and its staged files. Read-only: takes no lock, changes nothing.

States:
  staging       not committed yet; if its owner is dead, recovery discards it
  committed     past its commit point; if its owner is dead, recovery finishes it
  rolling-back  a failed apply being undone; recovery finishes the rollback
  corrupt       its journal fails its checksum; left in place for a person, and every commit in
                <dir> is refused until it is removed
  orphan-lock   an owner lock without a staging dir; recovery removes it
A transaction whose owner is alive is in progress and needs nothing.

For s3://<bucket>[/<prefix>]: the head generation, its file count, and the transactions that
staged data but never committed: older than the store's grace (1 hour) they are dead and need
txnfs recover (exit 3); younger ones may still be writing.
s3://<bucket>[/<prefix>] names a txnfs/s3 store (docs/s3.md). It needs the optional peer
dependency @aws-sdk/client-s3; credentials, region and endpoint come from the standard AWS_*
environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or
AWS_ENDPOINT_URL_S3; with an endpoint of its own, requests are path-style).

Options:
      --json         Print the report as JSON on stdout.
      --grace <ms>   s3:// only: uncommitted staged data older than this is dead (default: the
                     store's grace, 1 hour).
  -h, --help         Show this help.

Exit status:
  0  nothing needs recovery (no transactions, or only live ones)
  1  txnfs could not look (e.g. <dir> does not exist; for s3://, a request failed or
     @aws-sdk/client-s3 is not installed)
  2  bad arguments
  3  dead transactions need recovery: run txnfs recover <dir>
  4  a corrupt journal needs a person (txnfs recover cannot fix it)

Examples:
  txnfs status out
  txnfs status /srv/export && ./deploy.sh      # deploy only a settled export
  txnfs status out --json | jq -r '.transactions[] | select(.needs != "nothing") | .id'
  AWS_ENDPOINT_URL=http://127.0.0.1:7480 txnfs status s3://exports/daily
`;

export const recoverUsage = 'Usage: txnfs recover <dir>|s3://<bucket>[/<prefix>] [--dry-run] [--json]';

export const recoverHelp = `${recoverUsage}

Finish the transactions in <dir> that crashed after their commit point (roll forward), finish
interrupted rollbacks, and discard those that never reached it. Transactions whose owner is alive
are never touched; corrupt journals are reported and left in place for a person. Safe to run at
every boot, and while other processes commit in <dir>.

For s3://<bucket>[/<prefix>]: delete the staged data (and abort the unfinished uploads) of
transactions that never reached the log and are older than the store's grace (1 hour). Committed
data is never touched; safe to run from many hosts at once.
s3://<bucket>[/<prefix>] names a txnfs/s3 store (docs/s3.md). It needs the optional peer
dependency @aws-sdk/client-s3; credentials, region and endpoint come from the standard AWS_*
environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or
AWS_ENDPOINT_URL_S3; with an endpoint of its own, requests are path-style).

Options:
  -n, --dry-run   Report what would be done; change nothing.
      --json      Print the report as JSON on stdout: the fields of the library's recover()
                  report (rolledForward, rolledBack, discarded, skipped, corrupt, failed, ...).
      --grace <ms>  s3:// only: remove uncommitted staged data older than this (default: the
                  store's grace, 1 hour). Lower only when no writer can be live.
  -h, --help      Show this help.

A progress bar is drawn on stdout while a large transaction is applied, only when stdout is a
terminal and --json is not given.

Exit status:
  0  nothing is left to recover (with --dry-run: there is nothing to do)
  1  txnfs could not recover (e.g. <dir> does not exist, the root lock stayed held; for s3://, a
     request failed or @aws-sdk/client-s3 is not installed)
  2  bad arguments
  3  --dry-run only: there is something to recover
  4  something is left for a person: a corrupt journal, or a transaction that could not be
     resolved (its reason is printed; fix the cause and run txnfs recover again)

Examples:
  txnfs recover out
  txnfs recover out --dry-run
  txnfs recover out --json > recovery.json
  txnfs recover s3://exports/daily --dry-run
`;

export const snapshotUsage = `Usage: txnfs snapshot <dir> -- <command> [args...]
       txnfs snapshot s3://<bucket>[/<prefix>] (--list | --get <path>)`;

export const snapshotHelp = `${snapshotUsage}

<dir> is the pointer of a generations root (written with layout: 'generations'). Pin its current
generation, run <command> with TXNFS_SNAPSHOT set to that generation's real path, and release the
pin when the command exits. While the command runs, that generation is never deleted, however
many commits land, and nothing in it changes: read everything through $TXNFS_SNAPSHOT, never
through <dir> (which moves on at each commit). If txnfs is killed, the pin is released by the
next commit or recover on this host (other hosts: after 30 s without a heartbeat).

The command runs without a shell; use sh -c '...' for pipes and redirections. SIGINT, SIGTERM and
SIGHUP are forwarded to it.

For s3://<bucket>[/<prefix>] there is no directory to run a command in: --list prints the pinned
head generation ("# generation N") and every path in it, one per line; --get <path> writes that
file's bytes, as of that generation, to stdout. Exit 0, or 125 as below when txnfs failed (bad
arguments, bad credentials, no such bucket or path).
s3://<bucket>[/<prefix>] names a txnfs/s3 store (docs/s3.md). It needs the optional peer
dependency @aws-sdk/client-s3; credentials, region and endpoint come from the standard AWS_*
environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or
AWS_ENDPOINT_URL_S3; with an endpoint of its own, requests are path-style).

Exit status:
  the command's own exit status; if it is killed by a signal, txnfs kills itself with the same
  signal (as txnfs exec does).
  125  txnfs itself failed (bad arguments, <dir> is not a generations pointer; for s3://, a
       request failed, --get named no such file, or @aws-sdk/client-s3 is not installed)
  126  the command could not be run (permission denied)
  127  the command was not found

Examples:
  txnfs snapshot out -- sh -c 'rsync -a "$TXNFS_SNAPSHOT"/ backup:/out/'
  txnfs snapshot out -- sh -c 'wc -l "$TXNFS_SNAPSHOT"/*.csv'
  txnfs snapshot s3://exports/daily --get report.csv > report.csv
`;

export const doctorUsage = 'Usage: txnfs doctor [dir] [--json] [--lock-stale <ms>]';

export const doctorHelp = `${doctorUsage}

Probe the filesystem under [dir] (default: the current directory) for what txnfs relies on:
atomic rename over a file, directory fsync, hard links (and fs.protected_hardlinks), O_EXCL and
mkdir exclusivity, mtime granularity against the lock stale time, case folding and Unicode
normalisation of names, mount points inside the root, the filesystem type (local, FUSE or
network), free space and inodes. Each line says what txnfs does about it: nothing, a fallback, a
refusal up front, or a warning. The probes run in a scratch directory inside <dir>/.txnfs/ that
is removed afterwards; no other file of <dir> is opened.

Options:
      --json             Print the report as JSON on stdout (the library's doctor() report).
      --lock-stale <ms>  The lockStale your writers use (default 10000), for the mtime check.
  -h, --help             Show this help.

Exit status:
  0  every guarantee holds here (some through a fallback or a refusal)
  1  txnfs could not probe (e.g. <dir> does not exist or is read-only)
  2  bad arguments
  5  the guarantees hold only under the conditions the warnings name (e.g. a network or FUSE
     filesystem: one writer host only)
  6  a guarantee does not hold here (rename or O_EXCL broken): do not use txnfs on it

Examples:
  txnfs doctor /srv/export
  txnfs doctor . --json | jq '.checks[] | select(.holds | not)'
`;
