"""Benchmarks of the f1_kedro pipelines (issue 8); run with `make bench`."""
