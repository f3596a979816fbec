"""``mapping_rate_attainable`` rows and the proposal columns of the evidence (address-match proposals)."""

import numpy as np
import pandas as pd
import pytest

from cimlib.catalog import Catalog
from cimlib.metrics import METRICS, compute_metrics
from cimlib.metrics.proposals import PROPOSAL_COLUMNS

STATUSES = {"matched", "partial", "ambiguous", "unmatched", "no_text"}


@pytest.fixture(scope="module")
def delivered_catalog(sample_cities):
    """The correct catalog of the delivered sample city (seed 7), saved in a folder beside a copy of delivery/."""
    return Catalog.load(sample_cities.delivered(7) / "delivered.yaml")


@pytest.fixture(scope="module")
def delivered_metrics(delivered_catalog):
    return compute_metrics(delivered_catalog)


def _pair(m: pd.DataFrame, dataset: str) -> pd.DataFrame:
    key = ["dataset", "area_code", "area_level", "period"]
    real = m[(m["metric_id"] == "mapping_rate") & (m["dataset"] == dataset)].set_index(key)
    att = m[(m["metric_id"] == "mapping_rate_attainable") & (m["dataset"] == dataset)].set_index(key)
    return real.add_suffix("_real").join(att.add_suffix("_att"), how="outer")


