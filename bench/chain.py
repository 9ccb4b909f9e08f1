"""The compliance report's chain step against history size, on a database of its own: the
`chain_step` scenario of bench/reports.py (its docstring and its last section say what is built
and measured). `make bench` runs it as this script; by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.chain`."""

from bench.reports import chain_step_main

if __name__ == "__main__":
    chain_step_main()
