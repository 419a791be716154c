"""The money and proration rules, written once and pure (no I/O): billing prices orders and
invoices with them, the store prices its quotes with them, so a quote and the order it
announces cannot disagree.

- ``money``: UF and pesos, the one rounding (half up, once per amount), IVA and totals;
- ``periods``: billing periods from the plan's anchor and cycle (31st anchors, February, leap days);
- ``proration``: the remaining days of a period, and a line's exact amount in UF.
"""
