"""Customer lifetime value in profit: the model (MBG/NBD, Gamma-Gamma, Beta-Binomial returns), its likelihoods
and fits, the per-customer inputs computed in the engine, predictive ranges, one fit shared by the reports, and
the tables the reports show."""

from omnimodel.lazy import exports

_PUBLIC = {
    "CLVModel": "model",
    "HoldoutCheck": "model",
    "PARAMETERS": "model",
    "RETURN_PARAMETERS": "model",
    "default_sampler_config": "model",
    "default_model_config": "likelihood",
    "mbgnbd_loglik": "likelihood",
    "gamma_gamma_loglik": "likelihood",
    "beta_binomial_loglik": "likelihood",
    "priors": "likelihood",
    "purchase_summary": "inputs",
    "YEAR": "inputs",
    "shared_clv": "shared",
    "SharedCLV": "shared",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
