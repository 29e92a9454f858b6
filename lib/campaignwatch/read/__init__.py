"""Reading workbooks: pre-flight checks of the file (`package.inspect`, with the format checks in
`zipparts`, `ooxml`, `sheet_scan`, `xlsb_ods`, `ole` and `tidy_copy`), calamine grids
(`workbook.read_workbook`) and recognising the contract's tabs and columns (`recognise`).

May import: the standard library, defusedxml, python-calamine, and from campaignwatch only
`names`, `contract`, `headers` and `findings` (recognise). Nothing here writes or imports the
pipeline, rules or backends; the source error codes live in `package.py` until issue 11 moves
them to `errors.py`.
"""
