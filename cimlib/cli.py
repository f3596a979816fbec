"""The ``cim`` command line: a thin layer over functions that notebooks call too."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import yaml

from cimlib.catalog import CatalogError


SAMPLE_CATALOG = Path("data") / "sample" / "data_catalog.yaml"
"""Where ``cim demo`` writes the sample city's catalog by default, relative to the repository root (the root
``data_catalog.yaml`` includes it) or, outside a checkout, to the current folder."""


def default_catalog() -> Path:
    """The catalog used when ``--catalog`` is not given.

    ``$CIM_CATALOG`` if set, else ``data_catalog.yaml`` in the current folder, else the repository's own
    ``data_catalog.yaml`` (which points at the sample city built by the README's main command) when running from a
    checkout, else (installed from a wheel) ``data/sample/data_catalog.yaml`` in the current folder, where
    ``cim demo`` writes the sample city.
    """
    from cimlib._paths import checkout_root

    if os.environ.get("CIM_CATALOG"):
        return Path(os.environ["CIM_CATALOG"])
    here = Path.cwd() / "data_catalog.yaml"
    if here.exists():
        return here
    root = checkout_root()
    return root / "data_catalog.yaml" if root is not None else Path.cwd() / SAMPLE_CATALOG


def _interactive() -> bool:
    """Whether the command runs in an analyst's terminal (stdin and stdout are both terminals)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def default_demo_out() -> Path:
    """Where ``cim demo`` writes by default: the folder that the default catalog's ``include`` points at
    (outside a checkout with no catalog in the current folder: ``data/sample/`` there)."""
    cat = default_catalog()
    if cat == Path.cwd() / SAMPLE_CATALOG:
        return cat.parent
    try:
        doc = yaml.safe_load(cat.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        doc = {}
    inc = doc.get("include") if isinstance(doc, dict) else None
    if inc:
        return (cat.parent / inc).parent
    return cat.parent / "data" / "sample"


CATALOG_OPTION = click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), default=None,
                              help="数据目录文件（默认：$CIM_CATALOG、当前目录或仓库根目录的 data_catalog.yaml；"
                                   "安装包在仓库外运行时为当前目录的 data/sample/data_catalog.yaml）。")


def _to_env(name):
    def set_env(ctx, param, value):
        if value:  # the notebooks' kernels of a report inherit it
            os.environ[name] = "1" if value is True else str(value)
        return value
    return set_env


NO_CACHE_OPTION = click.option(
    "--no-cache", is_flag=True, expose_value=False, is_eager=True, callback=_to_env("CIM_NO_CACHE"),
    help="不使用记录缓存：每条记录都重新检查（结果相同，用于对比与排错）。缓存在 $CIM_CACHE（默认 "
         "~/.cache/cim-workbench），按记录内容与规则版本保存各条记录的规则结果，可随时删除。")


def PARTITION_OPTIONS(fn):
    """``--partition`` and ``--scheduler`` of the commands that check and count the registers."""
    fn = click.option("--scheduler", default=None, metavar="ADDRESS", expose_value=False, is_eager=True,
                      callback=_to_env("CIM_DASK_SCHEDULER"),
                      help="分区计算所用的 dask.distributed 调度器地址（默认 $CIM_DASK_SCHEDULER；都没有则在本机逐个分区计算）。")(fn)
    fn = click.option("--partition-rows", type=click.IntRange(min=1), default=None, metavar="N", expose_value=False,
                      is_eager=True, callback=_to_env("CIM_PARTITION_ROWS"),
                      help="每个分区的记录数（默认 $CIM_PARTITION_ROWS，否则 500000；Parquet 在行组边界切分）。")(fn)
    fn = click.option("--partition", type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
                      is_eager=True, callback=_to_env("CIM_PARTITION"),
                      help="登记数据分区处理：auto（默认，$CIM_PARTITION）在某个登记数据文件预计超过本机内存的 "
                           "$CIM_MEMORY_SHARE（默认 0.1）时按行分区（Parquet 按行组，按街道写出的文件即一街道一区）"
                           "逐区检查、关联、计数；always 总是分区；never 整表读入内存。结果相同。")(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="cim-workbench", prog_name="cim")
