"""Helpers shared by the tests, imported as ``from support.<module> import ...`` (pyproject puts tests/ on the path)."""
