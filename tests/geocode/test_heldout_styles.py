"""Held-out writing styles (issue 14 acceptance): the matcher judged on texts the sample city's generator never writes.

The texts come from :mod:`tests.geocode.heldout_texts` (公安 and 市场监管 register styles, spaced elements, ``8#楼1-501``,
``1门``, ``五0一室``, ``1单元5楼501``, reversed order, door number without 号, 繁体, mixed widths, phone numbers,
``小区`` appended or the generic word dropped, the street without 街道, landmarks, one wrong character, other junk).
Precision is measured as in ``test_match.py`` (a returned address lies on the true address's chain), recall to the
exact true address on the full-detail styles.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cimlib.geocode import match_addresses

from heldout_texts import figures, heldout_texts, judge


@pytest.fixture(scope="module")
def judged(sample_cities):
    from cimlib.catalog import Catalog

    out = {}
    for seed in (7, 11):
        addresses = Catalog.load(sample_cities.city(seed) / "data_catalog.yaml").read("addresses")
        texts = heldout_texts(addresses, seed=seed)
        out[seed] = judge(texts, match_addresses(texts["text"], addresses), addresses)
    return out


def _table(df: pd.DataFrame) -> str:
    return "\n" + figures(df).round(3).to_string()


@pytest.mark.parametrize("seed", [7, 11])
def test_heldout_styles_cover_what_they_claim(judged, seed):
    df = judged[seed]
    per_style = df.groupby("style").size()
    # every style is written for enough addresses to be judged, and junk is there
    assert (per_style.drop("junk") >= 30).all(), per_style
    assert per_style["junk"] >= 10
    assert df.loc[df["full_detail"], "address_id"].notna().all()


@pytest.mark.parametrize("seed", [7, 11])
def test_heldout_precision(judged, seed):
    df = judged[seed]
    returned = df["got"].notna() & df["address_id"].notna()
    precision = df.loc[returned, "on_chain"].mean()
    assert precision >= 0.99, f"precision {precision:.4f}" + _table(df)


@pytest.mark.parametrize("seed", [7, 11])
def test_heldout_recall_of_full_detail_styles(judged, seed):
    df = judged[seed]
    full = df["full_detail"]
    recall = df.loc[full, "exact"].mean()
    assert recall >= 0.95, f"recall {recall:.4f}" + _table(df)


@pytest.mark.parametrize("seed", [7, 11])
def test_heldout_one_wrong_character(judged, seed):
    df = judged[seed]
    typo = df["style"] == "typo"
    assert df.loc[typo, "exact"].mean() >= 0.85, _table(df)


@pytest.mark.parametrize("seed", [7, 11])
def test_heldout_junk_is_never_matched(judged, seed):
    df = judged[seed]
    junk = df[df["style"] == "junk"]
    assert (junk["status"] == "unmatched").all() and junk["got"].isna().all(), junk[["text", "status", "got"]]
    amb = df["status"] == "ambiguous"
    assert df.loc[amb, "got"].isna().all()