def main() -> None:
    """城市信息模型（CIM）与城市数字公共基础设施验收工作台。

    \b
    常用流程：
      cim demo                     生成样例城市（随州市曾都区）及其数据目录
      cim catalog init DIR         从部门交付的文件夹生成数据目录草稿（推断数据集类型与字段映射）
      cim inventory                列出数据目录中的全部数据资源（数据资源清单）
      cim check                    按标准检查数据，输出问题清单（findings）与汇总
      cim match --dataset NAME     地址匹配：把登记数据的地址文本匹配到标准地址，输出治理工作清单
      cim metrics                  计算验收指标（治理率、编码率、上图率、合格率、覆盖率），按区县/街道/社区和月份
      cim sensors                  物联感知分析：设备在线率、完整率、告警、异常、道路覆盖里程、小时立方体
      cim report monthly|acceptance  生成月度综合考评 / 验收评价报告（HTML、PDF、Excel、manifest.json）
      cim verify MANIFEST          复核报告：输入指纹与全部指标能否重现
      cim load --to postgresql://…  把数据导入 PostGIS，并写出指向数据库表的数据目录
    """


@main.command()
@click.option("--seed", type=int, default=7, show_default=True, help="随机种子：同一种子生成逐字节相同的数据。")
@click.option("--scale", type=click.Choice(["small", "medium", "large", "xlarge"]), default="small", show_default=True,
              help="规模：small 用于测试（数秒）；medium 约为 large 的十分之一；large 约 200 万人口城市；"
                   "xlarge 约 1400 万人口（300 万建筑、500 万标准地址、700 万房屋、150 万单位、2 万设备），"
                   "按街道流式生成、内存有界，只写 2024-06 与 2024-09 两期快照，默认不写监测数据，供规模基准测试。")
@click.option("--city", default="421303", show_default=True,
              help="县级行政区划代码（GB/T 2260），默认 421303 随州市曾都区；参考表中的任一县级代码均可。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出目录（默认：仓库根目录 data_catalog.yaml 指向的 data/sample/；在仓库外为当前目录的 data/sample/）。")
@click.option("--delivery", is_flag=True,
              help="同时按各部门的交付形态写出样例数据（OUT/delivery/，每个部门一个文件夹；真值 OUT/truth/delivery.json）。")
@click.option("--until", default=None, metavar="YYYY-MM",
              help="登记数据最后一个月（共 9 个月的月度快照）；默认按该区划适用的工作方案，选覆盖其有期限可计算指标最多的 9 个月。")
@click.option("--readings/--no-readings", default=None,
              help="是否生成物联感知监测数据（data/readings 及其目录条目、传感真值）；默认 xlarge 不生成，其余规模生成。"
                   "不生成时数据目录中没有 readings 条目。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def demo(seed: int, scale: str, city: str, out: Path | None, delivery: bool, until: str | None, readings: bool | None,
         quiet: bool) -> None:
    """生成样例城市：真实行政区划与边界、合成的 CIM 与一标三实数据、注入缺陷的真值记录。

    输出 OUT/data_catalog.yaml、OUT/data/、OUT/snapshots/（9 个月的月度快照）和
    OUT/truth/defects.csv（dataset, record_id, defect）。

    \b
    时间线：登记数据共 9 个月（月度快照），监测数据为最后一个月，其余日期（任务清单及其节点、工程项目、
    设备安装、白模/精模批次、出生日期等）随之平移。默认按该区划适用的工作方案选取：覆盖其有期限、
    可计算指标最多的 9 个月（同样多时取最早），如 421303 随州 2024-01 至 2024-09，500101 重庆 2021-04 至
    2021-12；没有适用方案或方案无期限时为 2024-01 至 2024-09。--until 指定最后一个月。
    所用时间线记入 OUT/truth/facts.json（timeline）；最后一个月不是 2024-09 时，data_catalog.yaml 首行的
    生成命令也带上 --until。xlarge 只有第 6、9 个月两期快照（随州为 2024-06、2024-09）。
    结束时打印磁盘占用（合计及各顶层文件夹）。
    """
    from cimlib.demo import build_sample_city, disk_use_lines

    out = out or default_demo_out()
    try:
        cat = build_sample_city(out, seed=seed, scale=scale, city=city, progress=not quiet, delivery=delivery,
                                until=until, readings=readings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"样例城市已生成：{cat}")
    for line in disk_use_lines(cat.parent):
        click.echo(line)


@main.group()
def catalog() -> None:
    """数据目录工具。"""


