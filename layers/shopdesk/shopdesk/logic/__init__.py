"""Use cases: ingest, assign, inbox (agent actions), dispatch, sla. Pure where possible; I/O through dal."""
