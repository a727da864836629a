"""Development-only helpers of the PAR Index orchestrator: the sample inbox, the SMTP sink, the form writer and
the legacy-font encoders. Used by tools/ (demo, rehearsal), benchmarks/ and tests/; never shipped in the wheel or
the production image (the runtime lives in include/par_index/)."""
