"""Contract: every `page.<name>` a template uses exists on that page's context dataclass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from afteraction.web.routes import pages_account as account
from afteraction.web.routes import pages_directory as directory
from afteraction.web.routes import pages_directory_edit as directory_edit
from afteraction.web.routes import pages_imports as imports
from afteraction.web.routes import pages_incident as incident
from afteraction.web.routes import pages_incidents as incidents
from afteraction.web.routes import pages_insights as insights
from afteraction.web.routes import pages_reports as reports
from afteraction.web.routes import pages_reviews as reviews
from afteraction.web.routes import pages_workspace as workspace

TEMPLATES = Path(incidents.__file__).resolve().parents[1] / "templates"
USES = re.compile(r"\bpage\.(\w+)")
INCLUDE = re.compile(r'{%\s*include\s+"([^"]+)"')
# Pages rendered with a few named variables (or a plain dict as `page`) rather than a context
# dataclass; their route tests check what they show.
PLAIN_CONTEXTS = {
    "import_job.html",
    "learning.html",
    "notifications.html",
    "report_versions.html",
    "reviews_overdue.html",
    "workspace_interviews.html",
}
CONTEXTS = {
    "incidents.html": incidents.IncidentListPage,
    "incident_new.html": incidents.IncidentFormPage,
    "incident_edit.html": incidents.IncidentFormPage,
    "incident.html": incident.IncidentPage,
    "action_items.html": directory.ActionItemsPage,
    "problems.html": directory.ProblemsPage,
    "problem.html": directory.ProblemPage,
    "services.html": directory.ServicesPage,
    "teams.html": directory.TeamsPage,
    "people.html": directory.PeoplePage,
    "person.html": directory.PersonPage,
    "directory_edit.html": directory_edit.EditPage,
    "account.html": account.AccountPage,
    "admin_users.html": account.AdminUsersPage,
    "insights.html": insights.DashboardPage,
    "insights_charts.html": insights.ChartsPage,
    "insights_oncall.html": insights.OnCallPage,
    "insights_silos.html": insights.SilosPage,
    "insights_response.html": insights.ResponsePage,
    "slos.html": insights.SLOsPage,
    "slas.html": insights.SLAsPage,
    "search.html": insights.SearchPage,
    "imports.html": imports.ImportsPage,
    "review.html": reviews.ReviewPage,
    "report.html": reports.ReportPage,
    "report_edit.html": reports.EditPage,
    "report_publish.html": reports.EditPage,
    "workspace_transcript.html": workspace.Workspace,
    "workspace_timeline.html": workspace.Workspace,
    "workspace_people.html": workspace.Workspace,
    "workspace_analysis.html": workspace.Workspace,
}


def _source(name: str) -> str:
    text = (TEMPLATES / name).read_text()
    return text + "".join(_source(child) for child in INCLUDE.findall(text))


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_template_uses_only_context_fields(template: str) -> None:
    context = CONTEXTS[template]
    available = set(context.__dataclass_fields__) | {
        n for n in dir(context) if not n.startswith("_")
    }
    used = set(USES.findall(_source(template)))
    assert used, template
    assert used <= available, sorted(used - available)


def test_every_page_template_has_a_context() -> None:
    pages = {p.name for p in TEMPLATES.glob("*.html") if not p.name.startswith("_")}
    assert pages - {"base.html", "login.html", "error.html"} == set(CONTEXTS) | PLAIN_CONTEXTS
