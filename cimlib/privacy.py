"""Masking of personal data (数据分类分级): 身份证号, 姓名, 电话, 住址门牌 never leave the session unmasked."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

PERSONAL_COLUMNS = {
    "id_number": "id_number", "name": "name", "legal_rep": "name", "phone": "phone", "full_address": "address",
    "door_plate": "address", "address_text": "address",
}
"""Column name -> kind of personal value. Columns with these names are masked in every output by default."""


def mask_values(values, kind: str) -> pd.Series:
    """Mask personal values, vectorized; missing values stay missing.

    Parameters
    ----------
    values : array_like of str
    kind : {"id_number", "name", "phone", "address"}
        ``id_number`` keeps the 6-digit region code and the last 4 characters (``421303********941X``); ``name``
        keeps the surname (``张**``); ``phone`` keeps the first 3 and last 4 digits (``138****1234``); ``address``
        replaces every digit (door and room numbers) with ``*``.

    Returns
    -------
    pandas.Series of str
    """
    s = pd.Series(values, dtype=object)
    present = s.notna()
    t = s[present].astype(str)
    n = t.str.len()
    if kind == "id_number":
        out = t.str.slice(0, 6) + _stars(np.where(n > 10, n - 10, 0), t.index) + t.str.slice(-4)
        out = out.where(n > 10, "*" * 4)
    elif kind == "name":
        out = t.str.slice(0, 1) + _stars((n - 1).clip(lower=1).to_numpy(), t.index)
    elif kind == "phone":
        out = (t.str.slice(0, 3) + "****" + t.str.slice(-4)).where(n >= 7, "****")
    elif kind == "address":
        out = t.str.replace(r"\d", "*", regex=True)
    else:
        raise ValueError(f"unknown personal-data kind {kind!r}")
    result = pd.Series(None, index=s.index, dtype=object)
    result[present] = out.to_numpy()
    return result


def _stars(k, index) -> pd.Series:
    k = np.asarray(k, dtype=np.int64)
    if k.size == 0:
        return pd.Series([], index=index, dtype=object)
    return pd.Series(np.char.multiply("*", k), index=index, dtype=object)


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every personal column (by name, :data:`PERSONAL_COLUMNS`) masked."""
    out = df.copy()
    for col, kind in PERSONAL_COLUMNS.items():
        if col in out:
            out[col] = mask_values(out[col], kind)
    return out


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask personal values that can be recognised in free text (error messages, logs): 身份证号 and mobile numbers.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        ``421303********001X`` for an 18-character 身份证号, ``138****1234`` for an 11-digit mobile number.
        Names cannot be recognised in free text: messages never quote a name column's values.
    """
    if not isinstance(text, str) or not text:
        return text
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(3)[-4:], text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
