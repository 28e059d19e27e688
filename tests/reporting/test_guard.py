"""The guard on every report: what a reader must never see is found, removed and said; what is fine is left."""

from omnimodel.reporting.guard import clean_page, findings

PAGE = """<html><head><style>td{content:"None"}</style>
<script>var where = "/work/main/x.py"; var d = {'a': 1};</script></head><body>
<p>Data: /home/ana/exports/orders.csv, 1.5e+07 units. None of the deals slipped.</p>
<table><tr><th>None</th><td>nan</td><td>3</td></tr></table>
<pre>/usr/lib/python3/site-packages/arviz/__init__.py:39: FutureWarning: ArviZ is undergoing a refactor</pre>
<pre>/srv/app/omnimodel/targets/plan.py:147: RuntimeWarning: invalid value encountered in scalar divide
  company = weighted.sum() / weight.sum()
Plan computed.</pre>
<p>Left out: {'market_size': "no indicators"}; the live panel (make whatif).</p>
<h2 id="Appendix">Appendix</h2><p>Method: statsmodels ETS and the MBG/NBD model.</p>
</body></html>"""


def test_every_kind_of_text_a_reader_must_not_see_is_found():
    found = {(f.what, f.text) for f in findings(PAGE)}
    assert ("a path on this machine", "/home/ana/exports/orders.csv") in found
    assert ("a number in e-notation", "1.5e+07") in found
    assert ("an empty value written as None or nan", "None") in found
    assert ("an empty value written as None or nan", "nan") in found
    # a warning goes whole: where it was raised, its message and the source line printed under it
    arviz = (
        "/usr/lib/python3/site-packages/arviz/__init__.py:39: FutureWarning: ArviZ is undergoing a refactor"
    )
    assert ("a warning or traceback", arviz) in found
    divide = "RuntimeWarning: invalid value encountered in scalar divide\n  company = weighted.sum() / weight.sum()"
    assert ("a warning or traceback", "/srv/app/omnimodel/targets/plan.py:147: " + divide) in found
    assert ("a Python repr", "{'market_size': ") in found
    assert ("developer words", "make whatif") in found
    texts = {f.text for f in findings(PAGE)}
    assert not {t for t in texts if "statsmodels" in t or "MBG" in t}  # the appendix may name methods
    assert not {t for t in texts if "work/main" in t or "'a'" in t}  # scripts and styles are no text
    assert "None of the deals" not in "".join(texts)  # the word in a sentence is fine


def test_the_page_is_cleaned_and_what_was_removed_is_said():
    page, removed = clean_page(PAGE)
    assert len(removed) == len(findings(PAGE)) > 0
    assert findings(page) == []
    assert "Data: orders.csv, 15,000,000 units." in page  # a path becomes its file name, a number plain
    assert "<th>–</th><td>–</td><td>3</td>" in page  # empty cells get the tables' dash
    assert "None of the deals slipped" in page and "statsmodels ETS" in page
    assert "<pre>\nPlan computed.</pre>" in page and "weight.sum()" not in page
    assert '"/work/main/x.py"' in page  # scripts are left as they are


def test_a_clean_page_is_left_as_it_is():
    page = (
        "<html><body><p>Bookings 2026Q1: P50 2.12 M EUR</p><table><tr><td>–</td></tr></table></body></html>"
    )
    assert clean_page(page) == (page, [])
