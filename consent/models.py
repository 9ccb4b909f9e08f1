"""Consents, revocations, evidence, union notices and the AI-use register (RULES.md §2, §4)."""
