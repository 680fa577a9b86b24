"""Cells written into spreadsheets that others open: text a user typed must stay text."""

# Excel, WPS and LibreOffice read a cell starting with one of these as a formula (or a DDE
# command). A quote mark before it makes them show the text and evaluate nothing.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a cell: text that a spreadsheet would run as a formula is neutralised."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