@catalog.command("init")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--city", default=None, metavar="CODE",
              help="县级行政区划代码（GB/T 2260，如 421303）；默认由数据中的区划代码推断。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("data_catalog.yaml"),
              show_default=True, help="写出的数据目录文件（其中的路径相对于该文件所在文件夹）。")
@click.option("--force", is_flag=True, help="覆盖已存在的 --out 文件。")
def catalog_init(folder: Path, city: str | None, out: Path, force: bool) -> None:
    """从部门交付的文件夹生成数据目录草稿：逐个文件、图层、工作表推断数据集类型、字段映射、编码与坐标系。

    \b
    每个条目附注释说明推断依据；置信度低的标注“# 待确认”，未能映射的必填字段列在注释中。
    交付文件夹只读：不向其中写入任何文件。核对后即可用于 cim check --catalog OUT。
    """
    from cimlib.catalog.onboard import check_loadable, scaffold_catalog, table_text, write_scaffold

    if out.exists() and not force:
        raise click.ClickException(f"{out} 已存在，未覆盖；确认要覆盖请加 --force，或用 --out 指定其他文件")
    try:
        scaffold = scaffold_catalog(folder, city=city)
        path = write_scaffold(scaffold, out, force=force)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(table_text(scaffold.table()))
    todo = sum(e.to_confirm for e in scaffold.entries)
    click.echo(f"数据目录草稿：{len(scaffold.entries)} 个条目，{todo} 处待确认 → {path}")
    problem = check_loadable(path)
    if problem:
        click.echo(f"注意：写出的目录尚不能直接加载，请按提示修改：\n{problem}", err=True)


@main.command()
@CATALOG_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/inventory"),
              show_default=True, help="输出目录。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def inventory(catalog: Path | None, out: Path, quiet: bool) -> None:
    """数据资源清单：数据目录中每个条目的格式、坐标系、记录数、责任部门、安全等级与文件指纹。

    写出 OUT/inventory.parquet、OUT/inventory.csv（UTF-8 BOM，Excel 可直接打开）、OUT/inventory.html
    和 OUT/manifest.json。无法读取的条目记为“错误”行，其余条目照常列出。
    """
    from cimlib.reports import write_inventory

    catalog = catalog or default_catalog()
    try:
        manifest = write_inventory(catalog, out, progress=not quiet)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = "，".join(f"{k} {v} 项" for k, v in manifest["status_counts"].items())
    click.echo(f"数据资源清单：共 {manifest['entries']} 项（{counts}）→ {out}")


@main.command()
@CATALOG_OPTION
@click.option("--to", "url", required=True, metavar="postgresql://USER@HOST:PORT/DB",
              help="目标数据库地址（需已安装 PostGIS 扩展）。密码可写在地址中，但不会写入任何文件；"
                   "更推荐用 PGPASSWORD 或 ~/.pgpass。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("data/postgis"),
              show_default=True, help="新数据目录 OUT/data_catalog.yaml 的文件夹。")
@click.option("--schema", default="cim", show_default=True, help="数据库模式（不存在则创建）。")
@click.option("--replace", is_flag=True, help="覆盖数据库中已有的同名表（默认遇到已有表则跳过该条目并报告）。")
@click.option("--url-env", default="CIM_PG_URL", show_default=True,
              help="新目录读取连接地址的环境变量（已设置时优先于目录中不含密码的地址）。")
@click.option("--dataset", "datasets", multiple=True, metavar="NAME", help="只导入这些条目（可重复）；默认全部。")
@click.option("--no-snapshots", is_flag=True, help="不导入月度快照（只导入当前数据）。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def load(catalog: Path | None, url: str, out: Path, schema: str, replace: bool, url_env: str,
         datasets: tuple[str, ...], no_snapshots: bool, quiet: bool) -> None:
    """导入数据库：把数据目录中的矢量与表格数据导入 PostgreSQL/PostGIS，并写出指向这些表的数据目录。

    \b
    每个条目一张表 SCHEMA.名称；月度快照一张表 SCHEMA.名称_snapshots（period 列）；分区文件夹（监测数据）
    一张表，分区目录（date=…）成为文本列。栅格（GeoTIFF、netCDF）仍为文件，新目录按绝对路径引用。
    之后用 --catalog OUT/data_catalog.yaml 运行 check、metrics、sensors、report，结果与文件数据一致。
    """
    from cimlib.catalog import Catalog, load_to_postgis

    try:
        cat = Catalog.load(catalog or default_catalog())
        result = load_to_postgis(cat, url, out, schema=schema, replace=replace, url_env=url_env,
                                 names=list(datasets) or None, snapshots=not no_snapshots, progress=not quiet)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(t["rows"] for t in result.tables)
    click.echo(f"导入数据库：{len(result.tables)} 张表、{rows} 行 → {result.catalog_path}")
    if result.kept_files:
        click.echo(f"  仍为文件（栅格）：{'、'.join(result.kept_files)}")
    for entry, problem in result.problems:
        click.echo(f"  {'条目 ' + entry + '：' if entry else ''}{problem}", err=True)


