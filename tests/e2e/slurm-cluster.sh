#!/usr/bin/env bash
# A real single-node Slurm cluster for tests (Debian's slurm-wlm and munge, run as root, no
# systemd; the recipe of ../shared/design/slurm-single-node.md). State lives in STATE_DIR.
#   tests/e2e/slurm-cluster.sh start STATE_DIR   # prints: export SLURM_CONF=STATE_DIR/slurm.conf
#   tests/e2e/slurm-cluster.sh stop STATE_DIR    # stops the daemons it started, by PID file
# Exit 77 (the skip code) when Slurm cannot start here: not root, or slurm-wlm/munge missing.
set -euo pipefail
action=${1:?usage: slurm-cluster.sh start|stop STATE_DIR}
D=$(realpath -m "${2:?usage: slurm-cluster.sh start|stop STATE_DIR}")

alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status"; }
stop_pid_file() {
  local pf=$1 p
  [[ -s $pf ]] || return 0
  p=$(cat "$pf")
  alive "$p" || return 0
  kill "$p" 2>/dev/null || true
  for _ in $(seq 100); do alive "$p" || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}

if [[ $action == stop ]]; then
  stop_pid_file "$D/slurmd.pid"
  stop_pid_file "$D/slurmctld.pid"
  # munged only when this script started it (a munged that was already running stays)
  [[ -e $D/started-munged ]] && stop_pid_file /run/munge/munged.pid
  exit 0
fi
[[ $action == start ]] || { echo "slurm-cluster.sh: unknown action '$action'" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]]; then echo "slurm-cluster.sh: needs root (munged and slurmd)" >&2; exit 77; fi
for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch; do
  [[ -x $b ]] || { echo "slurm-cluster.sh: $b missing (apt-get install slurm-wlm munge)" >&2; exit 77; }
done

mkdir -p "$D/ctld" "$D/d" "$D/log"
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
[[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  touch "$D/started-munged"
fi
cat > "$D/slurm.conf" <<CONF
ClusterName=reclaimtest
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/d
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=4
NodeName=localhost CPUs=$(nproc) RealMemory=$(awk '/MemTotal/{print int($2/1024*0.9)}' /proc/meminfo) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$D/slurm.conf
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 120); do
  [[ "$(sinfo -h -N -o %t 2>/dev/null)" == idle ]] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.5
done
echo "slurm-cluster.sh: the node did not become idle in 60 s (logs in $D/log)" >&2
"$0" stop "$D" || true
exit 1
