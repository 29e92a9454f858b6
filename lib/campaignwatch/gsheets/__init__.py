"""Google Sheets sources: `gsheet:ID` or `https://docs.google.com/spreadsheets/d/ID/...`.

- `read.read_spreadsheet(source, cfg)` → the same `RawWorkbook` the xlsx reader produces
  (two Sheets API requests: metadata, then one `values:batchGet` of every person's tab);
- `write.write_tabs(source, tabs, cfg)` → our generated tabs in one atomic `batchUpdate`;
- `init.init_spreadsheet(source, cfg, lang)` → the contract's tabs laid into an existing sheet.

`client.py` is the only module that talks to the network (gspread over google-auth, with
timeouts, bounded retries and a per-minute request budget). Nothing here is imported when
campaignwatch starts: gspread and google-auth load only when a Google source is used.
"""
