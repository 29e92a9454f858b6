"""Writers of generated tabs into .xlsx/.xlsm files, by zip surgery (never a spreadsheet library).

`xlsx.py` is the public entry point (`write_tabs`, `write_sidecar`, `clean_sidecar`, `write_new`,
`restore`, `list_backups`); its docstring says how a write works and which module holds which
step. `safety.py` holds the file safety (locks, temp files, backups) and `atomic.py` the one
atomic-replace sequence; `parts.py` parses and re-serialises the parts we edit.

May import: the standard library, defusedxml, and from campaignwatch only `names`, `tabspec` and
the source error codes (`read.package`). Nothing here imports the pipeline, rules or backends.
"""
from .safety import find_lock
from .xlsx import (
    WriteResult, list_backups, restore, sidecar_path, write_sidecar, write_tabs,
)

__all__ = ["WriteResult", "write_tabs", "restore", "list_backups", "sidecar_path", "write_sidecar",
           "find_lock"]
