"""Writers of generated tabs: in place into .xlsx/.xlsm (xlsx.py), file safety (safety.py)."""
from .safety import find_lock
from .xlsx import (
    WriteResult, list_backups, restore, sidecar_path, write_sidecar, write_tabs,
)

__all__ = ["WriteResult", "write_tabs", "restore", "list_backups", "sidecar_path", "write_sidecar",
           "find_lock"]
