#!/usr/bin/env bash
# 运行全部测试（pytest；notebooks/ 中有笔记本时用 nbval 一并执行）。CI 的 .ci/run 运行的就是这条命令。
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
args=(tests)
if compgen -G "notebooks/*.ipynb" > /dev/null; then
  # 笔记本在默认数据目录（样例城市）上运行：没有样例城市时先生成（小规模，约 20 秒）
  if [ ! -f data/sample/data_catalog.yaml ]; then
    echo "==> 生成样例城市（供笔记本测试）"
    .venv/bin/cim demo --seed 7 --scale small --quiet
  fi
  args+=(--nbval-lax notebooks)
fi
exec .venv/bin/python -m pytest "${args[@]}" "$@"