@main.command()
@CATALOG_OPTION
@click.option("--dataset", "datasets", multiple=True, metavar="NAME",
              help="只检查这些数据集（目录条目名称，可重复）；默认检查全部。")
@click.option("--period", default=None, metavar="YYYY-MM", help="检查该月的快照（默认：当前数据）。")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="发现该级别（warning 含 error）的问题时以非零状态退出；默认总是返回 0。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/check"),
              show_default=True, help="输出目录。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
@NO_CACHE_OPTION
@PARTITION_OPTIONS
@click.option("--unmasked", is_flag=True,
              help="仅限分析人员在终端中交互使用：在屏幕上显示涉及个人信息字段的问题原值（最多 50 条），"
                   "以便核对整改；写出的文件仍然脱敏。脚本、管道和报告中不可用。")
def check(catalog: Path | None, datasets: tuple[str, ...], period: str | None, fail_on: str | None, out: Path,
          quiet: bool, unmasked: bool) -> None:
    """标准检查：按标准逐条检查数据，一次运行报告全部问题。

    写出 OUT/findings.parquet、OUT/findings.csv（UTF-8 BOM）和 OUT/summary.csv（数据集 × 规则：检查数、
    问题数、问题率）。个人信息（身份证号、姓名、电话、门牌）已脱敏。无法读取的数据集记为该数据集的问题，
    其余数据集照常检查。
    """
    from cimlib.catalog import Catalog
    from standards_checks import run_checks, write_check_outputs

    if unmasked and not _interactive():
        raise click.UsageError("--unmasked 仅用于分析人员在终端中的交互会话；不能用于脚本、管道、定时任务或报告。")
    try:
        cat = Catalog.load(catalog or default_catalog())
        result = run_checks(cat, list(datasets) or None, period=period, masked=not unmasked, progress=not quiet)
        _cache_summary()
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    info = write_check_outputs(result, out)
    s = result.summary
    click.echo(f"标准检查：{s['dataset'].nunique()} 个数据集、{len(s)} 项数据集×规则；"
               f"错误 {info['errors']} 条，警告 {info['warnings']} 条 → {out}")
    worst = s[s["failed"] > 0].sort_values("failed", ascending=False).head(10)
    for r in worst.itertuples():
        click.echo(f"  {r.dataset:<18} {r.rule_id:<8} {r.severity:<7} {r.failed:>8} 条  {r.message}")
    if unmasked:
        from cimlib.privacy import PERSONAL_COLUMNS

        raw = result.findings[result.findings["column"].isin(list(PERSONAL_COLUMNS))].head(50)
        click.echo(f"涉及个人信息字段的问题（原值，仅显示于本终端，共显示 {len(raw)} 条；文件中已脱敏）：")
        for r in raw.itertuples():
            click.echo(f"  {r.dataset:<10} {r.rule_id:<8} {r.record_id}  {r.column}={r.value}")
    if fail_on == "error" and info["errors"] or fail_on == "warning" and (info["errors"] or info["warnings"]):
        sys.exit(1)


@main.command("match")
@CATALOG_OPTION
@click.option("--dataset", "dataset", required=True, metavar="NAME",
              help="要匹配的登记数据集（数据目录条目名称，其类型须有地址文本字段 address_text：实有人口、实有房屋、实有单位）。")
@click.option("--text-column", default="address_text", show_default=True, metavar="COLUMN",
              help="地址文本所在的字段（字段名或源数据列名）。")
@click.option("--period", default=None, metavar="YYYY-MM", help="匹配该月的快照（默认：当前数据）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/match"),
              show_default=True, help="输出目录。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
@click.option("--unmasked", is_flag=True,
              help="仅限分析人员在终端中交互使用：在屏幕上显示地址文本原值及匹配结果（最多 50 条），以便核对；"
                   "写出的文件仍然脱敏。脚本、管道和报告中不可用。")
