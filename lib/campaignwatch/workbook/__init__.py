"""Building new workbooks: templates and the demo."""
