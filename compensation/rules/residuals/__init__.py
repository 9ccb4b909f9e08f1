"""Residuals (RULES.md §3, first capability): what is owed when a work is exhibited again, as
pure functions of a residual schedule and the exhibitions. No Django imports.

`input.parse(body)` reads a what-if body into a `ResidualInput` (the schedule travels with it);
`engine.compute(given)` returns explained lines (rule, factors with tier and source, payee, due
date) and `rate_missing` exceptions naming the schedule key and date. `schedule.py` holds the
loaded-schedule shape and its lookups, `due.py` the due dates (`residual.due`)."""