def match(catalog: Path | None, dataset: str, text_column: str, period: str | None, out: Path, quiet: bool,
          unmasked: bool) -> None:
    """地址匹配（地址治理）：把登记数据中未按编码关联标准地址的记录，按地址文本匹配到标准地址库。

    \b
    已按编码关联（address_id 在标准地址库中）的记录不匹配，计为 linked；没有地址文本的计为 no_text。
    匹配状态：matched 确定匹配（文本所写的最细要素已找到）、partial 部分匹配（只到较粗的标准地址，reason 说明
    哪个要素未找到）、ambiguous 多个候选（不选，候选见 candidates）、unmatched 未匹配（reason 说明原因，需网格核验）。
    匹配结果只是建议，不改变登记数据，也不计入上图率。

    \b
    写出 OUT/matches.parquet、OUT/matches.csv（UTF-8 BOM；dataset, record_id, address_id, status, match_level,
    score, candidates, reason）和 OUT/summary.csv（dataset, street_code, community_code, status, records）。
    原因中引用的门牌号、楼栋、单元、室号已脱敏。方法与口径见 docs/geocode.md。
    """
    from cimlib.catalog import Catalog
    from cimlib.geocode.outputs import write_match_outputs
    from cimlib.geocode.run import ZH_STATUS, match_dataset

    if unmasked and not _interactive():
        raise click.UsageError("--unmasked 仅用于分析人员在终端中的交互会话；不能用于脚本、管道、定时任务或报告。")
    try:
        cat = Catalog.load(catalog or default_catalog())
        result = match_dataset(cat, dataset, text_column=text_column, period=period, progress=not quiet,
                               masked=not unmasked)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    info = write_match_outputs(result, out)
    counts = info["counts"]
    click.echo(f"地址匹配：{dataset}{'（' + period + '）' if period else ''} {result.records:,} 条记录；"
               + "，".join(f"{ZH_STATUS[k]} {v:,}" for k, v in counts.items()) + f" → {out}")
    m = result.matches
    top = m.loc[m["status"].isin(["partial", "unmatched"]) & (m["reason"] != ""), "reason"].value_counts().head(5)
    for reason, n in top.items():
        click.echo(f"  {n:>8,} 条  {reason}")
    if unmasked:
        shown = m.assign(text=result.texts).head(50)
        click.echo(f"地址文本原值与匹配结果（仅显示于本终端，共显示 {len(shown)} 条；文件中已脱敏）：")
        for r in shown.itertuples():
            cand = "；候选 " + "、".join(r.candidates) if len(r.candidates) else ""
            click.echo(f"  {r.record_id}  {r.text}  → {r.status} {r.address_id or ''} {r.match_level or ''}"
                       f" {r.reason or ''}{cand}")


@main.command()
@CATALOG_OPTION
@click.option("--period", default=None, metavar="YYYY-MM", help="只计算该月（默认：登记数据的全部月度快照）。")
@click.option("--level", type=click.Choice(["county", "street", "community"]), default=None,
              help="只输出该层级（区县/街道/社区；默认三级全部输出，上级为下级之和）。")
@NO_CACHE_OPTION
@PARTITION_OPTIONS
@click.option("--tolerance", type=float, default=5.0, show_default=True,
              help="地址点与建筑底面空间关联的容差（米，投影坐标系中计算）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/metrics"),
              show_default=True, help="输出目录。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def metrics(catalog: Path | None, period: str | None, level: str | None, tolerance: float, out: Path, quiet: bool) -> None:
    """验收指标：一标三实治理率/编码率/上图率、房屋赋码率、增量地址生产合格率与各环节一次通过率、生产周期、
    白模/精模覆盖率和白模完整率，按区县、街道、社区和每个月度快照计算，每个数值都带分子和分母。

    \b
    写出 OUT/metrics.parquet 与 OUT/metrics.csv（metric_id, dataset, area_code, area_level, period,
    numerator, denominator, value, name_zh, area_name, unit, inputs_sha256），OUT/progress.csv（目标达成状态与
    按当前进度预测的达成日期），OUT/evidence.parquet（拉低指标的记录及原因、关联方式 code/spatial/none），
    OUT/problems.csv（无法使用的数据集）和 OUT/manifest.json（输入文件指纹）。口径见 docs/metrics.md。
    """
    from cimlib.catalog import Catalog
    from cimlib.metrics import compute_metrics, write_metrics_outputs

    try:
        path = catalog or default_catalog()
        cat = Catalog.load(path)
        checked: dict = {}   # register findings: kept for the reports (cimlib.reuse)
        result = compute_metrics(cat, [period] if period else None, level=level, tolerance_m=tolerance,
                                 progress=not quiet, findings=checked)
        _cache_summary()
        info = write_metrics_outputs(result, out, catalog_path=path, catalog=cat, findings=checked,
                                     parameters={"level": level, "tolerance_m": float(tolerance)})
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    m = result.metrics
    click.echo(_metrics_summary(m, info["progress"]))
    for r in result.problems.itertuples():
        click.echo(f"  注意：{r.dataset}（{r.period or '当前'}）：{r.problem}", err=True)
    click.echo(f"验收指标：{len(m)} 行（{m['period'].nunique()} 期，{m['metric_id'].nunique()} 项指标）→ {out}")


