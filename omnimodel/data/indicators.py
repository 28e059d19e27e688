"""Country market indicators (World Bank, Gapminder, Our World in Data) as one row per country.

Reads a folder you give it (an explicit input: nothing is looked up elsewhere) holding the files named in
:data:`SOURCES` and keeps, per ISO 3166 country,
the latest available value of each indicator together with its year, since the sources end in different
years (population 2022, GDP per capita 2020, internet and broadband 2019). Sources are joined on ISO3 codes,
never on names; aggregates (World, EU, income groups) are dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omnimodel.environment import resolve_path
from omnimodel.exceptions import OmnimodelError

#: what the folder must hold, for the error messages
EXPECTED = "countrypops.csv (gt), wbd_example.csv (World Bank), and Our World in Data's share-of-individuals-using-the-internet, broadband-penetration-by-country and mobile-cellular-subscriptions-per-100-people CSV files"

#: indicator -> (file, ISO3 column, year column, value column or position of the value column)
SOURCES = {
    "population": ("countrypops.csv", "country_code_3", "year", "population"),
    "gdp_per_capita": ("wbd_example.csv", "iso3c", "year", "rgdppc"),
    "internet_share": ("owid_share-of-individuals-using-the-internet.csv", "Code", "Year", 3),
    "broadband_per_100": ("owid_broadband-penetration-by-country.csv", "Code", "Year", 3),
    "mobile_per_100": ("owid_mobile-cellular-subscriptions-per-100-people.csv", "Code", "Year", 3),
}


def _latest(folder: Path, name: str) -> pd.DataFrame:
    file, code, year, value = SOURCES[name]
    path = folder / file
    if not path.exists():
        raise OmnimodelError(
            f"The market indicator file {file} is missing.",
            table="country_indicators",
            fix=f"point `indicators` at a folder with {EXPECTED}",
        )
    raw = _read(folder, file)
    col = raw.columns[value] if isinstance(value, int) else value
    frame = raw[[code, year, col]].dropna()
    frame = frame[frame[code].astype(str).str.fullmatch(r"[A-Z]{3}")]  # OWID_* and blank = aggregates
    frame = frame.sort_values(year).groupby(code).tail(1)
    return frame.rename(columns={code: "iso3", year: f"{name}_year", col: name}).set_index("iso3")


def load_indicators(folder: str | Path) -> pd.DataFrame:
    """One row per country: iso2, iso3, name, continent, subregion, and each indicator with its year.

    ``internet_share`` is the share of individuals using the internet in percent, the closest proxy for
    e-commerce reach in these sources; ``gdp_per_capita`` is real GDP per capita in US dollars.
    """
    folder = resolve_path(folder)
    if not folder.is_dir():
        raise OmnimodelError(
            f"No country indicator folder at {folder}.",
            table="country_indicators",
            fix=f"pass the folder holding {EXPECTED} (the `indicators` parameter of the segments report)",
        )
    # countrypops lists countries only (no aggregates) with both ISO codes: it is the spine.
    pops = _read(folder, "countrypops.csv")
    base = (
        pops[["country_code_3", "country_code_2", "country_name"]]
        .drop_duplicates("country_code_3")
        .rename(columns={"country_code_3": "iso3", "country_code_2": "iso2", "country_name": "name"})
        .set_index("iso3")
    )
    # The export lost Namibia's ISO2 code ("NA" read as missing upstream).
    if "NAM" in base.index:
        base.loc["NAM", "iso2"] = "NA"
    base = base.dropna(subset=["iso2"])
    for name in SOURCES:
        base = base.join(_latest(folder, name), how="left")
    base["gdp"] = base["population"] * base["gdp_per_capita"]
    base = base.join(_regions(folder), how="left")
    for c in [c for c in base.columns if c.endswith("_year")]:
        base[c] = base[c].astype("Int64")
    return base.reset_index().sort_values("iso2", ignore_index=True)


def _regions(folder: Path) -> pd.DataFrame:
    """Continent and UN sub-region per ISO3, from dslabs' gapminder (names mapped through Gapminder's codes)."""
    codes = pd.read_csv(folder / "gapminder_country_codes.csv")
    names = dict(zip(codes["country"], codes["iso_alpha"], strict=True))
    pops = _read(folder, "countrypops.csv")
    names.update(dict(zip(pops["country_name"], pops["country_code_3"], strict=True)))
    regions = pd.read_csv(folder / "dslabs_gapminder.csv", usecols=["country", "continent", "region"])
    # Gapminder's unfiltered set knows the continent of a few countries dslabs lacks.
    more = pd.read_csv(folder / "gapminder_unfiltered.csv", usecols=["country", "continent"])
    regions = pd.concat([regions, more]).drop_duplicates("country")
    regions["iso3"] = regions["country"].map(names)
    regions = regions.dropna(subset=["iso3"]).drop_duplicates("iso3")
    return regions.set_index("iso3")[["continent", "region"]].rename(columns={"region": "subregion"})


def _read(folder: Path, file: str) -> pd.DataFrame:
    # "NA" is Namibia's ISO2 code, not a missing value: only empty cells are missing.
    return pd.read_csv(folder / file, keep_default_na=False, na_values=[""])
