"""Billing periods are written once, in ``tienda.contracts.pricing.periods`` (the store's quote
uses the same rules); this name stays for ``service_layer/renewal.py``, which is being reworked
on another branch. New code imports from ``tienda.contracts.pricing.periods``."""

from tienda.contracts.pricing.periods import Cycle, Period, nth_period, period_containing

__all__ = ["Cycle", "Period", "nth_period", "period_containing"]
