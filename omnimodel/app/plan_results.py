"""What the channel plan answers on the command line (``omnimodel targets backtest``), explaining itself one way
(:class:`~omnimodel.app.results.Result`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omnimodel.app.results import Result

if TYPE_CHECKING:
    from omnimodel.forecasting.baseline import BaselineBacktest


def backtest_sentences(backtest: BaselineBacktest) -> list[str]:
    """The backtest's overall figures in words, and the fits that stopped at the optimiser's limit."""
    o = backtest.overall
    out = [
        f"Mean MASE: chosen models {o['mase_model']:.3f}, seasonal naive {o['mase_seasonal_naive']:.3f}; "
        f"{o['series_beating_seasonal_naive']} of {o['series']} series beat seasonal naive. Lower is better."
    ]
    if o["fits_not_converged"]:
        out.append(
            f"Note: {o['fits_not_converged']:,} of the {o['fits']:,} fits stopped at the optimiser's limit of "
            "1,000 iterations before its tolerance (column fits_not_converged); they are scored like the rest."
        )
    if o["fits_failed"]:
        out.append("Note: " + failed_sentence(o["fits_failed"], "fits_failed"))
    return out


def failed_sentence(failed: int, column: str) -> str:
    """The fits that could not be made, in words; ``column`` names the table's column that counts them."""
    return (
        f"{failed:,} fits could not be made (the model cannot describe the series at that origin; column "
        f"{column}): those models did not compete there."
    )


@dataclass
class BaselineBacktestReport(Result):
    """MASE of each series' chosen baseline model and of seasonal naive on the same origins."""

    source: str
    periods: tuple[str, str]
    season_length: int
    horizon: int
    origins: dict[str, int]
    choose_by: str
    backtest: BaselineBacktest
    json_default = float

    def to_dict(self) -> dict[str, Any]:
        """The series, origins and horizon, the overall figures and each series' scores."""
        return {
            "source": self.source,
            "periods": list(self.periods),
            "season_length": self.season_length,
            "horizon": self.horizon,
            "origins": self.origins,
            "choose_by": self.choose_by,
            "overall": self.backtest.overall,
            "series": self.backtest.summary.to_dict(orient="records"),
        }

    def as_text(self) -> str:
        """What was backtested how, each series' scores, and the overall figures."""
        first, last = self.periods
        return "\n".join(
            [
                f"Baseline backtest of {self.source} ({first} to {last}, horizon {self.horizon}): model chosen per "
                f"{self.choose_by} on the first {self.origins['choose']} origins, scored with seasonal naive on "
                f"the same origins of the last {self.origins['score']} (scored_origins).",
                self.backtest.summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                *backtest_sentences(self.backtest),
            ]
        )
