#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the Slurm tests and for trying swarms locally.
#
#   scripts/slurm-cluster.sh          install (if missing), configure and start; waits until the node is idle
#   scripts/slurm-cluster.sh stop     stop slurmd, slurmctld and munged
#   scripts/slurm-cluster.sh status   show what runs and what sinfo says
#
# Needs root (uses sudo when run as another user). Works without systemd: the daemons are started
# directly and found again through their pid files. Safe to run again: it installs only what is
# missing, rewrites /etc/slurm/slurm.conf only when it would change (restarting the daemons then),
# starts only what is not running, and resumes the node when it is down or drained.
#
# The cluster: partition `debug` (default, no time limit) with this one node (its CPUs and ~95 % of
# its memory), select/cons_tres with CR_CPU_Memory (every CPU is a slot; a job that names no memory
# gets its share per CPU), no cgroups (proctrack/linuxproc, task/none), time limits enforced without
# grace (OverTimeLimit=0, KillWait=5 s), finished jobs kept in `scontrol show job` for 10 minutes
# (MinJobAge=600). There is no slurmdbd, so `sacct` works only in its job-completion mode:
# `sacct -c` reads /var/log/slurm/jobcomp.log (JobCompType=jobcomp/filetxt).
set -euo pipefail

action="${1:-start}"
case "$action" in start|stop|status) ;; *)
  echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "slurm-cluster: run this as root (it installs packages and starts daemons)" >&2; exit 1; }
  exec sudo -E "$0" "$@"
fi

conf_dir=/etc/slurm
conf="$conf_dir/slurm.conf"
log_dir=/var/log/slurm
state_dir=/var/lib/slurm
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munge_pid=/run/munge/munged.pid
node="$(hostname -s)"

say() { echo "slurm-cluster: $*"; }

