"""Intake: read what units send (forms and exports), validate it, and keep every file with its provenance."""
