"""The customer review: one object behind notebooks 01 (customer profile) and 02 (segments, regions and
countries).

profile -> customer card -> lifetime value (one fit shared by both reports) -> channels and baskets -> segments
(RFM, behaviour clusters, the segment x region x channel x category matrix) -> value per customer -> countries ->
how to address each segment -> assortment. Each step is computed once, when first asked for; what the notebooks
show under each heading is in :mod:`omnimodel.app.profile_sections` and :mod:`omnimodel.app.segment_sections`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from omnimodel.data.workspace import Workspace

if TYPE_CHECKING:
    from omnimodel.profile.clv.model import HoldoutCheck
    from omnimodel.profile.clv.shared import SharedCLV
    from omnimodel.profile.features import CustomerProfile
    from omnimodel.reporting.summary import Summary


class CustomerReview:
    """Who the customers are, what they are worth and where to grow, each step computed once.

    Parameters
    ----------
    workspace : Workspace, str or dict
        The workspace (a DuckDB file, an engine URL or a ``workspace:`` block).
    period_start, period_end : str, optional
        The order dates the revenue views cover (None: see :meth:`revenue_window` and :attr:`matrix`).
    segment, region : str, optional
        One customer segment or sales region for the views that show one (checked against the data).
    customer_id : str, optional
        The customer on the customer card (None: the one whose records touch the most tables).
    goals : str, optional
        Strategy goals with the cost to serve per channel (None or no file: defaults by channel kind).
    clv_calibration_end, clv_holdout_end, clv_draws, clv_fit_customers, clv_method :
        The lifetime-value fit: fitted up to the calibration end, checked to the holdout end (None: the last year
        is held out), draws per chain, customers sampled to fit, and "auto", "laplace" or "nuts".
    indicators : str, optional
        A folder of market indicators (World Bank, Gapminder, Our World in Data) for the country ranking.
    seed : int
        Same seed, same numbers.

    Examples
    --------
    >>> review = CustomerReview("data/demo.duckdb")  # doctest: +SKIP
    >>> review.values.head()  # doctest: +SKIP
    """

    def __init__(
        self,
        workspace: Workspace | str | dict,
        *,
        period_start: str | None = None,
        period_end: str | None = None,
        segment: str | None = None,
        region: str | None = None,
        customer_id: str | None = None,
        goals: str | None = "goals.yaml",
        clv_calibration_end: str | None = None,
        clv_holdout_end: str | None = None,
        clv_draws: int = 500,
        clv_fit_customers: int = 4000,
        clv_method: str = "auto",
        indicators: str | None = None,
        seed: int = 42,
    ):
        from omnimodel.notice import ReportStopped

        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        ws = self.workspace
        if not ws.has("customers"):  # a CRM's leads alone (Olist): nobody to profile
            raise ReportStopped(
                "No customers in this workspace: profiles, segments, regions and lifetime value are about "
                "customers",
                fix="ingest the shop's customers or the CRM's accounts",
            )
        ws.require_value("segment", segment, "customers.segment")  # a filter that matches nothing stops here
        ws.require_value("region", region, "customers.region")
        self.period_start, self.period_end = period_start, period_end
        self.segment, self.region, self.customer_id = segment, region, customer_id
        self.goals, self.indicators, self.seed = goals, indicators, seed
        self.clv_given = (clv_calibration_end, clv_holdout_end)
        self.clv_draws, self.clv_fit_customers, self.clv_method = clv_draws, clv_fit_customers, clv_method

    @property
    def currency(self) -> str | None:
        """The workspace's currency."""
        return self.workspace.currency()

    @property
    def has_orders(self) -> bool:
        """Whether the workspace has orders and their lines (a CRM export of accounts and deals has not)."""
        return self.workspace.has("orders") and self.workspace.has("order_lines")

    @cached_property
    def revenue_window(self) -> tuple[str | None, str | None]:
        """The revenue chart's dates: the ones given, else the latest complete year of orders."""
        from omnimodel.data import periods

        if not self.workspace.has("orders"):
            return self.period_start, self.period_end
        return periods.window(self.workspace, self.period_start, self.period_end)

    @cached_property
    def profile(self) -> CustomerProfile:
        """One profile per customer, built in the engine from every table the workspace has."""
        from omnimodel.profile.features import customer_profile

        return customer_profile(self.workspace)

    # --- lifetime value ---------------------------------------------------------------------------------------

    @cached_property
    def holdout(self) -> tuple[str, str]:
        """The lifetime-value fit's calibration end and holdout end: the ones given, else the last year held out."""
        from omnimodel.data import periods

        return periods.holdout(self.workspace, *self.clv_given)

    @cached_property
    def clv(self) -> SharedCLV | None:
        """The lifetime-value model, fitted once for both reports; None without orders."""
        from omnimodel.profile.clv.shared import shared_clv
        from omnimodel.targets.goals import channel_cost

        if not self.has_orders:
            return None
        return shared_clv(
            self.workspace,
            *self.holdout,
            draws=self.clv_draws,
            fit_customers=self.clv_fit_customers,
            seed=self.seed,
            channel_cost=channel_cost(self.goals),
            method=self.clv_method,
        )

    @cached_property
    def values(self) -> pd.DataFrame | None:
        """Today's customers' value (profit) over the next 12 months, with ranges; None without orders."""
        if self.clv is None:
            return None
        return self.clv.model.customer_value(self.clv.current, years=1.0, n_draws=200, seed=self.seed)

    @property
    def has_costs(self) -> bool:
        """Whether the data has costs of goods: customer value is profit then, else net revenue (said so)."""
        return self.clv is not None and bool(self.clv.current["cost_rate"].notna().any())

    @cached_property
    def holdout_check(self) -> HoldoutCheck:
        """The lifetime-value model's predictions against the holdout's purchases."""
        assert self.clv is not None, "the holdout check needs orders"
        return self.clv.model.check_holdout(self.clv.summary)

    # --- channels, baskets, segments --------------------------------------------------------------------------

    @cached_property
    def segment_rules(self) -> pd.DataFrame:
        """Association rules per segment (what sells together)."""
        from omnimodel.profile import baskets

        return baskets.association_rules(self.workspace, by="segment")

    @cached_property
    def rules(self) -> pd.DataFrame:
        """Association rules over every basket."""
        from omnimodel.profile import baskets

        return baskets.association_rules(self.workspace)

    @cached_property
    def matrix(self) -> pd.DataFrame:
        """Revenue by segment x region x channel x category between the dates given (None: all of them)."""
        from omnimodel.strategy import segments

        return segments.segment_matrix(self.workspace, self.period_start, self.period_end)

    @cached_property
    def performance(self) -> pd.DataFrame:
        """Each country's own performance (revenue, growth, margin, reach, value per customer)."""
        from omnimodel.strategy import countries

        return countries.country_performance(
            self.workspace, self.period_start, self.period_end, clv=self.values
        )

    @cached_property
    def market(self) -> pd.DataFrame | None:
        """The market indicators per country; None without a folder of them."""
        from omnimodel.data.indicators import load_indicators

        return load_indicators(self.indicators) if self.indicators else None

    @cached_property
    def ranking(self) -> pd.DataFrame:
        """The countries' attractiveness, with intervals of score and rank."""
        from omnimodel.strategy import countries

        return countries.attractiveness(self.performance, self.market, seed=self.seed)

    @cached_property
    def candidates(self) -> pd.DataFrame:
        """New countries on continents the company already sells in, ranked by market alone."""
        from omnimodel.strategy import countries

        return countries.new_country_candidates(self.performance, self.market, seed=self.seed)

    @cached_property
    def addressing(self) -> pd.DataFrame:
        """How to address each segment: channels, products and offers, from the matrix, baskets and value."""
        from omnimodel.strategy import segments

        return segments.how_to_address(self.matrix, self.segment_rules, self.values)

    # --- what it says --------------------------------------------------------------------------------------

    def profile_summary(self) -> Summary:
        """Report 01's answer first: headline cards, findings and next actions."""
        from omnimodel.reporting.customer_headlines import profile_summary

        rules = (
            self.segment_rules
            if self.segment is None
            else self.segment_rules[self.segment_rules["segment"] == self.segment]
        )
        start, end = self.revenue_window
        assert start is not None and end is not None, "report 01 stops before its summary without orders"
        return profile_summary(
            self.workspace, self.profile.frame, self.rules, rules, start, end, self.currency
        )

    def segments_summary(self) -> Summary:
        """Report 02's answer first: headline cards, findings and next actions."""
        from omnimodel.reporting.customer_headlines import segments_summary

        assert self.clv is not None and self.values is not None, "report 02 needs orders"
        total = self.clv.model.total_value(self.clv.current, years=1.0, n_draws=200, seed=self.seed)
        return segments_summary(
            self.addressing,
            self.values,
            total,
            self.holdout_check.relative_error,
            self.ranking,
            self.candidates,
            self.currency,
            self.clv.model.diagnostics_,
            has_costs=self.has_costs,
        )
