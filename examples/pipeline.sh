#!/bin/sh
# A shell pipeline whose outputs land all together, or not at all.
#
#   examples/pipeline.sh examples/data/sales.csv reports
#
# Reads a CSV of sales (region,product,units) and writes reports/by-region/<region>.csv and
# reports/summary.csv. The script runs itself through `txnfs exec`: the job writes into
# $TXNFS_OUT, a fresh directory, and txnfs moves everything it wrote into reports/ in one
# transaction when it exits 0. If any step fails (or the job is killed), reports/ is left exactly as
# it was. --delete-missing also removes the reports of regions that are gone from the input.
#
# Needs `txnfs` on PATH (npm install -g txnfs; or in a project: npx txnfs, ./node_modules/.bin).
set -eu
export LC_ALL=C # sort the same way everywhere

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <sales.csv> <reports-dir>" >&2
  exit 2
fi

# #region wrap
if [ -z "${TXNFS_OUT:-}" ]; then
  # Not under txnfs yet: run this same script again through `txnfs exec`, which sets TXNFS_OUT.
  mkdir -p "$2"
  exec txnfs exec "$2" --delete-missing -- "$0" "$@"
fi
# #endregion wrap

# #region job
input=$1
mkdir -p "$TXNFS_OUT/by-region"

# One CSV per region, rows sorted by product.
tail -n +2 "$input" | sort -t, -k1,1 -k2,2 | awk -F, -v dir="$TXNFS_OUT/by-region" '
  { file = dir "/" $1 ".csv" }
  !(file in seen) { print "product,units" > file; seen[file] = 1 }
  { print $2 "," $3 > file }'

# Units per region. A line whose units are not a number fails the whole run: by-region/ above was
# already written, but none of it lands.
awk -F, 'NR > 1 && $3 !~ /^[0-9]+$/ { print "pipeline.sh: line " NR ": units is not a number: " $0 > "/dev/stderr"; exit 1 }
  NR > 1 { units[$1] += $3 }
  END { for (r in units) print r "," units[r] }' "$input" > "$TXNFS_OUT/summary.tmp"
{ echo "region,units"; sort "$TXNFS_OUT/summary.tmp"; } > "$TXNFS_OUT/summary.csv"
rm "$TXNFS_OUT/summary.tmp"
# #endregion job
