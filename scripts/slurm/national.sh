#!/usr/bin/env bash
# The national-run driver (docs/national.md, "Drivers"): plan, run every unit as a Slurm job
# array (or on this machine with --local), resubmit what failed up to a limit, then merge.
#
#   scripts/slurm/national.sh [options] JOB RUN/
#
#   --local          no Slurm: run the units here (reclaim run RUN/ --jobs N), then merge
#   --tasks N        array tasks, each one shard of the units (default: min(units, 64)); with
#                    --local, processes (default: the cores)
#   --throttle T     at most T array tasks at once (sbatch --array=...%T)
#   --gpu            one GPU per task (--gres=gpu:1, reclaim --device cuda)
#   --gpus LIST      with --local: the devices, one process per device (CUDA_VISIBLE_DEVICES)
#   --retries R      resubmit failed tasks up to R times (default 2)
#   --sbatch "ARGS"  more sbatch options for every job (partition, time limit, account)
#   --reclaim PATH   the reclaim binary (default: reclaim on PATH, or $RECLAIM)
#   --poll S         seconds between squeue polls (default 10)
#
# An existing RUN/ of the same job is resumed: complete units are not run again. Logs are in
# RUN/logs/. Exit status: 0 merged; 2 usage; 3 bad input (retrying cannot help: the plan or
# a task refused its input); 4 units still failing after the retries, or the merge failed;
# 130/143 interrupted.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "national.sh: $2" >&2; exit "$1"; }

local_mode=0 tasks="" throttle="" gpu=0 gpus="" retries=2 extra="" poll=10
reclaim=${RECLAIM:-reclaim}
while [[ $# -gt 0 ]]; do
  case $1 in
    --local) local_mode=1 ;;
    --tasks) tasks=${2:?--tasks N}; shift ;;
    --throttle) throttle=${2:?--throttle T}; shift ;;
    --gpu) gpu=1 ;;
    --gpus) gpus=${2:?--gpus LIST}; shift ;;
    --retries) retries=${2:?--retries R}; shift ;;
    --sbatch) extra=${2:?--sbatch ARGS}; shift ;;
    --reclaim) reclaim=${2:?--reclaim PATH}; shift ;;
    --poll) poll=${2:?--poll S}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die 2 "unknown option '$1' (--help lists them)" ;;
    *) break ;;
  esac
  shift
done
[[ $# -eq 2 ]] || die 2 "give the job file and the run folder: national.sh [options] JOB RUN/"
for v in "$tasks" "$throttle" "$retries" "$poll"; do
  [[ -z $v || $v =~ ^[0-9]+$ ]] || die 2 "'$v': expected a whole number"
done
[[ -z $tasks || $tasks -gt 0 ]] || die 2 "--tasks 0: expected one task or more"
job=$1
run=$(realpath -m "$2")
[[ -f $job ]] || die 3 "$job: no such job file"
reclaim=$(command -v "$reclaim") || die 2 "reclaim binary not found (give --reclaim PATH)"
export RECLAIM=$reclaim

# 1. The plan, unless RUN/ already holds this job's (then it is resumed).
if [[ -f $run/plan.json ]]; then
  grep -qF "\"path\": \"$(realpath "$job")\"" "$run/plan.json" ||
    die 3 "$run holds the plan of another job file: give another RUN/ folder"
  echo "national.sh: resuming $run (its plan is kept; units complete already are not run again)" >&2
else
  "$reclaim" plan "$job" --out "$run" >&2
fi
mkdir -p "$run/logs"
units=$("$reclaim" run "$run" --pending | wc -l)
echo "national.sh: $units units to run" >&2

# 2a. One machine: N processes, retried, then the merge.
if [[ $local_mode -eq 1 ]]; then
  jobs_args=()
  [[ -n $tasks ]] && jobs_args+=(--jobs "$tasks")
  [[ -n $gpus ]] && jobs_args+=(--gpus "$gpus" --device cuda)
  [[ -z $tasks && -z $gpus ]] && jobs_args+=(--jobs "$(nproc)")
  [[ $gpu -eq 1 && -z $gpus ]] && jobs_args+=(--device cuda)
  attempt=0
  while [[ $units -gt 0 ]]; do
    rc=0
    "$reclaim" run "$run" "${jobs_args[@]}" --quiet || rc=$?
    [[ $rc -eq 0 ]] && break
    case $rc in 2|3|130|143) die "$rc" "reclaim run exited with $rc: not retried" ;; esac
    attempt=$((attempt + 1))
    [[ $attempt -le $retries ]] || die 4 "units still failing after $retries retries: $("$reclaim" run "$run" --pending | paste -sd, -)"
    echo "national.sh: retry $attempt of $retries: $("$reclaim" run "$run" --pending | paste -sd, -)" >&2
  done
  "$reclaim" merge "$run" --overwrite --quiet
  exit 0
fi

# 2b. Slurm: an array of shards, the merge chained after it with --dependency.
command -v sbatch >/dev/null || die 2 "sbatch not found: run on a Slurm login node, or use --local"
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z $tasks ]]; then tasks=$(( units < 64 ? units : 64 )); fi
[[ $tasks -gt 0 ]] || tasks=1
max_array=$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" {print $3}')
if [[ -n $max_array && $tasks -ge $max_array ]]; then
  echo "national.sh: --tasks $tasks is not below the cluster's MaxArraySize $max_array: using $((max_array - 1))" >&2
  tasks=$((max_array - 1))
