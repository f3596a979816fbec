#!/usr/bin/env bash
# 一键安装并运行主流程：创建 .venv/，安装锁定版本的依赖，生成样例城市，运行主流程，输出到 reports/。
# Usage: bash scripts/setup.sh            (CIM_SEED, CIM_SCALE=small|medium|large, CIM_CITY override the sample city)
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
echo "==> 生成样例城市及其部门交付形态（seed=${CIM_SEED:-7}, scale=${CIM_SCALE:-small}, city=${CIM_CITY:-421303}）"
.venv/bin/cim demo --seed "${CIM_SEED:-7}" --scale "${CIM_SCALE:-small}" --city "${CIM_CITY:-421303}" --delivery
echo "==> 主流程：数据目录清单"
.venv/bin/cim inventory --out reports/inventory
echo "==> 主流程：标准检查"
.venv/bin/cim check --out reports/check
echo "==> 主流程：验收指标（2024-01 至 2024-09 各月，区县/街道/社区）"
.venv/bin/cim metrics --out reports/metrics
echo "==> 主流程：物联感知分析（设备在线率、完整率、告警、异常、道路覆盖）"
.venv/bin/cim sensors --out reports/sensors
echo "==> 主流程：月度综合考评报告（2024-06）与验收评价报告（截至 2024-09-30）"
.venv/bin/cim report monthly --period 2024-06
.venv/bin/cim report acceptance --as-of 2024-09-30
echo "==> 完成。输出见 reports/（报告索引：reports/index.html；复核：.venv/bin/cim verify reports/acceptance/2024-09-30/manifest.json）"
