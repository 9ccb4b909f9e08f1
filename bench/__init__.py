"""Benchmarks against PostgreSQL: `make bench` runs every script here into bench/results.json."""
