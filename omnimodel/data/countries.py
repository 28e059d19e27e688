"""Country names and aliases as found in exports, mapped to ISO 3166 alpha-2 codes.

Kept small and explicit: exports spell countries in many ways (``EIRE``, ``RSA``, ``Philipines``), and each
alias below is one someone met in real data. Unknown names are returned as ``None`` for the adapter to report.
"""

from __future__ import annotations

import pandas as pd

ISO2 = {
    "afghanistan": "AF",
    "argentina": "AR",
    "australia": "AU",
    "austria": "AT",
    "bahrain": "BH",
    "belgium": "BE",
    "brazil": "BR",
    "bulgaria": "BG",
    "canada": "CA",
    "chile": "CL",
    "china": "CN",
    "colombia": "CO",
    "croatia": "HR",
    "cyprus": "CY",
    "czech republic": "CZ",
    "czechia": "CZ",
    "denmark": "DK",
    "egypt": "EG",
    "estonia": "EE",
    "finland": "FI",
    "france": "FR",
    "germany": "DE",
    "greece": "GR",
    "hong kong": "HK",
    "hungary": "HU",
    "iceland": "IS",
    "india": "IN",
    "indonesia": "ID",
    "ireland": "IE",
    "israel": "IL",
    "italy": "IT",
    "japan": "JP",
    "jordan": "JO",
    "kenya": "KE",
    "korea": "KR",
    "south korea": "KR",
    "latvia": "LV",
    "lebanon": "LB",
    "lithuania": "LT",
    "luxembourg": "LU",
    "malaysia": "MY",
    "malta": "MT",
    "mexico": "MX",
    "netherlands": "NL",
    "new zealand": "NZ",
    "nigeria": "NG",
    "norway": "NO",
    "panama": "PA",
    "peru": "PE",
    "philippines": "PH",
    "poland": "PL",
    "portugal": "PT",
    "romania": "RO",
    "saudi arabia": "SA",
    "singapore": "SG",
    "slovakia": "SK",
    "slovenia": "SI",
    "south africa": "ZA",
    "spain": "ES",
    "sweden": "SE",
    "switzerland": "CH",
    "taiwan": "TW",
    "thailand": "TH",
    "turkey": "TR",
    "ukraine": "UA",
    "united arab emirates": "AE",
    "united kingdom": "GB",
    "united states": "US",
    "vietnam": "VN",
}
ALIASES = {
    "eire": "IE",
    "rsa": "ZA",
    "usa": "US",
    "us": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "philipines": "PH",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "republic of korea": "KR",
    # Not countries, but found in exports: ISO keeps EU reserved and ZZ for unknown.
    "european community": "EU",
    "european union": "EU",
    "unspecified": "ZZ",
    "unknown": "ZZ",
    # Jersey and Guernsey have no shared code; JE stands for both, and the adapter says so.
    "channel islands": "JE",
}
CODES = set(ISO2.values()) | set(ALIASES.values())
_SMALL_WORDS = {"and", "of", "the"}


def _usual(name: str) -> str:
    return " ".join(w if w in _SMALL_WORDS and i else w.capitalize() for i, w in enumerate(name.split()))


#: each code's name in its usual English form: the first name :data:`ISO2` lists for it (never an alias such as
#: "us" or "england", which exports use and readers would not)
NAMES = {code: _usual(name) for name, code in reversed(list(ISO2.items()))}


def country_name(code: str) -> str:
    """The usual English name of an ISO 3166 alpha-2 code (the code itself when unknown).

    Examples
    --------
    >>> country_name("US"), country_name("GB"), country_name("XK")
    ('United States', 'United Kingdom', 'XK')
    """
    return NAMES.get(str(code), str(code))


def to_iso2(names: pd.Series) -> pd.Series:
    """Map country names, aliases or codes to ISO alpha-2; unknown values become missing."""
    text = names.astype("string").str.strip()
    key = text.str.lower()
    mapped = key.map({**ISO2, **ALIASES})
    is_code = text.str.upper().isin(CODES) & (text.str.len() == 2)
    return mapped.where(~is_code, text.str.upper()).astype("string")
