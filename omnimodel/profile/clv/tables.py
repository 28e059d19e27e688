"""How lifetime values read in a report: what the value counts, who costs money, which columns tell customers
apart, and each segment's spread (instead of ``describe()``'s eight rows)."""

from __future__ import annotations

import pandas as pd


def value_basis(summary: pd.DataFrame) -> str:
    """What the value counts, in one sentence for the report: refunds, cost of goods, cost to serve."""
    parts = ["after full refunds of returned lines"]
    known = summary["cost_rate"].notna().mean() if "cost_rate" in summary else 0.0
    if known == 0:
        parts.append("before cost of goods (the data has no unit costs)")
    else:
        parts.append(
            f"after cost of goods (unit costs known for {known:.0%} of customers, the median elsewhere)"
        )
    serve = summary.attrs.get("cost_to_serve") or []
    if serve:
        sources = sorted({row["source"].split(" ")[0] for row in serve})
        rates = ", ".join(f"{row['channel']} {row['cost_to_serve']:.0%}" for row in serve)
        parts.append(f"after cost to serve from {' and '.join(sources)} ({rates})")
    return ("Value is profit " + ", ".join(parts) + ".").replace("%", " %")


def loss_makers(values: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The customers expected to cost the most over the horizon (value below zero), worst first, with why:
    their return share and chance of being a serial returner. ``attrs`` holds how many and their total."""
    neg = values[values["value"] < 0].sort_values("value", kind="stable")
    cols = [c for c in ("customer_id", values.columns[1], "expected_purchases", "return_share",
                        "p_serial_returner", "cost_of_goods_rate", "cost_to_serve_rate", "value", "value_p05",
                        "value_p95") if c in neg]  # fmt: skip
    out = neg[cols].head(n).reset_index(drop=True)
    out.attrs.update(
        customers=len(neg), total=float(neg["value"].sum()), sure=int((neg["value_p95"] < 0).sum())
    )
    return out


def informative(
    values: pd.DataFrame, columns: list[str], spread: float = 0.05
) -> tuple[list[str], list[str]]:
    """The ``columns`` that tell customers apart, and a sentence for each one that does not: its 10th to 90th
    percentile range is below ``spread`` of its scale (P(alive) about 1.00 for everyone says nothing)."""
    keep, notes = [], []
    for col in columns:
        x = values[col].dropna().astype(float)
        p10, p90 = (float(x.quantile(q)) for q in (0.1, 0.9)) if len(x) else (0.0, 0.0)
        scale = 1.0 if col == "p_alive" else max(abs(p10), abs(p90), 1e-12)
        if len(x) and p90 - p10 >= spread * scale:
            keep.append(col)
        else:
            notes.append(
                f"{col} is about {x.median():.2f} for almost every customer (P10 {p10:.2f}, P90 {p90:.2f}): it "
                "cannot tell customers apart in this data, so it is left out of the table."
            )
    return keep, notes


def spread_by_group(values: pd.DataFrame, columns: list[str], by: str = "segment") -> pd.DataFrame:
    """Per group: customers, and each column's median with the range of the middle 80 % of its customers (what
    a reader needs of a distribution, instead of ``describe()``'s eight rows)."""
    rows = []
    for group, part in values.groupby(by):
        row: dict = {by: group, "customers": len(part)}
        for col in columns:
            row[f"{col}_median"] = part[col].median()
            row[f"{col}_p10"], row[f"{col}_p90"] = part[col].quantile([0.1, 0.9]).to_numpy()
        rows.append(row)
    return pd.DataFrame(rows)
