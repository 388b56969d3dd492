"""`cme-broker`: the broker's commands plus those of the adapters shipped with it.

The broker cannot import adapters (dependencies point inward), so the command line is composed
here, at the outermost layer.
"""

from adapters.la.cli import cases_app, desk_app, report_app
from adapters.other_la.cli import peer_app
from broker.cli.main import app

app.add_typer(cases_app, name="cases")
app.add_typer(desk_app, name="desk")
app.add_typer(report_app, name="report")
app.add_typer(peer_app, name="peer")

__all__ = ["app"]
