"""The weekly supervision report (周例会): one self-contained HTML page drawn only from the
history file.

`build_weekly(history, as_of, lang)` covers the ISO week that contains `as_of`, from its
Monday up to `as_of` (pass the week's last day — Sunday, or the Friday of the meeting — to
cover the whole week). Sections:

1. what changed this week: flags opened and resolved during the week, per source, with
   counts and the lists (and the runs recorded, failed runs included);
2. open high-severity flags at `as_of`, with owners and age in days;
3. budget burn per campaign: spend against authorized budget from the latest metrics up
   to `as_of` (horizontal bars, red when over budget);
4. KPI attainment per campaign (the KPI score of the same metrics);
5. week over week: spend, KPI score and open flags from the latest run of each week, and
   flags opened / resolved this week against the previous one.

Everything is inline (CSS, SVG); no script, no external request. Every text is escaped.
Prints on A4 (`@media print`): a page per section, table headers repeated, rows never split.

Layout: `data.py` reads the history file, `page.py` renders the HTML, `charts.py` draws the
SVG charts, `text.py` holds the texts in both languages and the number formatting, and
`report.py` ties them together (`build_weekly`, `write_weekly`). May import: the standard
library and, of campaignwatch, `clock`, `history` (its schema version and error) and `values`.
"""
from .report import build_weekly, write_weekly

__all__ = ["build_weekly", "write_weekly"]
