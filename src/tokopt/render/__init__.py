"""Renderers: `table` (rich, for people) and `machine` (json, csv, markdown; stdlib only)."""