# Whether a process is alive: it exists and is not a zombie (a killed daemon's parent may be an init
# that reaps late, and kill -0 succeeds on a zombie).
alive() { # pid
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# The pid in a pid file when that process is alive and runs `name`; nothing otherwise.
running_pid() { # pidfile name
  local pid
  [ -r "$1" ] || return 1
  pid="$(tr -dc '0-9' < "$1")"
  [ -n "$pid" ] && alive "$pid" || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}

# Sends SIGTERM to the daemon of a pid file and waits (up to 15 s, then SIGKILL) until it is gone.
stop_daemon() { # pidfile name
  local pid i
  pid="$(running_pid "$1" "$2")" || { rm -f "$1"; return 0; }
  say "stopping $2 (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 150); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
  rm -f "$1"
}

# Starts a daemon detached from the caller: no inherited descriptors beyond stdio (a CI runner's pipe
# held open by a daemon would keep the runner waiting forever), stdio to a start log shown on failure.
start_daemon() { # name command...
  local name="$1" fd; shift
  say "starting $name"
  if ! (
    for fd in $(ls /proc/$BASHPID/fd 2>/dev/null); do
      [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@" </dev/null >"$log_dir/$name.start.log" 2>&1
  ); then
    echo "slurm-cluster: $name did not start:" >&2
    cat "$log_dir/$name.start.log" >&2 || true
    exit 1
  fi
}

stop_all() {
  stop_daemon "$slurmd_pid" slurmd
  stop_daemon "$ctld_pid" slurmctld
  stop_daemon "$munge_pid" munged
}

# Never take over a real cluster's node: its slurm.conf was written by someone else.
header="# Written by scripts/slurm-cluster.sh"
if [ "$action" != status ] && [ -f "$conf" ] && [ "$(head -c ${#header} "$conf")" != "$header" ] && [ -z "${SLURM_CLUSTER_FORCE:-}" ]; then
  echo "slurm-cluster: $conf was not written by this script (is this a real cluster's node?); it is left alone." >&2
  echo "slurm-cluster: move it away, or run with SLURM_CLUSTER_FORCE=1 to replace it with the single-node configuration." >&2
  exit 1
fi

if [ "$action" = stop ]; then
  stop_all
  exit 0
fi

if [ "$action" = status ]; then
  for d in "$munge_pid munged" "$ctld_pid slurmctld" "$slurmd_pid slurmd"; do
    set -- $d
    if pid="$(running_pid "$1" "$2")"; then say "$2 running (pid $pid)"; else say "$2 not running"; fi
  done
  command -v sinfo >/dev/null 2>&1 && sinfo 2>&1 || true
  exit 0
fi

# --- install -----------------------------------------------------------------------------------
missing=()
for p in slurm-wlm slurmctld slurmd slurm-client munge; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  # Without systemd the packages' own start attempts fail harmlessly; we start the daemons below.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for c in munged slurmctld slurmd sbatch sinfo scontrol; do
  command -v "$c" >/dev/null 2>&1 || { echo "slurm-cluster: $c is missing after installing slurm-wlm and munge" >&2; exit 1; }
done

# --- configure ---------------------------------------------------------------------------------
cpus="$(nproc)"
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
real_mb=$(( mem_mb * 95 / 100 ))          # a bit under the machine's, so slurmd never reports less
def_mem_per_cpu=$(( real_mb / cpus ))
install -d -m 0755 "$conf_dir"
install -d -o slurm -g slurm -m 0755 "$log_dir" "$state_dir" "$state_dir/slurmctld" "$state_dir/slurmd"
new_conf="$(cat <<EOF
$header for this machine ($node); it rewrites this file when it changes.
ClusterName=autoresearch
SlurmctldHost=$node(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmdSpoolDir=$state_dir/slurmd
StateSaveLocation=$state_dir/slurmctld
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$def_mem_per_cpu
# Finished jobs stay in scontrol show job for 10 minutes; time limits bite at once.
MinJobAge=600
KillWait=5
InactiveLimit=0
OverTimeLimit=0
# No slurmdbd: sacct reads the completion log with -c.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$log_dir/jobcomp.log
SlurmctldDebug=info
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdDebug=info
SlurmdLogFile=$log_dir/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
)"
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
  say "writing $conf ($node: $cpus CPUs, ${real_mb} MB)"
  printf '%s\n' "$new_conf" > "$conf.tmp"
  chmod 0644 "$conf.tmp"
  mv "$conf.tmp" "$conf"
  changed=1
fi

# --- munge -------------------------------------------------------------------------------------
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  say "creating the munge key"
  (umask 077; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none)
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

if [ "$changed" = 1 ]; then
  # A new configuration: restart the Slurm daemons that run with the old one.
  stop_daemon "$slurmd_pid" slurmd
  stop_daemon "$ctld_pid" slurmctld
fi

munge_answers() { timeout 5 sh -c 'munge -n | unmunge' >/dev/null 2>&1; }
if running_pid "$munge_pid" munged >/dev/null && ! munge_answers; then
  stop_daemon "$munge_pid" munged   # alive but deaf: start it again
fi
if ! running_pid "$munge_pid" munged >/dev/null; then
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  start_daemon munged runuser -u munge -- /usr/sbin/munged
fi
deadline=$((SECONDS + 20))
until munge_answers; do
  [ $SECONDS -lt $deadline ] || { echo "slurm-cluster: munged does not answer; see /var/log/munge/munged.log" >&2; exit 1; }
  sleep 0.2
done

# --- slurm -------------------------------------------------------------------------------------
if ! running_pid "$ctld_pid" slurmctld >/dev/null; then
  start_daemon slurmctld /usr/sbin/slurmctld
fi
deadline=$((SECONDS + 30))
until timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; do
  [ $SECONDS -lt $deadline ] || { echo "slurm-cluster: slurmctld does not answer; see $log_dir/slurmctld.log" >&2; exit 1; }
  sleep 0.2
done
if ! running_pid "$slurmd_pid" slurmd >/dev/null; then
  start_daemon slurmd /usr/sbin/slurmd
fi

# Wait until the node is usable; resume it when it is down or drained (e.g. after an unclean stop).
state=""
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  state="$(timeout 10 sinfo -h -n "$node" -o %T 2>/dev/null | head -n1)"
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    down*|drain*|fail*)
      [ -n "${resumed:-}" ] || say "node $node is $state: resuming it"
      resumed=1
      scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated|completing) say "ready: node $node is $state in partition debug" ;;
  *) echo "slurm-cluster: node $node is '${state:-unknown}' after 60 s; see $log_dir/slurmd.log and $log_dir/slurmctld.log" >&2
     sinfo -R >&2 || true
     exit 1 ;;
esac
