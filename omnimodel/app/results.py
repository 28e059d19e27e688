"""Results that explain themselves one way, as statsmodels' results do.

An application object (:mod:`omnimodel.app`) returns its answers as :class:`Result`: ``to_dict()`` is plain data
(the CLI's ``--json``), ``as_text()`` the CLI's text and ``_repr_html_`` what a notebook and a report show. The
notebook output also carries the plain data (:data:`MIME`), so a test, the index or a script can read the same
figures from a report as from the CLI.
"""

from __future__ import annotations

import html
import json
from typing import Any

#: a result's plain data in a notebook's output, beside its HTML
MIME = "application/vnd.omnimodel.result+json"


class Result:
    """Base of the application's results: subclasses give :meth:`to_dict` and :meth:`as_text`."""

    #: how values JSON cannot write are written (``str`` for dates, ``float`` for numpy numbers)
    json_default: Any = str

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (what ``--json`` prints)."""
        raise NotImplementedError

    def as_text(self) -> str:
        """The result as lines of text (what the CLI prints)."""
        raise NotImplementedError

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, default=type(self).json_default)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.as_text())}</pre>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": self._repr_html_(),
            "text/plain": self.as_text(),
            MIME: json.loads(self.to_json()),
        }


def records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame as plain records, missing values as None (valid JSON: no NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def known(x: Any) -> bool:
    """A number, not None or NaN (a level without a target has no chance to reach it)."""
    return x is not None and x == x
