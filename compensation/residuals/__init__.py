"""Residuals in the product (RULES.md §3 Residuals): loaded residual schedules, exhibitions and
writing credits, residual runs (a `CompensationRun` of kind `residuals`, computed by the same
task and approved into the journal as pay runs are), statements; their API under
`/api/v1/residuals/` and their admin. The rules themselves are pure, in
`compensation/rules/residuals/`."""
