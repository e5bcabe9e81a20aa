#!/usr/bin/env bash
# Data-parallel training with torchrun (PyTorch's launcher, from Debian's
# python3-torch) over c10d: Gloo on CPUs, NCCL on GPUs.
#
# One machine, N processes:
#   scripts/train_distributed.sh --nproc 2 -- --config configs/demo.json --out runs/demo-dist
# Several machines (run on each; node 0's address is the rendezvous):
#   scripts/train_distributed.sh --nnodes 2 --node-rank 0 --master 10.0.0.1 --nproc 1 -- --config ...
#   scripts/train_distributed.sh --nnodes 2 --node-rank 1 --master 10.0.0.1 --nproc 1 -- --config ...
# Every rank must see the dataset and, to resume, the run directory (shared storage).
#
# Without torchrun, set the variables yourself for each process:
#   RANK=r WORLD_SIZE=n LOCAL_RANK=r MASTER_ADDR=host MASTER_PORT=29500 build/adaptive-train ...
set -euo pipefail
cd "$(dirname "$0")/.."
nnodes=1 node_rank=0 master=127.0.0.1 port=29500 nproc=2
while (($#)); do
  case "$1" in
    --nnodes) nnodes=$2; shift 2 ;;
    --node-rank) node_rank=$2; shift 2 ;;
    --master) master=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --nproc) nproc=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "train_distributed.sh: unknown option '$1' (see the header)" >&2; exit 2 ;;
  esac
done
scripts/build.sh --with-python >/dev/null   # python3-torch brings torchrun
threads=$(( $(nproc) / nproc > 0 ? $(nproc) / nproc : 1 ))
# Debian's torchrun (python3-torch 1.13 on Python 3.11) crashes at start
# unless its output is redirected: --redirects 1 --tee 1.
exec torchrun --nnodes "$nnodes" --node_rank "$node_rank" --nproc_per_node "$nproc" \
  --master_addr "$master" --master_port "$port" --redirects 1 --tee 1 \
  --no_python build/adaptive-train --threads "$threads" "$@"
