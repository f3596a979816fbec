"""What the schema modules share: the model base and the two rule shapes that recur (code repeated, link dangling)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from cimlib.lookup import isin


class Model(pa.DataFrameModel):
    """Base of every schema model: extra columns are allowed and nothing is coerced (inputs are read as sent)."""

    class Config:
        strict = False
        coerce = False


def repeated(frame: pd.DataFrame, column: str) -> pd.Series:
    """True for every record whose (non-empty) ``column`` value occurs more than once."""
    s = frame[column]
    return s.notna() & s.duplicated(keep=False)


def unlinked(frame: pd.DataFrame, column: str, ctx, dataset: str) -> pd.Series:
    """True where ``column`` is empty or names no record of ``dataset`` (its catalog ``id_column``)."""
    return pd.Series(~isin(frame[column], ctx.ids(dataset)), index=frame.index)
