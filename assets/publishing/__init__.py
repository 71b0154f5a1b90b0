"""Publishing assets: the dashboard, the analysts' database, the coordinators' reports."""
