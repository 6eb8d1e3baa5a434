#!/usr/bin/env bash
# A throw-away single-node Ceph RADOS Gateway (S3) on loopback, for the S3 conformance tests.
#   scripts/rgw.sh start <dir>   -> prints "endpoint=http://127.0.0.1:PORT access=KEY secret=KEY"
#   scripts/rgw.sh stop <dir>    -> kills exactly the processes whose pid files are in <dir>/run
# One ceph-mon, one memstore ceph-osd (data in RAM: nothing survives stop), one radosgw; auth
# disabled. Why these settings:
# - `ms mon client mode = crc`: with auth disabled the gateway otherwise negotiates a "secure"
#   mode with the monitor that cannot exist without keys, and hangs on start.
# - pool size 1 / chooseleaf type 0: one OSD must be enough for every pool to go active+clean.
# - ports come from the caller (RGW_PORT, MON_PORT) or are picked free, so parallel runs coexist.
set -euo pipefail
cmd=${1:?usage: rgw.sh start|stop <dir>}
dir=${2:?usage: rgw.sh start|stop <dir>}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

stop() {
  # Only the pids this script recorded: never a broad name match (other runs share the machine).
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: rgw.sh start|stop <dir>" >&2; exit 2; }

for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen; do
  command -v "$bin" >/dev/null || { echo "rgw.sh: $bin not installed (apt-get install radosgw ceph-mon ceph-osd ceph-common uuid-runtime)" >&2; exit 3; }
done

mkdir -p "$dir"/{mon,osd,run,log,rgw}
dir=$(cd "$dir" && pwd)
mon_port=${MON_PORT:-$(free_port)}
rgw_port=${RGW_PORT:-$(free_port)}
fsid=$(uuidgen)
conf="$dir/ceph.conf"
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms bind msgr1 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 1073741824
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon data = $dir/mon/\$name
osd data = $dir/osd/\$name
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
EOF
export CEPH_CONF="$conf"
trap 'stop' ERR

monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1
ceph-mon -c "$conf" -i a
timeout 30 ceph -c "$conf" osd set-require-min-compat-client luminous >/dev/null 2>&1 || true
osd_id=$(timeout 30 ceph -c "$conf" osd create)
mkdir -p "$dir/osd/osd.$osd_id"
ceph-osd -c "$conf" -i "$osd_id" --mkfs >"$dir/log/mkfs-osd.out" 2>&1
ceph-osd -c "$conf" -i "$osd_id"
timeout 30 ceph -c "$conf" osd crush add "osd.$osd_id" 1 root=default >/dev/null 2>&1 || true
radosgw -c "$conf" -n client.rgw
access=txnfstestaccess
secret=txnfstestsecret0000000000000000000000000
timeout 60 radosgw-admin -c "$conf" -n client.rgw user create --uid=txnfs --display-name=txnfs \
  --access-key="$access" --secret-key="$secret" >/dev/null 2>"$dir/log/user.err"
# The gateway answers HTTP once its pools are active; wait for it (cold start ~12 s).
for _ in $(seq 600); do
  if curl -s -o /dev/null "http://127.0.0.1:$rgw_port/" 2>/dev/null || python3 - "$rgw_port" <<'PY' 2>/dev/null
import sys, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
  then
    echo "endpoint=http://127.0.0.1:$rgw_port access=$access secret=$secret"
    exit 0
  fi
  sleep 0.1
done
echo "rgw.sh: gateway did not answer on 127.0.0.1:$rgw_port (logs in $dir/log)" >&2
stop
exit 1
