"""Check characters of the identification codes carried by 一标三实 records, vectorized.

These are the generating side of the rules (used by the sample city to issue valid codes and to inject wrong
ones). Validation entry points built on them live beside them, so each algorithm is written once.
"""

from __future__ import annotations

import numpy as np

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.array(list("10X98765432"))

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

HOUSE_CODE_WEIGHTS = np.array([pow(2, i + 1, 11) for i in range(22)], dtype=np.int64)
_CHECK11 = np.array(list("0123456789X"))

# byte -> value lookup tables
_DIGIT_VALUE = np.full(256, -1, dtype=np.int64)
_DIGIT_VALUE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31)
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
_ORG_VALUE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_ORG_VALUE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)] = np.arange(10, 36)


def _char_matrix(codes, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of fixed-width ASCII codes."""
    arr = np.asarray(codes, dtype=f"S{width}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(-1, width)


def ric_check_char(first17) -> np.ndarray:
    """Check character of 公民身份号码 from its first 17 digits (GB 11643-1999 §5, ISO 7064 MOD 11-2).

    Parameters
    ----------
    first17 : array_like of str
        The 17-digit body (6-digit address code, 8-digit birth date, 3-digit sequence).

    Returns
    -------
    numpy.ndarray of str
        ``0``–``9`` or ``X``.
    """
    m = _DIGIT_VALUE[_char_matrix(first17, 17)]
    return RIC_CHECK[(m @ RIC_WEIGHTS) % 11]


def org_check_char(first8) -> np.ndarray:
    """Check character of the 9-character 组织机构代码 from its first 8 characters (GB 11714-1997).

    Parameters
    ----------
    first8 : array_like of str
        Eight digits or upper-case letters.

    Returns
    -------
    numpy.ndarray of str
        ``0``–``9`` or ``X``; ``C9 = 11 - (Σ w_i·c_i mod 11)``, 10 written ``X`` and 11 written ``0``.
    """
    m = _ORG_VALUE[_char_matrix(first8, 8)]
    c = 11 - (m @ ORG_WEIGHTS) % 11
    return _CHECK11[np.where(c == 11, 0, c)]


def uscc_check_char(first17) -> np.ndarray:
    """Check character of the 统一社会信用代码 from its first 17 characters (GB 32100-2015 §4.2).

    Parameters
    ----------
    first17 : array_like of str
        Registration authority (1), type (1), region code (6) and organisation code (9), over the alphabet
        ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z).

    Returns
    -------
    numpy.ndarray of str
        ``alphabet[(31 - Σ 3^i·c_i mod 31) mod 31]``.
    """
    m = _USCC_VALUE[_char_matrix(first17, 17)]
    return np.array(list(USCC_ALPHABET))[(31 - (m @ USCC_WEIGHTS) % 31) % 31]


def house_code_check_char(first22) -> np.ndarray:
    """Check character of the 房屋代码 (JGJ/T 246-2012) from its first 22 digits. Provisional.

    The structure (9-digit 街乡 code, 4-digit year, 4-digit 幢, 5-digit 户) is confirmed; the check table is not
    public here (STANDARDS.md §2, "to verify"): this uses weights ``2^(i+1) mod 11`` and ``(12 - Σ mod 11) mod 11``
    with 10 written ``X``, and must be corrected in this one place once the standard's text is at hand.

    Parameters
    ----------
    first22 : array_like of str
        The 22-digit body.

    Returns
    -------
    numpy.ndarray of str
    """
    m = _DIGIT_VALUE[_char_matrix(first22, 22)]
    return _CHECK11[(12 - (m @ HOUSE_CODE_WEIGHTS) % 11) % 11]
