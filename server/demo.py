"""The demo town (filled in by the demo-data work)."""

from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")
