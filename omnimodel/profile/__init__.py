"""Checklist 1, the customer profile: features and views, channels (mix, transitions, hopping), baskets,
lifetime value."""

from omnimodel.lazy import exports

_PUBLIC = {
    "CustomerProfile": "features",
    "customer_profile": "features",
    "channel_mix": "channels",
    "channel_transition_matrix": "channels",
    "hopping_affinity": "channels",
    "transition_counts": "channels",
    "association_rules": "baskets",
    "cross_sell_recommendations": "baskets",
    "CLVModel": "clv",
    "purchase_summary": "clv",
    "shared_clv": "clv",
    "customer_card": "card",
    "CustomerCard": "card",
    "HoldoutCheck": "clv",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
