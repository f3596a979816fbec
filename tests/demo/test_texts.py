"""The sample city's registers carry free-text addresses, and its truth records each text's true standard address."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cimlib.catalog import Catalog
from cimlib.demo._texts import _JUNK, FORMS, TEXT_TRUTH

ID = {"persons": "person_id", "units": "unit_id"}


@pytest.fixture(scope="module", params=[7, 11])
def city(request, sample_cities):
    out = sample_cities.city(request.param)
    cat = Catalog.load(out / "data_catalog.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = {n: cat.read(n) for n in ("persons", "units", "houses", "addresses")}
    return out, cat, data, pd.read_parquet(out / "truth" / TEXT_TRUTH)


def test_every_record_has_one_text(city):
    _, _, data, truth = city
    assert list(truth.columns) == ["dataset", "record_id", "address_id", "text", "form"]
    assert set(truth["form"]) <= set(FORMS)
    for name, id_col in ID.items():
        t = truth[truth["dataset"] == name].set_index("record_id")
        frame = data[name]
        assert "address_text" in frame
        assert t.index.is_unique and set(t.index) == set(frame[id_col])
        # the register's text is the truth's text, record by record
        assert frame["address_text"].tolist() == t.loc[frame[id_col], "text"].tolist()
        assert (frame["address_text"].str.len() > 0).all()


def test_forms_people_write(city):
    _, _, data, truth = city
    p = truth[truth["dataset"] == "persons"]
    assert set(p["form"]) >= {"full", "no_province", "no_prefix", "no_community", "compound_only", "chinese_numerals",
                              "fullwidth", "variant", "remark", "typo", "junk", "not_in_library"}
    full = data["addresses"].set_index("address_id")["full_address"]
    sel = truth["form"] == "full"
    assert (truth.loc[sel, "text"].to_numpy() == full.reindex(truth.loc[sel, "address_id"]).to_numpy()).all()
    assert truth.loc[truth["form"] == "junk", "text"].isin(_JUNK).all()
    assert truth.loc[truth["form"] == "fullwidth", "text"].str.contains("[０-９]").all()
    assert truth.loc[truth["form"] == "dash", "text"].str.contains(r"\d+-\d+").all()
    assert truth.loc[truth["form"] == "chinese_numerals", "text"].str.contains("[一二三四五六七八九十]").all()
    # a text with one wrong character is not the standard address, nor any standard address written in full
    typo = truth[truth["form"] == "typo"]
    assert len(typo) and not typo["text"].isin(full.to_numpy()).any()


def test_true_address_independent_of_the_link(city):
    """The truth is where the record really is: a person's is the address of the house they live in, whether or not
    the register still links it (a link removed by an injected defect or not made yet keeps its true address)."""
    out, _, data, truth = city
    p = truth[truth["dataset"] == "persons"].set_index("record_id")
    persons = data["persons"].set_index("person_id")
    house_addr = data["houses"].set_index("house_id")["address_id"]
    real = p["form"] != "not_in_library"
    expected = house_addr.reindex(persons.loc[p.index[real], "house_id"]).to_numpy()
    assert (p.loc[real, "address_id"].to_numpy() == expected).all()
    assert p.loc[~real, "address_id"].isna().all()
    # records without a link at the last period: texts name their true address (some a 小区 the library lacks)
    lib = set(data["addresses"]["address_id"])
    unlinked = ~persons["address_id"].isin(lib)
    defects = pd.read_csv(out / "truth" / "defects.csv", dtype=str)
    injected = set(defects.loc[defects["defect"] == "person_no_address", "record_id"])
    assert unlinked.sum() > 0 and set(persons.index[unlinked]) <= injected
    u = p.loc[persons.index[unlinked]]
    assert u["address_id"].notna().mean() > 0.5
    assert u["address_id"].dropna().isin(lib).all()
    # linked records: the true address is the linked one
    linked = p.loc[persons.index[~unlinked]]
    assert (linked["address_id"].to_numpy() == persons.loc[linked.index, "address_id"].to_numpy()).all()


def test_not_in_library_only_for_unlinked_records(city):
    _, _, data, truth = city
    lib = data["addresses"]
    fake = truth[truth["form"] == "not_in_library"]
    assert len(fake) and fake["address_id"].isna().all()
    assert not fake["text"].isin(lib["full_address"]).any()
    for name, id_col in ID.items():
        frame = data[name].set_index(id_col)
        ids = fake.loc[fake["dataset"] == name, "record_id"]
        assert (~frame.loc[ids, "address_id"].isin(lib["address_id"])).all()


def test_texts_same_in_every_snapshot(city):
    _, cat, _, truth = city
    t = truth[truth["dataset"] == "persons"].set_index("record_id")["text"]
    periods = cat.periods("persons")
    assert len(periods) > 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = cat.read("persons", period=periods[0])
    assert len(first) < len(t)   # records enter over the year; their text does not change
    assert np.array_equal(first["address_text"].to_numpy(dtype=object), t.loc[first["person_id"]].to_numpy(dtype=object))
