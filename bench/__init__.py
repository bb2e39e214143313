"""shopdesk benchmarks: ``python -m bench`` from the repo root (see bench/README.md)."""
