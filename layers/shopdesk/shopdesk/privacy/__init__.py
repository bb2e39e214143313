"""Privacy: masking before storage (``masking``), the settings admins change (``settings``: retention and
masking patterns), the audit trail (``audit``), and the data subject's export and erase (``export``,
``erase``, run as jobs by ``jobs``)."""
