"""The malformed-input battery for the real-data adapters (Maven CRM, Olist, Online Retail, a Salesforce-style
export): each case is a small export in the source's own layout with one defect, and must end in a clear error
that names the source file, its column, the rows and the fix, with nothing written and the files unchanged.
Controls (odd but valid input) must load, keeping their text as given."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from omnimodel.cli import main
from tests.data.test_malformed import _write, replace, setfile

MAVEN = {
    "sales_pipeline.csv": "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
    "D1,Ann Lee,GTX Pro,Acme,Won,2016-10-20,2017-03-01,4514\n"
    "D2,Bob Ray,GTXPro,Betasoloin,Lost,2016-10-25,2017-03-11,0\n"
    "D3,Ann Lee,MG Special,Acme,Engaging,2017-01-10,,\n"
    "D4,Bob Ray,MG Special,,Prospecting,,,\n"
    "D5,Bob Ray,GTX Pro,Betasoloin,Won,2016-11-02,2017-02-01,4700\n",
    "accounts.csv": "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
    "Acme,technolgy,1996,1100.04,2822,United States,\nBetasoloin,medical,1999,251.41,495,Philipines,\n",
    "products.csv": "product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n",
    "sales_teams.csv": "sales_agent,manager,regional_office\nAnn Lee,Dustin Brinkmann,Central\n"
    "Bob Ray,Melvin Marxen,East\n",
}
LEADS, DEALS, SELLERS = (
    "olist_marketing_qualified_leads_dataset.csv",
    "olist_closed_deals_dataset.csv",
    "olist_sellers_dataset.csv",
)
OLIST = {
    LEADS: "mql_id,first_contact_date,landing_page_id,origin\nm1,2018-02-01,lp1,social\n"
    "m2,2017-10-20,lp2,paid_search\nm3,2018-03-04,lp1,\nm4,2017-01-05,lp3,organic_search\n",
    DEALS: "mql_id,seller_id,sdr_id,sr_id,won_date,business_segment,lead_type,declared_monthly_revenue\n"
    "m1,s1,d1,r1,2018-02-26 19:58:54,pet,online_medium,0.0\nm2,s2,d2,r2,2017-11-08 20:17:59,car,industry,1500.0\n",
    SELLERS: '"seller_id","seller_zip_code_prefix","seller_city","seller_state"\ns1,"13023",campinas,SP\n',
}
RETAIL_FILE = "online_retail_lines.csv"
RETAIL = {
    RETAIL_FILE: "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,12583,France\n"
    "C536379,22633,HAND WARMER UNION JACK,-1,2010-12-02 09:41:00,1.85,12583,France\n"
    "536367,POST,POSTAGE,1,2010-12-01 08:34:00,18.0,,EIRE\n",
}
SF = {
    "Opportunity.csv": "Id,AccountId,CreatedDate,Amount,LeadSource,Region__c,BillingCountry,Segment__c,"
    "Product_Family__c,OwnerId,StageName,CloseDate,IsClosed,IsWon\n"
    "O1,A1,2025-01-02,1000,web,North,DE,smb,core,u1,Closed Won,2025-02-01,true,true\n"
    "O2,A2,2025-01-05,500,partner,South,FR,smb,core,u2,Qualification,2025-05-01,false,false\n",
    "OpportunityHistory.csv": "OpportunityId,StageName,CreatedDate\n"
    "O1,Prospecting,2025-01-02T09:00:00.000+0000\nO1,Closed Won,2025-02-01T10:00:00.000+0000\n"
    "O2,Prospecting,2025-01-05T09:00:00.000+0000\nO2,Qualification,2025-01-20T09:00:00.000+0000\n",
}
GOOD = {"maven_crm": MAVEN, "olist_funnel": OLIST, "online_retail": RETAIL, "crm_export": SF}
SOURCE = {"online_retail": RETAIL_FILE}  # the file given as source; else the folder

P, A = "sales_pipeline.csv", "accounts.csv"


def everywhere(old, new):
    """The same change in every file of the export (a name that links two files)."""
    return lambda files: files.update({k: v.replace(old, new) for k, v in files.items()})


# (adapter, id, change, text the error must contain)
CASES = [
    ("maven_crm", "missing-file", lambda f: f.pop("sales_teams.csv"), "lacks sales_teams.csv"),
    ("maven_crm", "renamed-column", replace(P, "deal_stage", "Deal Stage"),
     "sales_pipeline.csv, column deal_stage: column(s) the adapter reads are missing"),
    ("maven_crm", "renamed-column-hint", replace(P, "close_value", "close_val"), "rename 'close_val' -> 'close_value'"),
    ("maven_crm", "text-in-amount", replace(P, "2017-03-01,4514", '2017-03-01,"4,514 USD"'),
     "sales_pipeline.csv, column close_value: values that are not a number (1 rows); e.g. rows line 2"),
    ("maven_crm", "amount-1e300", replace(P, "2017-03-01,4514", "2017-03-01,1e300"), "close_value: values above"),
    ("maven_crm", "negative-amount", replace(P, "2017-03-01,4514", "2017-03-01,-4514"), "close_value: values below 0"),
    ("maven_crm", "close-in-2099", replace(P, "2017-03-01", "2099-03-01"), "close_date: dates after today"),
    ("maven_crm", "day-first-date", replace(P, "2016-10-20", "20/10/2016"), "engage_date: dates not written as YYYY-MM-DD"),
    ("maven_crm", "impossible-date", replace(P, "2016-10-20", "2016-13-45"), "engage_date: values that are not a date"),
    ("maven_crm", "unknown-account", replace(P, "GTX Pro,Acme,Won", "GTX Pro,Acne,Won"),
     "account: values not found in accounts.csv column account (Acne)"),
    ("maven_crm", "unknown-agent", replace(P, "D1,Ann Lee", "D1,Anne Lee"),
     "sales_agent: values not found in sales_teams.csv column sales_agent (Anne Lee)"),
    ("maven_crm", "unknown-product", replace(P, "D1,Ann Lee,GTX Pro", "D1,Ann Lee,GTX Ultra"), "product: values not found in products.csv"),
    ("maven_crm", "won-without-value", replace(P, "2017-03-01,4514", "2017-03-01,"), "won deals without a close value"),
    ("maven_crm", "won-without-close", replace(P, "2016-10-20,2017-03-01", "2016-10-20,"), "won or lost deals without a close date"),
    ("maven_crm", "unknown-stage", replace(P, "Acme,Engaging", "Acme,Negotiation"), "stages other than Prospecting, Engaging, Won, Lost (Negotiation)"),
    ("maven_crm", "close-before-engage", replace(P, "2016-10-20,2017-03-01", "2016-10-20,2015-03-01"), "close dates before the engage date"),
    ("maven_crm", "duplicate-deal", replace(P, "D2,Bob", "D1,Bob"), "opportunity_id: the same id more than once"),
    ("maven_crm", "empty-deal-id", replace(P, "D3,Ann", ",Ann"), "opportunity_id: empty values"),
    ("maven_crm", "text-employees", replace(A, "1996,1100.04,2822", "1996,1100.04,many"), "accounts.csv, column employees: values that are not a number"),
    ("maven_crm", "negative-price", replace("products.csv", "GTX,4821", "GTX,-4821"), "products.csv, column sales_price: values below 0"),
    ("maven_crm", "empty-accounts", setfile(A, ""), "is empty"),
    ("maven_crm", "header-only-pipeline", setfile(P, MAVEN[P].splitlines()[0] + "\n"), "sales_pipeline.csv: the file has no rows"),
    ("maven_crm", "formula-account", everywhere("Acme", "\"=cmd|' /C calc'!A0\""),
     "customers.customer_id: spreadsheet formula text (e.g. '=HYPERLINK(...)') (from accounts.csv column account)"),
    ("maven_crm", "ragged-row", replace(P, "D5,Bob Ray,GTX Pro,Betasoloin,Won,2016-11-02,2017-02-01,4700", "D5,Bob Ray,GTX Pro,Betasoloin,Won,2016-11-02,2017-02-01,4700,x,y"), "wrong number of fields"),
    ("olist_funnel", "missing-file", lambda f: f.pop(DEALS), f"lacks {DEALS}"),
    ("olist_funnel", "missing-column", replace(LEADS, "origin", "source"), f"{LEADS}, column origin: column(s) the adapter reads are missing"),
    ("olist_funnel", "text-first-contact", replace(LEADS, "m2,2017-10-20", "m2,last tuesday"), "first_contact_date: values that are not a date"),
    ("olist_funnel", "lead-in-2099", replace(LEADS, "m2,2017-10-20", "m2,2099-10-20"), "first_contact_date: dates after today"),
    ("olist_funnel", "won-in-2099", replace(DEALS, "2018-02-26 19:58:54", "2099-02-26 19:58:54"), "won_date: dates after today"),
    ("olist_funnel", "deal-without-lead", replace(DEALS, "m2,s2", "m9,s2"), f"values not found in {LEADS} column mql_id (m9)"),
    ("olist_funnel", "text-revenue", replace(DEALS, "industry,1500.0", "industry,lots"), "declared_monthly_revenue: values that are not a number"),
    ("olist_funnel", "revenue-1e300", replace(DEALS, "industry,1500.0", "industry,1e300"), "declared_monthly_revenue: values above"),
    ("olist_funnel", "duplicate-lead", replace(LEADS, "m3,2018", "m1,2018"), "mql_id: the same id more than once"),
    ("olist_funnel", "empty-won-date", replace(DEALS, "2018-02-26 19:58:54", ""), "won_date: empty values"),
    ("olist_funnel", "not-utf8", lambda f: f.__setitem__(LEADS, OLIST[LEADS].replace("social", "sociál").encode("cp1252")), "not valid utf-8"),
    ("online_retail", "missing-column", replace(RETAIL_FILE, "Quantity", "Qty"), f"{RETAIL_FILE}, column Quantity: column(s) the adapter reads are missing"),
    ("online_retail", "text-quantity", replace(RETAIL_FILE, "LANTERN,6,", "LANTERN,six,"), "column Quantity: values that are not a number (1 rows); e.g. rows line 3"),
    ("online_retail", "huge-price", replace(RETAIL_FILE, "08:26:00,2.55", "08:26:00,1e300"), "column UnitPrice: values above"),
    ("online_retail", "invoice-in-2099", replace(RETAIL_FILE, "2010-12-01 08:28:00", "2099-12-01 08:28:00"), "column InvoiceDate: dates after today"),
    ("online_retail", "empty-invoice", replace(RETAIL_FILE, "536366,22633", ",22633"), "column InvoiceNo: empty values"),
    ("online_retail", "text-customer", replace(RETAIL_FILE, "3.39,17850", "3.39,anna"), "column CustomerID: values that are not a number"),
    ("online_retail", "empty-country", replace(RETAIL_FILE, "12583,France\n5", "12583,\n5"), "column Country: empty values"),
    ("online_retail", "fractional-quantity", replace(RETAIL_FILE, "LANTERN,6,", "LANTERN,6.5,"), "order_lines.quantity: values with a fraction where a whole number is expected (from online_retail_lines.csv column Quantity) (1 rows)"),
    ("crm_export", "unmapped-column", replace("Opportunity.csv", "StageName", "Stage"), "no column(s) StageName named in the mapping"),
    ("crm_export", "text-amount", replace("Opportunity.csv", "2025-01-02,1000", "2025-01-02,lots"), "opportunities.amount: values that are not a valid float (from Opportunity.csv column Amount) (1 rows); e.g. rows O1"),
    ("crm_export", "created-in-2099", replace("Opportunity.csv", "O2,A2,2025-01-05", "O2,A2,2099-01-05"), "opportunities.created_date: dates after today"),
    ("crm_export", "mixed-time-zones", replace("OpportunityHistory.csv", "2025-01-20T09:00:00.000+0000", "2025-01-20T09:00:00.000+0200"), "stage_events.entered_at: timestamps in more than one time zone"),
    ("crm_export", "yaml-tag-mapping", lambda f: f.__setitem__("mapping.yaml", "files: !!python/object/apply:os.system ['true']\n"), "uses a YAML tag (line 1), which omnimodel never reads"),
]  # fmt: skip


def _files(adapter: str) -> dict:
    return {name: text for name, text in GOOD[adapter].items()}


def _run(tmp_path, adapter, files, capsys):
    """validate and ingest of one export: (exit codes, texts, source hashes before, after, out folder)."""
    src = tmp_path / "src"
    before = _write(src, files)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    given = src / SOURCE.get(adapter, "")
    results = []
    for command in (
        ["validate", str(given), "--adapter", adapter],
        ["ingest", str(given), "--adapter", adapter, "--workspace", str(out_dir / "w.duckdb")],
    ):
        code = main(command)
        captured = capsys.readouterr()
        results.append((code, captured.out + captured.err))
    return results, before, src, out_dir


@pytest.mark.parametrize("adapter", sorted(GOOD))
def test_the_good_exports_load(tmp_path, capsys, adapter):
    results, *_ = _run(tmp_path, adapter, _files(adapter), capsys)
    assert [code for code, _ in results] == [0, 0], results


@pytest.mark.parametrize("adapter,case,change,expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_malformed_export_gives_a_clear_error_and_writes_nothing(
    tmp_path, capsys, adapter, case, change, expected
):
    import hashlib

    files = _files(adapter)
    change(files)
    results, before, src, out_dir = _run(tmp_path, adapter, files, capsys)
    for (code, text), command in zip(results, ("validate", "ingest"), strict=True):
        assert code in (1, 2), f"{case}: {command} exited {code}: {text}"
        assert expected in text, f"{case}: {expected!r} not in {text!r}"
        assert "Traceback" not in text and "Fix:" in text
    assert list(out_dir.iterdir()) == [], "no workspace, temporary or side file may be left behind"
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    assert after == before, "source files must never be modified"


# Odd but valid: each loads, and its text arrives as given.
CONTROLS = [
    ("maven_crm", "unicode-rtl-emoji-names", everywhere("Acme", "شركة 🚀 Ünïcødé"),
     lambda ws: "شركة 🚀 Ünïcødé" in set(ws.table("customers").to_pandas()["customer_id"])),
    ("maven_crm", "very-long-account", everywhere("Acme", "A" * 5000),
     lambda ws: "A" * 5000 in set(ws.table("customers").to_pandas()["customer_id"])),
    ("maven_crm", "extra-columns", lambda f: f.__setitem__(P, f[P].replace("close_value\n", "close_value,notes\n")
                                                          .replace("\n", ",x\n").replace("close_value,notes,x\n", "close_value,notes\n")),
     lambda ws: ws.table("opportunities").count().execute() == 5),
    ("olist_funnel", "unicode-origin", replace(LEADS, "m4,2017-01-05,lp3,organic_search", "m4,2017-01-05,lp3,Suchmaschine 🔍"),
     lambda ws: "Suchmaschine 🔍" in set(ws.table("opportunities").to_pandas()["source_channel"])),
    ("online_retail", "formula-description", replace(RETAIL_FILE, "WHITE METAL LANTERN", "=WHITE METAL LANTERN"),
     lambda ws: "=WHITE METAL LANTERN" in set(ws.table("products").to_pandas()["name"])),
    ("online_retail", "rtl-description", replace(RETAIL_FILE, "HAND WARMER UNION JACK,6", "מחמם ידיים,6"),
     lambda ws: "מחמם ידיים" in set(ws.table("products").to_pandas()["name"])),
]  # fmt: skip


@pytest.mark.parametrize("adapter,case,change,holds", CONTROLS, ids=[f"{c[0]}:{c[1]}" for c in CONTROLS])
def test_odd_but_valid_exports_load_as_given(tmp_path, capsys, adapter, case, change, holds):
    from omnimodel import Workspace

    files = _files(adapter)
    change(files)
    results, *_ = _run(tmp_path, adapter, files, capsys)
    assert [code for code, _ in results] == [0, 0], results
    with Workspace(tmp_path / "out" / "w.duckdb") as ws:
        assert holds(ws)


def test_the_online_retail_parquet_is_checked_in_its_own_types(tmp_path, capsys):
    frame = pd.read_csv(io.StringIO(RETAIL[RETAIL_FILE]), dtype={"InvoiceNo": str, "StockCode": str})
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame.loc[2, "InvoiceDate"] = pd.Timestamp("2099-01-01")
    (tmp_path / "src").mkdir()
    frame.to_parquet(tmp_path / "src" / "online_retail_lines.parquet")
    assert main(["validate", str(tmp_path / "src"), "--adapter", "online_retail"]) == 1
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert "online_retail_lines.parquet, column InvoiceDate: dates after today" in err and "row 3" in err