fi
read -r -a sbatch_extra <<< "$extra"
run_args=""
gres=()
if [[ $gpu -eq 1 ]]; then gres=(--gres=gpu:1); run_args="--device cuda"; fi

# Waits until a job (or every task of an array) has left the queue's active states.
wait_job() {
  local out
  while true; do
    if out=$(squeue -h -j "$1" -o %T 2>&1); then
      [[ -z $out ]] && return 0
    elif grep -q "Invalid job id" <<< "$out"; then
      return 0  # finished and purged from the controller's memory
    fi
    sleep "$poll"
  done
}
submit_merge() {  # [dependency]
  sbatch --parsable ${1:+--dependency=afterok:$1} -J reclaim-merge -o "$run/logs/merge-%j.out" \
    "${sbatch_extra[@]}" "$here/merge.sbatch" "$run" </dev/null
}
on_signal() {
  [[ -n ${array_job:-} ]] && scancel "$array_job" 2>/dev/null
  [[ -n ${merge_job:-} ]] && scancel "$merge_job" 2>/dev/null
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

pending=$("$reclaim" run "$run" --pending-shards "$tasks")
attempt=0
array_job="" merge_job=""
while [[ -n $pending ]]; do
  array=$pending${throttle:+%$throttle}
  array_job=$(sbatch --parsable --array="$array" -J reclaim-units -o "$run/logs/units-%A_%a.out" \
    --export=ALL,RECLAIM_SHARDS="$tasks",RECLAIM_RUN_ARGS="$run_args" "${gres[@]}" "${sbatch_extra[@]}" \
    "$here/units.sbatch" "$run" </dev/null)
  array_job=${array_job%%;*}
  merge_job=$(submit_merge "$array_job")
  merge_job=${merge_job%%;*}
  echo "national.sh: array job $array_job (tasks $array of $tasks shards), merge job $merge_job after it" >&2
  wait_job "$array_job"
  # A task that refused its input (2, 3) fails again whatever we do: stop.
  for f in "$run"/logs/task-"${array_job}"_*.rc; do
    [[ -e $f ]] || continue
    case $(cat "$f") in 2|3) scancel "$merge_job" 2>/dev/null
      die 3 "task $(basename "$f" .rc) refused its input (exit $(cat "$f")): see $run/logs/units-${f##*/task-}";; esac
  done
  pending=$("$reclaim" run "$run" --pending-shards "$tasks")
  [[ -z $pending ]] && break
  scancel "$merge_job" 2>/dev/null || true
  merge_job=""
  attempt=$((attempt + 1))
  [[ $attempt -le $retries ]] || die 4 "shards $pending still have units not complete after $retries retries (logs: $run/logs/)"
  echo "national.sh: retry $attempt of $retries: shards $pending" >&2
done

if [[ -z $merge_job ]]; then
  merge_job=$(submit_merge "")
  merge_job=${merge_job%%;*}
  echo "national.sh: every unit complete: merge job $merge_job" >&2
fi
while true; do
  if out=$(squeue -h -j "$merge_job" -o "%T %r" 2>&1); then
    [[ -z $out ]] && break
    # A dependency that can no longer be met (a task failed after its units were complete):
    # the units are complete, so the merge runs without it.
    if [[ $out == *DependencyNeverSatisfied* ]]; then
      scancel "$merge_job" 2>/dev/null || true
      merge_job=$(submit_merge "")
      merge_job=${merge_job%%;*}
      echo "national.sh: merge job resubmitted without its dependency: $merge_job" >&2
    fi
  elif grep -q "Invalid job id" <<< "$out"; then
    break
  fi
  sleep "$poll"
done
rc_file=$run/logs/merge-$merge_job.rc
[[ -s $rc_file && $(cat "$rc_file") == 0 ]] ||
  die 4 "the merge job $merge_job failed (exit $(cat "$rc_file" 2>/dev/null || echo unknown)): see $run/logs/merge-$merge_job.out"
echo "national.sh: merged: $run/sites.csv, $run/summary.json, $run/report.html" >&2
