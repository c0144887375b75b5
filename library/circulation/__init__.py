"""Circulation: loan rules, the exactly-once service, and UI-agnostic self-service flows."""
