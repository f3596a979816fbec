"""One month's metrics with the registers read in partitions: what :func:`cimlib.metrics.compute_metrics` runs when a
register is too large for memory (or when asked).

Each register snapshot is checked by the partitioned engine (:mod:`standards_checks.backends.partitioned`), then
linked, given its record status and address-match proposals one partition (a contiguous run of rows; a street when
the file is written street by street) at a time, as ``dask.delayed`` tasks on a ``dask.distributed`` cluster
when one is active, else one partition at a time in this process. Every register metric is a sum over community buckets, so a partition returns its
bucket counts, its evidence rows and its match results, and nothing of its records survives it. What the later
registers need of the standard addresses is kept whole but narrow: identifiers, the tree's codes and names (the
library the texts are matched against) and each address's link.

The result equals the in-memory path: the same metrics, findings, evidence, link summary and matches
(``tests/metrics/test_partitioned.py``, locally and on a two-worker ``LocalCluster``).
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass

import dask
import numpy as np
import pandas as pd

from cimlib.catalog import CatalogError
from cimlib.lookup import isin
from cimlib.metrics._spec import CLASSES

LIBRARY_COLUMNS = ("address_id", "parent_id", "element_type", "level", "name", "door_plate", "full_address",
                   "street_code", "community_code", "address_type")
"""Fields of the standard addresses kept whole for the later registers: the address tree the texts are matched
against (:class:`cimlib.geocode._index.AddressIndex`) and the codes the pipeline metrics look up."""


@dataclass
class _Job:
    """One register snapshot's partition work (shipped once to the scheduler)."""

    key: str
    name: str
    period: str | None
    id_col: str
    source: object
    findings: pd.DataFrame          # the register's error findings, in the engine's order
    areas: object
    admin: object
    buildings: object
    tolerance_m: float
    crs: object
    code_label: str
    target_ids: pd.Series | None = None      # addresses (file order): identifiers, for persons and units
    target_on: np.ndarray | None = None
    library: pd.DataFrame | None = None      # addresses (file order): LIBRARY_COLUMNS
    library_links: pd.DataFrame | None = None

    def run(self, i: int) -> dict:
        from cimlib.metrics.compounds import smart_compound_counts
        from cimlib.metrics.coverage import building_refs
        from cimlib.metrics.grid import GRID_SCHEMAS, grid_counts
        from cimlib.metrics.linking import link_addresses, link_records
        from cimlib.metrics.proposals import PROPOSAL_COLUMNS, no_proposals, propose
        from cimlib.metrics.registers import STATUS_COLUMNS, code_ok_any, record_status
        from standards_checks.schemas._grid import GRID_COLUMN

        cls = CLASSES[self.key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = self.source.read(i)
        id_col = self.id_col
        out: dict = {"rows": len(frame)}
        if self.key == "addresses":
            bl = self.buildings
            if bl is None:
                import geopandas as gpd

                bl = gpd.GeoDataFrame({"building_id": pd.Series([], dtype=str)}, geometry=[], crs=getattr(frame, "crs", None))
            links = link_addresses(frame, bl, self.admin, keys=cls.link_keys, id_column=id_col,
                                   tolerance_m=self.tolerance_m, crs=self.crs)
            out["ids"] = frame[id_col].astype(str).reset_index(drop=True)
            out["links"] = links[["on_map", "target_id"]]
            scope = (frame["address_type"].isin(cls.scope).to_numpy() if "address_type" in frame and cls.scope
                     else np.ones(len(frame), bool))
        elif cls.link_target == "addresses":
            if self.target_ids is None:
                target, on = pd.DataFrame({"address_id": pd.Series([], dtype=str)}), np.zeros(0, bool)
            else:
                target, on = pd.DataFrame({"address_id": self.target_ids}), self.target_on
            links = link_records(frame, target, keys=cls.link_keys, id_column=id_col, target_id="address_id",
                                 target_on_map=on, unavailable=self.target_ids is None)
            scope = np.ones(len(frame), bool)
        else:
            bl = self.buildings if self.buildings is not None else pd.DataFrame({"building_id": pd.Series([], dtype=str)})
            links = link_records(frame, bl, keys=cls.link_keys, id_column=id_col, target_id="building_id",
                                 target_name="建筑物", unavailable=self.buildings is None)
            scope = np.ones(len(frame), bool)
        fr = frame[scope]
        lk = links[scope].reset_index(drop=True)
        buckets = self.areas.bucket(fr)
        f = self.findings
        if id_col in frame:   # the findings of these records (and those without an id), in the engine's order
            mine = isin(f["record_id"].astype("str"), frame[id_col].astype("str")) | f["record_id"].isna().to_numpy()
            f = f[mine]
        st = record_status(self.name, fr, f, lk, cls, id_col, buckets, self.code_label)
        out["dtypes"] = {c: str(st[c].dtype) for c in STATUS_COLUMNS}
        out["counts"] = st.assign(received=1).groupby("bucket")[["received", "governed", "coded", "on_map"]].sum()
        out["scoped"] = len(fr)
        if self.key == "addresses":
            out["smart"] = smart_compound_counts(fr, buckets)
            out["mapped"] = set(st.loc[st["on_map"].to_numpy(bool), "bucket"].astype(str))
        if self.key in GRID_SCHEMAS:
            out["grid"] = (GRID_COLUMN in fr, grid_counts(self.key, fr, buckets, self.buildings))
        prop = None
        if self.key != "addresses" and self.library is not None:
            prop = propose(fr, lk, self.library, self.library_links, target=cls.link_target, name=self.name,
                           id_column=id_col, period=self.period)
        if prop is None:
            st = st.assign(**{c: v.to_numpy() for c, v in no_proposals(len(st)).items()})
        else:
            prop, out["match"] = prop
            st = st.assign(**{c: prop[c].to_numpy() for c in PROPOSAL_COLUMNS})
            att = st["on_map"].to_numpy() | (st["governed"].to_numpy() & prop["would_map"].to_numpy())
            out["attainable"] = pd.DataFrame({"bucket": buckets, "attainable": att.astype("int64"),
                                              "governed": st["governed"].astype("int64").to_numpy()}).groupby("bucket").sum()
        out["prop_dtypes"] = {c: str(st[c].dtype) for c in PROPOSAL_COLUMNS}
        if self.key == "houses":
            ok = code_ok_any(fr, f, cls, id_col)
            out["house_coding"] = pd.DataFrame({"bucket": buckets, "coded_any": ok.astype("int64"), "received": 1}).groupby("bucket").sum()
            if self.buildings is not None:
                out["refs"] = building_refs(fr, self.buildings, buckets, cls.link_keys)
        out["summary"] = st.groupby(["link_method", "on_map"]).size().rename("records").reset_index()
        bad = ~(st["governed"] & st["coded"] & st["on_map"])
        out["evidence"] = st[bad.to_numpy()].assign(period=self.period or "current")[["period", *STATUS_COLUMNS, *PROPOSAL_COLUMNS]]
        return out


def _sum(parts: list) -> pd.DataFrame:
    parts = [p for p in parts if p is not None]
    return pd.concat(parts).groupby(level=0).sum() if parts else None


def _typed(pieces: list, dtypes: list) -> list:
    """Evidence parts with the column types one whole status table would have had: text columns are ``str`` where
    any partition's were (a partition whose column holds no text infers ``object``)."""
    as_str = {c for d in dtypes for c, t in d.items() if t == "str"}
    out = []
    for p in pieces:
        conv = {c: pd.Series(p[c].astype(object).to_numpy(), index=p.index, dtype="str")
                for c in as_str if c in p and p[c].dtype != "str"}
        out.append(p.assign(**conv) if conv else p)
    return out


def _merged_match(parts: list, offsets: list):
    """One :class:`~cimlib.geocode.run.MatchResult` of a register from those of its partitions."""
    from dataclasses import replace

    from cimlib.geocode.run import ordered_summary

    first = parts[0]
    summary = pd.concat([p.summary for p in parts], ignore_index=True)
    summary = ordered_summary(summary.groupby(["dataset", "street_code", "community_code", "status"],
                                              sort=False)["records"].sum().reset_index())
    texts = None if any(p.texts is None for p in parts) else pd.concat([p.texts for p in parts], ignore_index=True)
    return replace(first, matches=pd.concat([p.matches for p in parts], ignore_index=True), summary=summary,
                   records=int(sum(p.records for p in parts)), texts=texts,
                   areas=pd.concat([p.areas for p in parts], ignore_index=True),
                   positions=np.concatenate([p.positions + o for p, o in zip(parts, offsets)]))


def one_period_partitioned(run, areas, admin, period, latest, checked: dict | None, rows: int):
    """:func:`cimlib.metrics.compute._one_period` with every register read, checked and counted in partitions of
    about ``rows`` records."""
    from cimlib.metrics import compute as C
    from cimlib.metrics.compute import _KEPT_FINDING_COLUMNS, _rows
    from cimlib.metrics.coverage import completeness_from_refs
    from cimlib.metrics.linking import projected_crs
    from standards_checks.backends.pandas import Context
    from standards_checks.backends.partitioned import check_partitioned, compute, row_source

    ctx = Context(run.catalog, period=period, cache=None)
    buildings = run.static("buildings")
    for schema in ("admin_areas", "buildings"):
        if run.static(schema) is not None:
            ctx.register(run.names[schema], schema, run.static(schema), pristine=True)
    out_rows, evidence, summary, matches, counted = [], [], [], {}, {}
    base = {"admin_areas", "buildings"}
    crs = projected_crs(admin.geometry.to_numpy())
    addr = None   # what the later registers need of the standard addresses
    for key in ("addresses", "persons", "houses", "units"):
        cls = CLASSES[key]
        name = run.names.get(key)
        if not name:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                source = row_source(run.catalog, name, period, rows)
                meta = (source.whole.iloc[:0] if source.whole is not None    # unreadable (a CRS that differs, ...):
                        else run.catalog.read_rows(name, period, 0, 0))      # a problem, as in memory
        except CatalogError as exc:
            run.problems.append((period, name, str(exc)))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = check_partitioned(ctx, name, source)
        errors = f.loc[(f["severity"] == "error").to_numpy()]
        if checked is not None:
            checked[(name, period)] = errors[list(_KEPT_FINDING_COLUMNS)]
        id_col = run.catalog[name].id_column or meta.columns[0]
        if key == "addresses" and buildings is None:
            run.problems.append((period, name, "建筑白模（buildings）不可用：标准地址无法与建筑物关联"))
        job = _Job(key, name, period, id_col, source, errors.reset_index(drop=True), areas, admin, buildings,
                   run.tolerance_m, crs, run.catalog[name].field_label(cls.code_column))
        if key != "addresses" and addr is not None:
            job.target_ids, job.target_on = addr["ids"], addr["on_map"]
            job.library, job.library_links = addr["library"], addr["links"]
        job_d = dask.delayed(job, name=f"register-job-{uuid.uuid4().hex}", traverse=False)
        parts = compute([dask.delayed(_Job.run, pure=False)(job_d, i) for i in range(source.n)])
        del job_d
        deps = base | ({"addresses"} if key == "addresses" else {key} | ({"addresses"} if cls.link_target == "addresses" else set()))
        sha = run.fingerprint(deps, period)
        c = _sum([p["counts"] for p in parts])
        out_rows.append(_rows("governance_rate", name, c, "governed", "received", areas, period, sha, cls.name_zh))
        out_rows.append(_rows("coding_rate", name, c, "coded", "governed", areas, period, sha, cls.name_zh))
        out_rows.append(_rows("mapping_rate", name, c, "on_map", "governed", areas, period, sha, cls.name_zh))
        if key == "addresses":
            sc = _sum([p["smart"] for p in parts])
            if sc is not None:
                sc_rows = _rows("smart_compound_count", name, sc, "smart", "compounds", areas, period, sha)
                out_rows.append(sc_rows.assign(value=sc_rows["numerator"]))
        if any("match" in p for p in parts):
            offsets = np.cumsum([0] + [p["scoped"] for p in parts])[:-1]
            matches[name] = _merged_match([p["match"] for p in parts], list(offsets))
            ca = _sum([p["attainable"] for p in parts])
            out_rows.append(_rows("mapping_rate_attainable", name, ca, "attainable", "governed", areas, period,
                                  run.fingerprint(deps | {"addresses"}, period), cls.name_zh))
        if key == "houses":
            hc = _sum([p["house_coding"] for p in parts])
            out_rows.append(_rows("house_coding_rate", name, hc, "coded_any", "received", areas, period, sha))
            if buildings is not None:
                cc = completeness_from_refs(pd.concat([p["refs"] for p in parts], ignore_index=True))
                out_rows.append(_rows("white_model_completeness", run.names["buildings"], cc, "matched", "referenced",
                                      areas, period, run.fingerprint(base | {"houses"}, period)))
        if any("grid" in p for p in parts):
            counted[key] = (any(p["grid"][0] for p in parts), _sum([p["grid"][1] for p in parts]))
        s = pd.concat([p["summary"] for p in parts], ignore_index=True)
        s = s.groupby(["link_method", "on_map"])["records"].sum().reset_index()
        summary.append(s.rename(columns={"link_method": "method"}).assign(period=period or "current", dataset=name))
        dtypes = [{**p["dtypes"], **p["prop_dtypes"]} for p in parts]
        evidence += _typed([p["evidence"] for p in parts], dtypes)
        if key == "addresses":
            library = source.projection([c for c in (id_col, *LIBRARY_COLUMNS) if c in meta.columns])
            links = pd.concat([p["links"] for p in parts], ignore_index=True)
            scope = (library["address_type"].isin(cls.scope).to_numpy() if "address_type" in library and cls.scope
                     else np.ones(len(library), bool))
            addr = {"ids": pd.concat([p["ids"] for p in parts], ignore_index=True), "on_map": links["on_map"].to_numpy(),
                    "library": library, "links": links, "scoped": library[scope].reset_index(drop=True),
                    "errors": errors, "mapped": set().union(*[p["mapped"] for p in parts])}
            ctx.register(name, "addresses", library)   # 实有人口/实有单位 link rules look up its identifiers
        del parts

    mapped = None
    if addr is not None:
        mapped = pd.DataFrame({"bucket": sorted(addr["mapped"]), "on_map": True})
    out_rows += C._pipeline_rows(run, areas, period, mapped, addr["scoped"] if addr else None,
                                 addr["errors"] if addr else None)
    out_rows += C._coverage_rows(run, areas, admin, period, latest)
    out_rows += C._platform_rows(run, areas, admin, period, latest, mapped)
    out_rows += C._grid_rows(run, areas, period, {}, buildings, counted)
    return [r for r in out_rows if len(r)], evidence, summary, matches
