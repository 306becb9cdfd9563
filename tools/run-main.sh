#!/usr/bin/env bash
# `make run`'s main job: the Vulkan devices, then a question to a real
# MiniMind pulled from the Hugging Face Hub (RUN_MODEL, default
# hf:jingyaogong/MiniMind2-Small) through its chat template. When the pull
# fails (offline: no network and nothing cached), one line says why and a
# story is told with stories260K from ../shared, or, without ../shared, with
# a committed oracle checkpoint whose weights are random (gibberish).
# A local RUN_MODEL (a .gguf or a Hugging Face folder) is run as it is.
set -uo pipefail

vkmind=$1 model=$2 question=$3 story_prompt=$4
stories=../shared/models/stories260K/stories260K.gguf
oracle=tests/reference/golden/llama_f32/model.gguf

"$vkmind" info || exit

if [[ $model == hf:* ]]; then
  if error=$("$vkmind" pull --quiet "${model#hf:}" 2>&1 >/dev/null); then
    echo "make run: $model answers: $question" >&2
    exec "$vkmind" run -m "$model" --chat -p "$question" -n 200 --temp 0.7 --seed 42
  fi
  reason=$(printf '%s\n' "$error" | tail -n 1)
  reason=${reason#vkmind: error: }
  if [[ -f $stories ]]; then
    echo "make run: no $model (${reason}); telling a story with stories260K instead" >&2
    model=$stories
  else
    echo "make run: no $model (${reason}); falling back to $oracle, whose weights are random: expect gibberish" >&2
    model=$oracle
  fi
fi
exec "$vkmind" run -m "$model" -p "$story_prompt" -n 200 --temp 0.8 --seed 42