@pytest.mark.parametrize("dataset", ["persons", "units", "houses"])
def test_attainable_rows_sit_beside_the_real_rate_per_area(delivered_metrics, dataset):
    m = delivered_metrics.metrics
    p = _pair(m, dataset)
    assert len(p) and p["numerator_att"].notna().all()                       # one row per area of the real rate
    assert set(p.index.get_level_values("area_level")) == {"county", "street", "community"}
    assert (p["denominator_att"] == p["denominator_real"]).all()             # same denominator: governed records
    assert (p["numerator_att"] >= p["numerator_real"]).all()
    att = m[(m["metric_id"] == "mapping_rate_attainable") & (m["dataset"] == dataset)]
    assert att["name_zh"].str.contains("可达上图率").all() and att["name_zh"].str.contains("非登记现状").all()
    assert (att["unit"] == "比率").all() and att["inputs_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    with np.errstate(invalid="ignore"):
        ok = att["denominator"] > 0
        assert np.allclose(att.loc[ok, "value"], att.loc[ok, "numerator"] / att.loc[ok, "denominator"])
    county = att[att["area_level"] == "county"]["numerator"].sum()
    assert att[att["area_level"] == "street"]["numerator"].sum() == county   # upper levels are sums
    assert "mapping_rate_attainable" in METRICS


def test_the_real_rate_counts_only_the_registers_own_links(delivered_metrics):
    m = delivered_metrics.metrics
    p = _pair(m, "persons").xs("county", level="area_level")
    # delivered persons carry no address_id: nothing is on the map, whatever the texts propose
    assert (p["numerator_real"] == 0).all() and (p["denominator_real"] > 0).all()
    assert (p["numerator_att"] > 0).all()
    ev = delivered_metrics.evidence
    matched = ev[(ev["dataset"] == "persons") & (ev["proposal_status"] == "matched")]
    assert p["numerator_att"].sum() <= len(matched)                          # only matched proposals count


def test_every_unlinked_record_has_a_proposal_in_the_evidence(delivered_metrics, delivered_catalog):
    ev = delivered_metrics.evidence
    assert set(PROPOSAL_COLUMNS) <= set(ev.columns)
    regs = ev[ev["dataset"].isin(["persons", "units", "houses"])]
    unlinked = regs[regs["link_method"] == "none"]
    assert len(unlinked) and unlinked["proposal_status"].isin(STATUSES).all()
    assert regs.loc[regs["link_method"] != "none", "proposal_status"].isna().all()
    found = unlinked["proposal_status"].isin(["matched", "partial"])
    assert unlinked.loc[found, "proposed_address_id"].notna().all()
    assert unlinked.loc[~found, "proposed_address_id"].isna().all()
    assert unlinked.loc[found, "proposal_score"].between(0, 1).all()
    persons = delivered_catalog.read("persons")
    assert len(regs[regs["dataset"] == "persons"]) == len(persons)           # no person is linked: all listed
    assert ev.loc[ev["dataset"] == "addresses", "proposal_status"].isna().all()


def test_accepted_proposals_count_only_when_matched_fine_enough_and_on_the_map(delivered_catalog, delivered_metrics,
                                                                              monkeypatch):
    """With a stand-in matcher: matched 户室 to an on-map address counts; 街路巷 level, partial or an unknown id do not."""
    ev = delivered_metrics.evidence
    addrs = delivered_catalog.read("addresses")
    bad = set(ev.loc[ev["dataset"] == "addresses", "record_id"])
    on_map = addrs.loc[addrs["address_type"].eq("建筑物") & ~addrs["address_id"].isin(bad), "address_id"].iloc[0]

    def stand_in(address_id, status, level):
        def match(texts, addresses, *, area_codes=None):
            n = len(texts)
            return pd.DataFrame({"address_id": [address_id] * n, "status": status, "match_level": level, "score": 1.0,
                                 "candidates": [[] for _ in range(n)], "reason": ""}, index=texts.index)
        return match

    def persons_county(matcher):
        monkeypatch.setattr("cimlib.geocode.match.match_addresses", matcher)
        m = compute_metrics(delivered_catalog).metrics
        p = _pair(m, "persons").xs("county", level="area_level")
        return p["numerator_att"].sum(), p["denominator_att"].sum(), p["numerator_real"].sum()

    ev_persons = ev[ev["dataset"] == "persons"]
    with_text = ev_persons["governed"] & ev_persons["proposal_status"].ne("no_text")
    num, den, real = persons_county(stand_in(on_map, "matched", "户室"))
    assert real == 0 and num == with_text.sum() and 0 < num <= den
    for matcher in (stand_in(on_map, "matched", "街路巷"), stand_in(on_map, "partial", "建筑物"),
                    stand_in("NOT-AN-ID", "matched", "户室")):
        assert persons_county(matcher)[0] == 0


def test_a_register_without_texts_gets_no_attainable_rows(sample_cities):
    res = compute_metrics(Catalog.load(sample_cities.without_texts(7)), ["2024-09"])
    assert not (res.metrics["metric_id"] == "mapping_rate_attainable").any()
    assert set(PROPOSAL_COLUMNS) <= set(res.evidence.columns)
    assert res.evidence[PROPOSAL_COLUMNS[:2]].isna().all().all()
    assert res.matches == {}


# --------------------------------------------------------------------------- the plain city's own texts


def test_plain_city_proposals_find_the_true_address_of_unlinked_records(sample_cities):
    """The plain city's registers carry texts: the records without a code link (an injected defect or not yet
    linked) get proposals, and the matched ones name the record's true address (truth/address_texts.parquet)."""
    res = sample_cities.metrics(7)
    catalog = Catalog.load(sample_cities.city(7) / "data_catalog.yaml")
    truth = pd.read_parquet(sample_cities.city(7) / "truth" / "address_texts.parquet").set_index(["dataset", "record_id"])
    ev = res.evidence
    for period in ("2024-01", "2024-09"):
        e = ev[(ev["period"] == period) & ev["dataset"].isin(["persons", "units"]) & (ev["link_method"] == "none")]
        assert len(e) and e["proposal_status"].isin(STATUSES).all()
        t = truth.loc[list(zip(e["dataset"], e["record_id"]))]
        library = set(catalog.read("addresses", period=period)["address_id"])
        findable = t["address_id"].isin(library).to_numpy() & (t["form"] != "junk").to_numpy()
        matched = (e["proposal_status"] == "matched").to_numpy()
        assert findable.sum() > 50 and matched[findable].mean() >= 0.9
        # a matched proposal is the record's true address; an address the library lacks (entered later, or a
        # 小区 it does not hold) is never proposed as a match
        right = (e["proposed_address_id"].fillna("-").to_numpy(dtype=str)
                 == t["address_id"].fillna("").to_numpy(dtype=str))
        assert right[matched].mean() >= 0.99
        assert not matched[~t["address_id"].isin(library).to_numpy()].any()
    m = res.metrics
    for period in ("2024-01", "2024-09"):
        p = _pair(m[m["period"] == period], "persons").xs("county", level="area_level")
        assert (p["numerator_att"] > p["numerator_real"]).all()      # the texts would close part of the gap
        assert (p["numerator_att"] <= p["denominator_att"]).all()


def test_the_metrics_match_is_what_the_evidence_and_cim_match_say(sample_cities):
    """One match per register and period: the evidence's proposals are the kept match run's rows, and
    ``match_dataset`` (``cim match``) on the same snapshot returns the same records and statuses."""
    from cimlib.geocode.run import match_dataset

    res = sample_cities.metrics(7)
    assert {("persons", "2024-09"), ("units", "2024-09"), ("persons", "2024-01")} <= set(res.matches)
    run = res.matches[("persons", "2024-09")]
    ev = res.evidence
    e = ev[(ev["period"] == "2024-09") & (ev["dataset"] == "persons") & (ev["link_method"] == "none")
           & (ev["proposal_status"] != "no_text")]
    assert run.matches["record_id"].tolist() == e["record_id"].tolist()
    assert run.matches["status"].tolist() == e["proposal_status"].tolist()
    counts = run.counts()
    assert counts["linked"] + len(e) + counts["no_text"] == run.records
    alone = match_dataset(Catalog.load(sample_cities.city(7) / "data_catalog.yaml"), "persons", period="2024-09")
    pd.testing.assert_frame_equal(alone.matches, run.matches)
    pd.testing.assert_frame_equal(alone.summary, run.summary)
