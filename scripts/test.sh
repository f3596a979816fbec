#!/usr/bin/env bash
# 运行全部测试（pytest；notebooks/ 中有笔记本时用 nbval 一并执行）。CI 的 .ci/run 运行的就是这条命令。
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
# 测试用的 Debian 包，缺少时用 apt 安装（需要 root；一次 apt-get update）；无法安装时相应测试跳过并说明原因：
# - PostGIS 测试（tests/catalog/test_postgis.py 等）需要本机的 PostgreSQL 服务器与 PostGIS 扩展；
#   测试自己在回环地址上启动临时实例。
# - 浏览器测试（tests/reports/test_browser.py）需要 Chromium 与 chromedriver，在断网状态下打开报告与索引页。
need_pg=0 need_browser=0
compgen -G "/usr/share/postgresql/*/extension/postgis.control" > /dev/null || need_pg=1
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || need_browser=1
if ((need_pg || need_browser)); then
  if [ "$(id -u)" = "0" ] && command -v apt-get > /dev/null 2>&1; then
    apt-get update -qq > /dev/null 2>&1 || echo "警告：apt-get update 失败；仍尝试安装测试用的系统包。" >&2
    if ((need_pg)); then
      pgv="$(apt-cache depends postgresql 2>/dev/null | awk '/Depends: postgresql-[0-9]+$/ {sub("postgresql-", "", $2); print $2; exit}')"
      if [ -n "$pgv" ]; then
        echo "==> 安装 PostgreSQL ${pgv} 与 PostGIS（测试用）"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-${pgv}" "postgresql-${pgv}-postgis-3" \
          > /dev/null || echo "警告：PostgreSQL/PostGIS 安装失败；PostGIS 测试将跳过。" >&2
      else
        echo "警告：apt 中找不到 PostgreSQL 软件包；PostGIS 测试将跳过。" >&2
      fi
    fi
    if ((need_browser)); then
      echo "==> 安装 Chromium 与 chromedriver（浏览器测试用）"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver \
        > /dev/null || echo "警告：Chromium/chromedriver 安装失败；浏览器测试将跳过。" >&2
    fi
  else
    ((need_pg)) && echo "警告：缺少 PostgreSQL/PostGIS，且无法用 apt 安装（需要 root）；PostGIS 测试将跳过。" >&2
    ((need_browser)) && echo "警告：缺少 Chromium/chromedriver，且无法用 apt 安装（需要 root）；浏览器测试将跳过。" >&2
  fi
fi
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