@main.command()
@CATALOG_OPTION
@click.option("--period", default=None, metavar="YYYY-MM", help="统计月份（默认：监测数据中最新的月份）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/sensors"),
              show_default=True, help="输出目录。")
@click.option("--alarm-rules", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="告警规则文件（默认 standards_checks/sensor_alarms.yaml，城市可提供自己的）。")
@click.option("--cover-distance", type=float, default=50.0, show_default=True,
              help="道路感知覆盖距离（米）：距设备不超过此距离的道路计为已覆盖。")
@click.option("--cube", "cube_format", type=click.Choice(["nc", "zarr", "none"]), default="nc", show_default=True,
              help="小时立方体（设备 × 时间）的格式：NetCDF、Zarr 或不输出。")
@click.option("--no-anomalies", is_flag=True, help="不做异常检测（少读一遍数据）。")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask.distributed 调度器地址（默认：$CIM_DASK_SCHEDULER 或目录设置；都没有则在本机计算）。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def sensors(catalog: Path | None, period: str | None, out: Path, alarm_rules: Path | None, cover_distance: float,
            cube_format: str, no_anomalies: bool, scheduler: str | None, quiet: bool) -> None:
    """物联感知分析：设备在线率、数据完整率、重复与乱序、上报时延，阈值告警，异常检测，道路感知覆盖里程，
    北斗网格与街道设备密度，小时立方体。

    \b
    写出 OUT/health.parquet|csv（指标表：在线率等，按设备、设备类型、街道、区县，逐日与全月，带分子分母）、
    OUT/health_daily（设备 × 日）、OUT/alarms、OUT/anomalies、OUT/coverage、OUT/density_grid、
    OUT/density_street、OUT/bad_readings（坏数据按类计数）与 OUT/bad_reading_samples（示例行）、
    OUT/problems（无法读取的文件）、OUT/cube.nc 和 OUT/manifest.json。口径见 docs/sensors.md。
    """
    from cimlib.catalog import Catalog
    from cimlib.sensors import AlarmRuleError, analyse_sensors, write_sensor_outputs

    try:
        cat = Catalog.load(catalog or default_catalog())
        result = analyse_sensors(cat, period, alarm_rules=alarm_rules, cover_distance_m=cover_distance,
                                 anomalies=not no_anomalies, cube=cube_format != "none", progress=not quiet,
                                 scheduler=scheduler)
    except (CatalogError, AlarmRuleError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        from cimlib.reuse import sensors_parameters

        reuse = sensors_parameters(alarm_rules, cover_distance, 300.0, not no_anomalies)
        write_sensor_outputs(result, out, catalog_path=cat.path, cube_format=cube_format, catalog=cat, reuse=reuse)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_sensors_summary(result))
    for r in result.problems.itertuples():
        click.echo(f"  注意：{r.dataset} {r.file}：{r.problem}", err=True)
    click.echo(f"物联感知分析（{result.period}）→ {out}")


@main.command()
@click.argument("kind", type=click.Choice(["monthly", "acceptance"]))
@CATALOG_OPTION
@click.option("--period", default=None, metavar="YYYY-MM", help="月度报告的统计月份（monthly 必填）。")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="验收评价的评价日期（acceptance 必填）。")
@click.option("--programme", default=None, metavar="ID",
              help="评价所依据的工作方案：hubei-cim、suizhou、taizhou-digital、chongqing-xinchengjian、wuhan"
                   "（standards_checks/programmes/ID.yaml）。默认按数据目录的 city_code 取区划前缀最长的工作方案。")
