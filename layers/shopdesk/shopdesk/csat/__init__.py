"""Customer satisfaction: the survey after a resolve and its answer (``parse``: a reply as a score 1 to 5)."""
