#!/usr/bin/env bash
# 运行全部测试（pytest；notebooks/ 中有笔记本时用 nbval 一并执行）。CI 的 .ci/run 运行的就是这条命令。
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
args=(tests)
if compgen -G "notebooks/*.ipynb" > /dev/null; then
  args+=(--nbval-lax notebooks)
fi
exec .venv/bin/python -m pytest "${args[@]}" "$@"