@click.option("--indicators", "indicators_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="城市自己的验收指标文件（工作方案格式，见 docs/metrics.md；优先于 --programme）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True,
              help="报告根目录：报告写入 OUT/<类型>/<期次>/，索引为 OUT/index.html。")
@click.option("--reuse", "reuse_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="复用主流程结果的根目录（DIR/metrics、DIR/sensors，即 cim metrics/sensors 的 --out）；默认为 --out。"
                   "仅当其输入文件指纹、数据目录、参数与程序版本均与本次相同时才复用，否则照常计算。")
@NO_CACHE_OPTION
@PARTITION_OPTIONS
@click.option("--no-reuse", is_flag=True, help="不复用主流程结果，全部重新计算。")
@click.option("--quiet", is_flag=True, help="不显示进度条。")
def report(kind: str, catalog: Path | None, period: str | None, as_of: str | None, programme: str | None,
           indicators_path: Path | None, out: Path, reuse_dir: Path | None, no_reuse: bool, quiet: bool) -> None:
    """生成报告：monthly 月度综合考评（--period YYYY-MM），acceptance 验收评价（--as-of YYYY-MM-DD）。

    \b
    用 papermill 执行 notebooks/ 中的笔记本，写出 OUT/<类型>/<期次>/：执行后的笔记本、不含代码的 HTML 报告
    report.html（离线可打开）、report.pdf、report.xlsx（中文表头，每表一页）、data/（报告所用的表）和
    manifest.json（参数、全部输入文件的 sha256、软件版本、git 提交、每项指标的数值与分子分母），
    并把本次指标追加到结果库 OUT/_store、更新 OUT/index.html。评价人员用 cim verify 复核。

    \b
    复用主流程：OUT/metrics、OUT/sensors（或 --reuse DIR 下的）中 cim metrics、cim sensors 的结果，若与本次的
    输入文件指纹、数据目录、参数和程序版本全部相同，则直接读取而不重新计算（结果相同）；manifest.json 的 reuse
    记录复用了哪些表、来自何处及其 sha256，以及未复用的原因。--no-reuse 全部重新计算。
    """
    from cimlib.reports.runner import run_report

    if reuse_dir is not None and no_reuse:
        raise click.UsageError("--reuse 与 --no-reuse 不能同时使用")
    try:
        run = run_report(kind, catalog=catalog or default_catalog(), period=period, as_of=as_of, out_root=out,
                         indicators_path=indicators_path, programme=programme, progress=not quiet,
                         reuse=None if no_reuse else (reuse_dir or "auto"))
    except (CatalogError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    ind = run.manifest["indicators"]
    counts = {s: sum(1 for r in ind if r["status"] == s) for s in ("达标", "未达标", "未到期", "无法判定", "不可计算",
                                                                   "仅为全市目标的一部分", "未规定期限", "无目标值")}
    click.echo(f"{run.manifest['label']}：{len(ind)} 项指标，" + "，".join(f"{k} {v}" for k, v in counts.items() if v))
    for r in ind:
        if r["status"] == "未达标":
            ratio = r.get("unit") in ("比率", None)

            def shown(v):
                return "—" if v is None else (f"{v:.2%}" if ratio else f"{v:,.2f} {r['unit']}")

            click.echo(f"  未达标：{r['name_zh']}  {shown(r['value'])}（目标 {r['comparator']} {shown(r['target'])}，"
                       f"期限 {r['deadline']}）")
    reused = run.manifest.get("reuse") or {}
    if reused.get("tables"):
        click.echo("复用主流程结果：" + "、".join(f"{k}（{v['from']}）" for k, v in reused["tables"].items()))
    click.echo(f"报告 → {run.folder}（report.html / report.pdf / report.xlsx / manifest.json）")


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="只输出不一致的项。")
def verify(manifest: Path, quiet: bool) -> None:
    """复核报告：检查 MANIFEST（reports/<类型>/<期次>/manifest.json）所列输入文件的指纹，用相同输入和参数重新计算
    每项指标并逐项比较；任何输入已变更或指标不一致时以非零状态退出，并指出是哪一个。
    """
    from cimlib.reports.verify import verify_manifest

    try:
        res = verify_manifest(manifest, progress=not quiet)
    except (FileNotFoundError, ValueError, CatalogError) as exc:
        raise click.ClickException(str(exc)) from exc
    bad_inputs = res.inputs[res.inputs["status"] != "一致"]
    click.echo(f"输入文件：{len(res.inputs)} 个，一致 {len(res.inputs) - len(bad_inputs)} 个")
    for r in bad_inputs.itertuples():
        click.echo(f"  ✗ {r.status}：{r.file}")
    if len(res.indicators):
        per = res.indicators.groupby(["indicator_id", "name_zh"], sort=False)["status"].agg(
            lambda s: "一致" if (s == "一致").all() else "不一致")
        for (ind, name), st in per.items():
            if st != "一致" or not quiet:
                click.echo(f"  {'✓' if st == '一致' else '✗'} {ind} {name}：{st}")
    for p in res.problems:
        click.echo(f"不一致：{p}", err=True)
    if not res.ok:
        sys.exit(1)
    click.echo("复核通过：输入未变，全部指标一致。")


