# Shared by scripts/setup.sh and scripts/test.sh: make .venv/ with the pinned environment (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "需要 Python 3.11 或更高版本（当前：$("$PYTHON" --version 2>&1)）。可用 PYTHON=/path/to/python3.11 指定。" >&2
  exit 1
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
