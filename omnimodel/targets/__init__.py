"""Checklist 3, targets: unit economics, plans and scenarios (targets, P(hit), bridges) and the split of each
channel's target over categories and segments."""

from omnimodel.lazy import exports

_PUBLIC = {
    "PlanInputs": "scenario",
    "Scenario": "scenario",
    "Outcome": "scenario",
    "evaluate": "scenario",
    "bridge": "scenario",
    "revenue_targets": "scenario",
    "profit_rates": "scenario",
    "build_plan_inputs": "plan",
    "plan_targets": "plan",
    "shared_plan": "shared",
    "SharedPlan": "shared",
    "check_goals": "plan",
    "TargetSplit": "split",
    "split_targets": "split",
    "cell_economics": "economics",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
