"""Address governance (地址治理): normalize, parse and match free-text addresses to the standard address library.

Modules: :mod:`cimlib.geocode.normalize` (one written form, remarks set aside, junk flagged),
:mod:`cimlib.geocode.parse` (GB/T 35602-2017 elements), :mod:`cimlib.geocode.match` (matching to the standard
address library through the index of :mod:`cimlib.geocode._index`), :mod:`cimlib.geocode.run` (a catalog
register's unlinked records matched: the 治理工作清单 of ``cim match``) and :mod:`cimlib.geocode.outputs` (its files).
"""

from cimlib.geocode.normalize import normalize_address
from cimlib.geocode.parse import parse_address
from cimlib.geocode._index import AddressIndex
from cimlib.geocode.match import MATCH_LEVELS, STATUSES, match_addresses
from cimlib.geocode.outputs import write_match_outputs
from cimlib.geocode.run import MatchResult, match_dataset

__all__ = ["normalize_address", "parse_address", "match_addresses", "AddressIndex", "MATCH_LEVELS", "STATUSES",
           "match_dataset", "MatchResult", "write_match_outputs"]
