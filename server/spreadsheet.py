"""Cells of user text made safe for spreadsheets (OWASP's CSV injection advice).

Excel and WPS run a cell that starts with = + - @ as a formula, and a tab or carriage
return in front hides such a start; a household's name or a visit note typed as
"=HYPERLINK(...)" would otherwise become a live link or command in the office's copy.
Every writer of CSV or XLSX passes its cells through `safe_cell`.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that could start a formula gets a leading apostrophe, which spreadsheets read
    as "this is text"; numbers, dates and everything else pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
