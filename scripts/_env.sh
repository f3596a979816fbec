# Shared by scripts/setup.sh and scripts/test.sh: make .venv/ with the pinned environment (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "需要 Python 3.11 或更高版本（当前：$("$PYTHON" --version 2>&1)）。可用 PYTHON=/path/to/python3.11 指定。" >&2
  exit 1
fi
# 报告的系统依赖（Debian 包）：中文字体（图表与 PDF；文泉驿微米黑 fonts-wqy-microhei，约 5 MB）和 PDF 用的
# HarfBuzz 字体子集库（libharfbuzz-subset0）。缺少时用 apt 安装（需要 root）。
need=()
fc-list 2>/dev/null | grep -qiE "WenQuanYi|Noto Sans CJK|Noto Serif CJK|Source Han|Droid Sans Fallback" \
  || need+=(fonts-wqy-microhei fontconfig)
ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset" || need+=(libharfbuzz-subset0)
if ((${#need[@]})); then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> 安装系统依赖：${need[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null \
      || echo "警告：系统依赖安装失败（${need[*]}）；报告中的中文可能显示为方框。" >&2
  else
    echo "警告：缺少 ${need[*]}，且无法用 apt 安装（需要 root）：请由管理员安装。" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> 创建虚拟环境 .venv/"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.cim-installed"
want="$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> 安装依赖（版本锁定于 requirements/constraints.txt）"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
  echo "$want" > "$stamp"
fi
