"""Developer commands behind the Makefile: evaluation, benchmarks, tuning."""
