"""The consolidated self-assessment report for the PPC."""
