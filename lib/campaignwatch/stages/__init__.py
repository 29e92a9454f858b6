"""Pure pipeline stages, records in, values out, no I/O: normalise (raw grids → typed records and
findings), validate (the `CHECKS` list), compute (budget, KPI and execution figures) and
responses (managers' answers to flags). See docs.md for what this folder may import."""
