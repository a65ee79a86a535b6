"""Reports: SQL aggregates → statistics → plain dicts that the PDF templates render."""