def _cache_summary() -> None:
    """One line on what the record cache saved (nothing when it is off)."""
    from cimlib.cache import default_cache

    cache = default_cache()
    if cache is not None and cache.hits + cache.misses:
        click.echo(f"记录缓存：{cache.hits:,} 条记录沿用已有检查结果，{cache.misses:,} 条新内容已检查（{cache.root}）")


def _sensors_summary(r) -> str:
    """Compact text: rows read and bad rows, health by device type, alarms, anomalies, road coverage."""
    from cimlib.sensors.health import online_share_by

    lines = [f"{r.period} 监测数据 {r.rows_read:,} 行；坏数据："
             + "，".join(f"{d} {n:,}" for d, n in zip(r.bad_readings["description"], r.bad_readings["rows"]))]
    lines.append("  设备类型   设备数   在线率   数据完整率")
    for t in online_share_by(r.health_daily).itertuples():
        lines.append(f"  {t.device_type:<8} {t.devices:>6}  {t.online_rate:>7.2%}  {t.completeness:>8.2%}")
    if len(r.alarms):
        by_rule = r.alarms.groupby("name_zh").size().sort_values(ascending=False)
        lines.append(f"  阈值告警 {len(r.alarms)} 起：" + "，".join(f"{k} {v}" for k, v in by_rule.items()))
    else:
        lines.append("  阈值告警 0 起")
    if len(r.anomalies):
        by_kind = r.anomalies.groupby("kind").size()
        lines.append(f"  异常事件 {len(r.anomalies)} 起：" + "，".join(f"{k} {v}" for k, v in by_kind.items()))
    if len(r.coverage):
        t = r.coverage.iloc[0]
        ok = "达到" if t.covered_km >= 10 else "未达到"
        lines.append(f"  道路感知覆盖 {t.covered_km:,.2f} km / {t.road_km:,.1f} km（{t.share:.2%}，{t.distance_m:g} 米内；"
                     f"{ok} ≥10 km 目标）")
    return "\n".join(lines)


def _metrics_summary(m, progress) -> str:
    """Compact table: the latest period's county value of each metric, with numerator/denominator and status."""
    if m.empty:
        return "（无指标）"
    top = m[m["area_level"] == ("county" if (m["area_level"] == "county").any() else m["area_level"].iloc[0])]
    period = top["period"].max()
    top = top[top["period"] == period]
    if top["area_code"].nunique() > 1:
        top = top.groupby(["metric_id", "dataset", "name_zh", "unit"], as_index=False)[["numerator", "denominator"]].sum()
        top["value"] = top["numerator"] / top["denominator"].where(top["denominator"] > 0)
    status = {}
    if progress is not None and len(progress):
        for r in progress.itertuples():
            status.setdefault((r.metric_id, r.dataset), []).append(f"{r.deadline} {r.status}")
    lines = [f"{period} 汇总（{'区县' if (m['area_level'] == 'county').any() else '合计'}）："]
    for r in top.itertuples():
        val = "—" if r.value != r.value else (f"{r.value:.2%}" if r.unit == "比率" else f"{r.value:.2f} {r.unit}")
        nd = f"{r.numerator:,.0f}/{r.denominator:,.0f}" if r.unit != "天" else f"n={r.denominator:,.0f}"
        st = "；".join(status.get((r.metric_id, r.dataset), []))
        lines.append(f"  {r.name_zh:<22}\t{val:>9}\t{nd:>17}\t{st}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
