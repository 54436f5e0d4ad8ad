#!/usr/bin/env bash
# The suite as CI runs it (the README's test command). The template's tests run in a copy
# of the repository without this project's research, as a lean fork has it (README,
# "Start your own project"): that they pass there is the check that nothing in the
# template needs the experiments. The experiments' tests then run here. Each test runs
# once; `python -m pytest -q` runs them all in place. Arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
lean=$(mktemp -d)
trap 'rm -rf "$lean"' EXIT
research=(lightning_wgan/experiments tests/experiments docs/results docs/results.md docs/benchmark.md)
excludes=()
for path in "${research[@]}"; do excludes+=(":(exclude)$path"); done
# Tracked and untracked files (not ignored ones), as they are in the working tree.
git ls-files -z --cached --others --exclude-standard -- . "${excludes[@]}" |
  while IFS= read -r -d '' file; do
    if [ -f "$file" ]; then cp --parents -- "$file" "$lean"; fi
  done
echo "template tests, in a copy without ${research[*]}:"
(cd "$lean" && python -m pytest -q "$@")
if [ -d tests/experiments ]; then  # a lean fork has deleted them
  echo "experiment tests:"
  python -m pytest -q tests/experiments "$@"
fi
