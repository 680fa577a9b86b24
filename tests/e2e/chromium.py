"""How Debian's Chromium is launched headless, for the browser tests and the screenshot
scripts under bench/ alike (Playwright's own browser download is not used)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
