#!/usr/bin/env bash
# 离线安装包 / offline bundle: 在能联网的机器上运行，得到一个可带进内网（政务网）的文件夹：
#   bash scripts/wheelhouse.sh [OUT] [--tar]        （OUT 默认 dist/wheelhouse）
# OUT/ 中有：锁定版本（requirements/constraints.txt）的全部依赖的 wheel、本项目的 wheel（含报告笔记本与全部
# YAML/CSV 数据文件）、constraints.txt、debian-packages.txt（报告与数据库数据源所需的 Debian 软件包名）和
# 中文安装说明 README.md。--tar 另外打包为 OUT.tar.gz。
#
# wheel 针对运行本脚本的 Python（默认 .venv/bin/python，否则 python3；PYTHON=... 可指定）的版本与平台：
# 目标机器须为同一 Python 次版本（如 3.11）和同一平台（如 Linux x86_64）。下载经过 pip 的 HTTP 缓存：缓存中
# 已有的 wheel 不再下载（约 440 MB，190 个 wheel；本机联网时约 15 秒）。
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="" TAR=0
for arg in "$@"; do
  case "$arg" in
    --tar) TAR=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "未知选项：$arg（用法：bash scripts/wheelhouse.sh [OUT] [--tar]）" >&2; exit 2 ;;
    *) OUT="$arg" ;;
  esac
done
OUT="${OUT:-$ROOT/dist/wheelhouse}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "需要 Python 3.11 或更高版本（当前：$("$PYTHON" --version 2>&1)）。可用 PYTHON=/path/to/python3.11 指定。" >&2
  exit 1
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PINS="$ROOT/requirements/constraints.txt"
pip=("$PYTHON" -m pip --disable-pip-version-check)

t0=$SECONDS
echo "==> 本项目的 wheel"
# 从源码的干净副本构建（相当于 sdist 的内容）：仓库中残留的 build/ 不会混入 wheel
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' --exclude=.ipynb_checkpoints -cf - \
  pyproject.toml README.md cimlib standards_checks notebooks | tar -C "$src" -xf -
rm -f "$OUT"/cim_workbench-*.whl
"${pip[@]}" wheel --quiet --no-deps --wheel-dir "$OUT" "$src"
project_wheel="$(ls "$OUT"/cim_workbench-*.whl)"
version="$(basename "$project_wheel" | cut -d- -f2)"
t1=$SECONDS

echo "==> 锁定版本的依赖（$(grep -cE '^[A-Za-z0-9]' "$PINS") 个，requirements/constraints.txt）"
# 先取现成的 wheel（pip 缓存、已在 OUT 中的文件优先）；少数只发布源码包的再在本机构建为 wheel。
if ! "${pip[@]}" download --quiet --only-binary=:all: --no-deps --find-links "$OUT" -r "$PINS" -d "$OUT"; then
  echo "==> 部分依赖没有现成的 wheel，在本机构建"
  "${pip[@]}" wheel --quiet --no-deps --find-links "$OUT" -r "$PINS" --wheel-dir "$OUT"
fi
# 只保留 wheel：源码包（若有）已构建为 wheel
find "$OUT" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' \) -delete
t2=$SECONDS
cp "$PINS" "$OUT/constraints.txt"

# 报告与数据源所需的 Debian 软件包（与 scripts/_env.sh、scripts/test.sh 安装的一致）
cat > "$OUT/debian-packages.txt" <<'EOF'
# 报告（cim report）：中文字体（图表与 PDF）及 WeasyPrint 生成 PDF 所需的 HarfBuzz 字体子集库
fonts-wqy-microhei
fontconfig
libharfbuzz-subset0
# 数据库数据源（cim load --to postgresql://…；数据目录中 format: postgis 的条目）：PostgreSQL 服务器与 PostGIS 扩展
postgresql
postgis
EOF

pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
platform="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_platform())')"
nwheels="$(find "$OUT" -maxdepth 1 -name '*.whl' | wc -l)"
cat > "$OUT/README.md" <<EOF
# CIM 验收工作台 离线安装包（cim-workbench ${version}）

本文件夹是在联网机器上用 \`bash scripts/wheelhouse.sh\` 生成的离线安装包，共 ${nwheels} 个 wheel：
本项目的 \`$(basename "$project_wheel")\`（含报告笔记本、工作方案与全部数据文件）和
\`constraints.txt\` 锁定版本的全部依赖。安装时不访问任何网络。

适用于 **Python ${pyver}**、平台 **${platform}**（与生成它的机器相同）；其他 Python 版本或平台需在相应机器上重新生成。

## 1. 系统软件包（Debian/Ubuntu，需管理员）

\`debian-packages.txt\` 列出所需的 Debian 软件包：生成报告需要中文字体和 PDF 字体子集库，
把数据导入 PostGIS（\`cim load\`）或读取数据库数据源需要 PostgreSQL 与 PostGIS。内网有 Debian 镜像时：

\`\`\`bash
sudo apt-get install -y fonts-wqy-microhei fontconfig libharfbuzz-subset0   # 报告
sudo apt-get install -y postgresql postgis                                  # 数据库数据源（可选）
\`\`\`

没有镜像时，需在联网的同版本 Debian 上取得这些软件包及其依赖的 .deb 文件一并带入（如用 \`apt-get install --download-only\`，
文件在 /var/cache/apt/archives/），再用 \`sudo apt-get install ./*.deb\` 安装。
缺少中文字体时报告照常生成，但图表与 PDF 中的中文可能显示为方框。

## 2. 安装工作台

\`\`\`bash
python${pyver} -m venv ~/cim-venv                   # 新建虚拟环境（位置任意）
~/cim-venv/bin/pip install --no-index --find-links /path/to/$(basename "$OUT") cim-workbench   # /path/to/… 为本文件夹
~/cim-venv/bin/cim --version
\`\`\`

\`--no-index\` 禁止访问软件源，\`--find-links\` 只从本文件夹取包；本文件夹中每个包只有一个版本，即测试过的锁定版本。

## 3. 试运行：样例城市与验收报告

在任意工作文件夹中（不需要源码仓库）：

\`\`\`bash
source ~/cim-venv/bin/activate
mkdir ~/cim-work && cd ~/cim-work
cim demo                                                 # 生成样例城市：data/sample/（含 data_catalog.yaml）
cim report acceptance --as-of 2024-09-30                 # 验收评价报告：reports/acceptance/2024-09-30/
cim verify reports/acceptance/2024-09-30/manifest.json   # 复核：输入指纹与全部指标能否重现
\`\`\`

在仓库之外运行时，未指定 \`--catalog\` 的命令依次使用 \`\$CIM_CATALOG\`、当前文件夹的 \`data_catalog.yaml\`、
当前文件夹的 \`data/sample/data_catalog.yaml\`（\`cim demo\` 的默认输出）。城市自己的数据：\`cim catalog init 交付文件夹\`
生成数据目录草稿，之后 \`cim check\`、\`cim metrics\`、\`cim report … --catalog data_catalog.yaml\`。
报告的 \`manifest.json\` 中 \`version\` 记录工作台版本（${version}；安装包没有 git 提交，\`git_commit\` 为空）。
EOF

if ((TAR)); then
  tarball="$(dirname "$OUT")/$(basename "$OUT").tar.gz"
  tar -C "$(dirname "$OUT")" -czf "$tarball" "$(basename "$OUT")"
  echo "==> 打包：$tarball（$(du -h "$tarball" | cut -f1)）"
fi
echo "离线安装包：$OUT（${nwheels} 个 wheel，$(du -sh "$OUT" | cut -f1)；项目 wheel $((t1 - t0))s，依赖 $((t2 - t1))s）"
