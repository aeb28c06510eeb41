#!/bin/sh
# The same training gives the same parameter bits whether OpenBLAS runs on 1
# or 2 threads (set through the environment, as a host application would).
#   check_openblas_threads.sh TEST_TRAINER_PROGRAM
set -eu
one=$(OPENBLAS_NUM_THREADS=1 "$1" --parameter-digest)
two=$(OPENBLAS_NUM_THREADS=2 "$1" --parameter-digest)
echo "OPENBLAS_NUM_THREADS=1: $one"
echo "OPENBLAS_NUM_THREADS=2: $two"
[ -n "$one" ] && [ "$one" = "$two" ]
