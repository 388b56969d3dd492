"""`cme-broker`: the broker's commands plus those of the adapters shipped with it.

The broker cannot import adapters (dependencies point inward), so the command line is composed
here, at the outermost layer.
"""

from adapters.demo.cli import demo
from adapters.health.cli import health_app
from adapters.housing.cli import housing_app
from adapters.la.cli import cases_app, desk_app, report_app
from adapters.other_la.cli import peer_app
from adapters.school.cli import school_app
from adapters.social_care.cli import social_care_app
from broker.cli.main import app
from broker.responder.cli import enquiries_app

app.add_typer(cases_app, name="cases")
app.add_typer(desk_app, name="desk")
app.add_typer(report_app, name="report")
app.add_typer(peer_app, name="peer")
app.add_typer(school_app, name="school")
app.command("demo")(demo)
app.add_typer(enquiries_app, name="enquiries")
app.add_typer(health_app, name="health")
app.add_typer(housing_app, name="housing")
app.add_typer(social_care_app, name="social-care")

__all__ = ["app"]
