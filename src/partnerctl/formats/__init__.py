"""Formats: JSON, CSV and TSV output, import and export, SQLite, the site and the calendar."""
