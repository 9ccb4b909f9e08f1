"""The compensation rules of RULES.md §3 as data plus small pure functions. No Django imports:
parameter files keyed by effective date (`parameters/`, read by `params.py`), formulas per guild
that return explained lines, and `quote.py`, which puts them together."""
