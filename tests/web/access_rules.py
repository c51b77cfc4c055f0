"""The one table of who may use which route: `RULES` maps every route (method and path, API
and pages) to a rule, and each rule says, for a principal and an incident, whether the
request is allowed or how it is refused. The matrix test (`test_access_matrix.py`) walks
the app's route table against it, so a route added without a rule fails by name.

How a refusal looks: anonymous callers get 401 under /api and a redirect to /login on pages;
a signed-in caller missing a role gets 403; an incident (or interview) the caller may not
see answers 404, so its existence is hidden. When both fail, either answer is accepted:
a 403 given before looking the incident up tells nothing about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.web.access_world import IncidentObject, Principal

WRITERS = frozenset({"admin", "investigator", "responder"})
ANALYSTS = frozenset({"admin", "investigator"})


@dataclass(frozen=True, slots=True)
class Expect:
    """ALLOW, or the refusal statuses accepted ("login" is 401/redirect to the login page)."""

    refusals: frozenset[str] = frozenset()

    @property
    def allowed(self) -> bool:
        return not self.refusals

    def __str__(self) -> str:
        return "allow" if self.allowed else "/".join(sorted(self.refusals))


ALLOW = Expect()
LOGIN = Expect(frozenset({"login"}))
FORBIDDEN = Expect(frozenset({"403"}))
HIDDEN = Expect(frozenset({"404"}))
EITHER = Expect(frozenset({"403", "404"}))

Rule = Callable[[Principal, IncidentObject | None], Expect]


def sees(p: Principal, o: IncidentObject | None) -> bool:
    """Private incidents: admins and people holding a role on it (investigator-on does)."""
    return o is None or not o.private or p.who in ("admin", "investigator-on")


def _both(role_ok: bool, visible: bool) -> Expect:
    if role_ok and visible:
        return ALLOW
    if role_ok:
        return HIDDEN
    return FORBIDDEN if visible else EITHER


def public(_p: Principal, _o: IncidentObject | None) -> Expect:
    return ALLOW


def sso_off(_p: Principal, _o: IncidentObject | None) -> Expect:
    """Single sign-on is not configured in the matrix's settings: nobody finds its routes."""
    return HIDDEN


def signed_in(_p: Principal, _o: IncidentObject | None) -> Expect:
    return ALLOW


def sso_link_off(_p: Principal, _o: IncidentObject | None) -> Expect:
    """Linking single sign-on to the signed-in account: a login first, then (single sign-on
    not being configured here) nothing to link to."""
    return HIDDEN


def writer(p: Principal, _o: IncidentObject | None) -> Expect:
    return ALLOW if p.role in WRITERS else FORBIDDEN


def analyst(p: Principal, _o: IncidentObject | None) -> Expect:
    return ALLOW if p.role in ANALYSTS else FORBIDDEN


def admin(p: Principal, _o: IncidentObject | None) -> Expect:
    return ALLOW if p.role == "admin" else FORBIDDEN


def see_incident(p: Principal, o: IncidentObject | None) -> Expect:
    return ALLOW if sees(p, o) else HIDDEN


def edit_incident(p: Principal, o: IncidentObject | None) -> Expect:
    return _both(p.role in WRITERS, sees(p, o))


def analyse_incident(p: Principal, o: IncidentObject | None) -> Expect:
    return _both(p.role in ANALYSTS, sees(p, o))


def read_report(p: Principal, o: IncidentObject | None) -> Expect:
    """The published version for everyone who sees the incident; a draft for writers."""
    if not sees(p, o):
        return HIDDEN
    assert o is not None
    return ALLOW if o.published or p.role in WRITERS else FORBIDDEN


def plan_interview(p: Principal, o: IncidentObject | None) -> Expect:
    """The incident's investigators, and admins and investigators (who then run it)."""
    return _both(p.who == "investigator-on" or p.role in ANALYSTS, sees(p, o))


def read_interview(p: Principal, o: IncidentObject | None) -> Expect:
    """The incident's investigators, the interviewer and named readers; to anyone else
    (admins included) the interview does not exist."""
    assert o is not None
    readable = p.who in ("investigator-on", "reader") and o.interview_id is not None
    return ALLOW if sees(p, o) and readable else HIDDEN


def edit_interview(p: Principal, o: IncidentObject | None) -> Expect:
    """Readers may read but not change."""
    found = read_interview(p, o)
    if not found.allowed:
        return found
    return ALLOW if p.who == "investigator-on" else FORBIDDEN


def job_owner(p: Principal, _o: IncidentObject | None) -> Expect:
    """An import job is seen by whoever queued it (the responder here) and admins."""
    return ALLOW if p.who in ("responder", "admin") else HIDDEN


def write_job(p: Principal, o: IncidentObject | None) -> Expect:
    return writer(p, o) if not writer(p, o).allowed else job_owner(p, o)


def remove_source(p: Principal, o: IncidentObject | None) -> Expect:
    """A source attached to no incident: writers; to an incident: who may change it.
    (An interview's transcript is the interview's own rows, never a source.)"""
    if o is None:
        return writer(p, o)
    return edit_incident(p, o)


RULE_NAMES: dict[str, Rule] = {
    rule.__name__: rule
    for rule in (
        public,
        sso_off,
        sso_link_off,
        signed_in,
        writer,
        analyst,
        admin,
        see_incident,
        edit_incident,
        analyse_incident,
        read_report,
        plan_interview,
        read_interview,
        edit_interview,
        job_owner,
        write_job,
        remove_source,
    )
}

_I = "/incidents/{key}"
_A = "/api/v1"
_AI = "/api/v1/incidents/{key}"

RULES: dict[str, str] = {
    # -- the API document, health and sign-in ------------------------------------------------
    f"GET {_A}/openapi.json": "public",
    f"GET {_A}/docs": "public",
    "GET /healthz": "public",
    "GET /login": "public",
    "POST /login": "public",
    "GET /login/oidc": "sso_off",
    "GET /login/oidc/callback": "sso_off",
    "POST /account/sso/link": "sso_link_off",
    "POST /logout": "public",
    # -- incidents (API) -------------------------------------------------------------------
    f"GET {_A}/incidents": "signed_in",
    f"POST {_A}/incidents": "writer",
    f"GET {_AI}": "see_incident",
    f"PATCH {_AI}": "edit_incident",
    f"POST {_AI}/status": "edit_incident",
    f"PUT {_AI}/milestones": "edit_incident",
    f"GET {_AI}/milestones/history": "see_incident",
    f"GET {_AI}/roles": "see_incident",
    f"POST {_AI}/roles": "edit_incident",
    f"POST {_AI}/roles/{{role_id}}/end": "edit_incident",
    f"GET {_AI}/updates": "see_incident",
    f"POST {_AI}/updates": "edit_incident",
    f"GET {_AI}/impact": "see_incident",
    f"POST {_AI}/impact": "edit_incident",
    f"PATCH {_AI}/impact/{{impact_id}}": "edit_incident",
    f"DELETE {_AI}/impact/{{impact_id}}": "edit_incident",
    f"GET {_AI}/action-items": "see_incident",
    f"POST {_AI}/action-items": "edit_incident",
    f"PATCH {_A}/action-items/{{item_id}}": "edit_incident",
    f"GET {_AI}/references": "see_incident",
    f"POST {_AI}/references": "edit_incident",
    f"GET {_AI}/activity": "see_incident",
    f"GET {_A}/severities": "signed_in",
    f"GET {_A}/lifecycle": "signed_in",
    # -- directory, users and tokens (API) ---------------------------------------------------
    f"GET {_A}/people": "signed_in",
    f"POST {_A}/people": "writer",
    f"GET {_A}/people/{{person_id}}": "signed_in",
    f"PATCH {_A}/people/{{person_id}}": "writer",
    f"DELETE {_A}/people/{{person_id}}": "writer",
    f"POST {_A}/people/{{person_id}}/memberships": "writer",
    f"GET {_A}/teams": "signed_in",
    f"POST {_A}/teams": "writer",
    f"GET {_A}/teams/{{ref}}": "signed_in",
    f"PATCH {_A}/teams/{{ref}}": "writer",
    f"DELETE {_A}/teams/{{ref}}": "writer",
    f"GET {_A}/services": "signed_in",
    f"POST {_A}/services": "writer",
    f"GET {_A}/services/{{ref}}": "signed_in",
    f"PATCH {_A}/services/{{ref}}": "writer",
    f"DELETE {_A}/services/{{ref}}": "writer",
    f"GET {_A}/problems": "signed_in",
    f"POST {_A}/problems": "writer",
    f"GET {_A}/problems/{{key}}": "signed_in",
    f"PATCH {_A}/problems/{{key}}": "writer",
    f"DELETE {_A}/problems/{{key}}": "writer",
    f"GET {_A}/users": "admin",
    f"POST {_A}/people/{{person_id}}/erase": "admin",
    f"POST {_A}/users": "admin",
    f"PATCH {_A}/users/{{user_id}}": "admin",
    f"GET {_A}/me": "signed_in",
    f"GET {_A}/tokens": "signed_in",
    f"POST {_A}/tokens": "signed_in",
    f"DELETE {_A}/tokens/{{token_id}}": "signed_in",
    # -- insights and service levels (API) ---------------------------------------------------
    f"GET {_A}/insights/metrics": "signed_in",
    f"GET {_A}/insights/oncall": "signed_in",
    f"GET {_A}/insights/silos": "signed_in",
    f"GET {_A}/insights/response": "signed_in",
    f"GET {_A}/slos": "signed_in",
    f"POST {_A}/slos": "writer",
    f"GET {_A}/slos/{{slo_id}}": "signed_in",
    f"DELETE {_A}/slos/{{slo_id}}": "admin",
    f"POST {_A}/slos/{{slo_id}}/counts": "writer",
    f"GET {_A}/slas": "signed_in",
    f"POST {_A}/slas": "writer",
    f"GET {_A}/slas/{{sla_id}}": "signed_in",
    f"DELETE {_A}/slas/{{sla_id}}": "admin",
    f"GET {_A}/slas/{{sla_id}}/breaches": "signed_in",
    f"GET {_A}/search": "signed_in",
    f"GET {_AI}/similar": "see_incident",
    # -- analysis workspace and interviews (API) -------------------------------------------
    f"GET {_AI}/people": "see_incident",
    f"GET {_A}/annotation-tags": "signed_in",
    f"POST {_A}/annotation-tags": "admin",
    f"GET {_AI}/transcript": "see_incident",  # as the Transcript tab
    f"GET {_AI}/annotations": "see_incident",
    f"POST {_AI}/annotations": "analyse_incident",
    f"DELETE {_AI}/annotations/{{annotation_id}}": "analyse_incident",
    f"GET {_AI}/timeline": "see_incident",
    f"POST {_AI}/timeline": "analyse_incident",
    f"POST {_AI}/timeline/suggestions/{{decision}}": "analyse_incident",
    f"PATCH {_AI}/timeline/{{entry_id}}": "analyse_incident",
    f"POST {_AI}/timeline/{{entry_id}}/milestone": "analyse_incident",
    f"GET {_AI}/notes": "see_incident",
    f"POST {_AI}/notes": "analyse_incident",
    f"GET {_AI}/interviews": "see_incident",
    f"GET {_AI}/interviews/{{interview_id}}": "read_interview",
    f"POST {_AI}/interviews": "plan_interview",
    f"PATCH {_AI}/interviews/{{interview_id}}": "edit_interview",
    f"POST {_AI}/interviews/{{interview_id}}/quotes": "edit_interview",
    # -- imports and reports (API) -----------------------------------------------------------
    f"POST {_A}/imports": "writer",
    f"GET {_A}/imports": "signed_in",  # each sees their own jobs, an admin all
    f"GET {_A}/imports/{{job_id}}": "job_owner",
    f"POST {_A}/imports/{{job_id}}/confirm": "write_job",
    f"POST {_A}/imports/{{job_id}}/discard": "write_job",
    f"POST {_A}/imports/{{job_id}}/window": "write_job",
    f"GET {_A}/sources": "signed_in",
    f"DELETE {_A}/sources/{{source_id}}": "remove_source",
    # -- a user's own notifications and subscriptions ---------------------------------------
    f"GET {_A}/notifications": "signed_in",
    f"POST {_A}/notifications/read": "signed_in",
    f"GET {_A}/subscriptions": "signed_in",
    f"POST {_A}/subscriptions": "signed_in",
    f"DELETE {_A}/subscriptions/{{subscription_id}}": "signed_in",
    f"GET {_AI}/report": "read_report",
    f"GET {_AI}/report/claims": "read_report",
    f"POST {_AI}/report/state": "edit_incident",
    # -- pages: home, incidents --------------------------------------------------------------
    "GET /": "signed_in",
    "GET /incidents": "signed_in",
    "GET /incidents/new": "writer",
    "POST /incidents/new": "writer",
    f"GET {_I}/edit": "edit_incident",
    f"POST {_I}/edit": "edit_incident",
    f"GET {_I}": "see_incident",
    f"POST {_I}/status": "edit_incident",
    f"POST {_I}/milestones": "edit_incident",
    f"POST {_I}/roles": "edit_incident",
    f"POST {_I}/roles/{{role_id}}/end": "edit_incident",
    f"POST {_I}/updates": "edit_incident",
    f"POST {_I}/impact": "edit_incident",
    f"POST {_I}/impact/{{impact_id}}/end": "edit_incident",
    f"POST {_I}/impact/{{impact_id}}/remove": "edit_incident",
    f"POST {_I}/action-items": "edit_incident",
    f"POST {_I}/action-items/{{item_id}}/status": "edit_incident",
    f"POST {_I}/references": "edit_incident",
    # -- pages: directory --------------------------------------------------------------------
    "GET /action-items": "signed_in",
    "GET /problems": "signed_in",
    "POST /problems": "writer",
    "GET /problems/{key}": "signed_in",
    "GET /services": "signed_in",
    "POST /services": "writer",
    "GET /teams": "signed_in",
    "POST /teams": "writer",
    "GET /people": "signed_in",
    "POST /people": "writer",
    "GET /people/{person_id}": "signed_in",
    "POST /people/{person_id}/memberships": "writer",
    "GET /people/{person_id}/edit": "writer",
    "POST /people/{person_id}/edit": "writer",
    "POST /people/{person_id}/delete": "writer",
    "GET /teams/{ref}/edit": "writer",
    "POST /teams/{ref}/edit": "writer",
    "POST /teams/{ref}/delete": "writer",
    "GET /services/{ref}/edit": "writer",
    "POST /services/{ref}/edit": "writer",
    "POST /services/{ref}/delete": "writer",
    "GET /problems/{key}/edit": "writer",
    "POST /problems/{key}/edit": "writer",
    "POST /problems/{key}/delete": "writer",
    # -- pages: account and user administration ----------------------------------------------
    "GET /account": "signed_in",
    "POST /account/password": "signed_in",
    "POST /account/sessions/{session_id}/end": "signed_in",
    "POST /account/sessions/end-all": "signed_in",
    "POST /account/tokens": "signed_in",
    "POST /account/tokens/{token_id}/revoke": "signed_in",
    "GET /admin/users": "admin",
    "POST /admin/users": "admin",
    "POST /admin/users/{user_id}/role": "admin",
    "POST /admin/users/{user_id}/active": "admin",
    "POST /admin/users/{user_id}/force-reset": "admin",
    "POST /admin/users/{user_id}/unlock": "admin",
    # -- pages: insights and service levels --------------------------------------------------
    "GET /insights": "signed_in",
    "GET /insights/charts": "signed_in",
    "GET /insights/oncall": "signed_in",
    "GET /insights/silos": "signed_in",
    "GET /insights/response": "signed_in",
    "GET /slos": "signed_in",
    "POST /slos": "writer",
    "POST /slos/{slo_id}/counts": "writer",
    "GET /slas": "signed_in",
    "POST /slas": "writer",
    "GET /search": "signed_in",
    f"GET {_I}/similar": "see_incident",
    # -- pages: analysis workspace and interviews --------------------------------------------
    f"GET {_I}/transcript": "see_incident",
    f"GET {_I}/timeline": "see_incident",
    f"POST {_I}/timeline/suggestions": "analyse_incident",
    f"POST {_I}/timeline": "analyse_incident",
    f"POST {_I}/timeline/{{entry_id}}": "analyse_incident",
    f"GET {_I}/people": "see_incident",
    f"GET {_I}/analysis": "see_incident",
    f"POST {_I}/analysis": "analyse_incident",
    f"POST {_I}/annotations": "analyse_incident",
    f"GET {_I}/interviews": "see_incident",
    f"POST {_I}/interviews": "plan_interview",
    f"POST {_I}/interviews/{{interview_id}}": "edit_interview",
    # -- pages: imports ----------------------------------------------------------------------
    "GET /imports": "signed_in",  # the sources list, as GET /api/v1/sources
    "POST /imports": "writer",
    "POST /imports/jobs/{job_id}/confirm": "write_job",
    "POST /imports/jobs/{job_id}/discard": "write_job",
    "POST /imports/jobs/{job_id}/window": "write_job",
    "GET /imports/jobs/{job_id}": "job_owner",
    "GET /imports/jobs/{job_id}/status": "job_owner",
    "POST /imports/sources/{source_id}/remove": "remove_source",
    # -- pages: reviews, reports and learning ------------------------------------------------
    f"GET {_I}/review": "see_incident",
    f"POST {_I}/review/assign": "edit_incident",
    f"POST {_I}/review/state": "edit_incident",
    f"POST {_I}/review/calibration": "analyse_incident",
    f"POST {_I}/review/calibration/{{doc_id}}/share": "edit_incident",
    f"POST {_I}/review/calibration/{{doc_id}}/vote": "see_incident",
    f"POST {_I}/review/meeting": "edit_incident",
    f"POST {_I}/review/meeting/{{meeting_id}}/record": "edit_incident",
    f"POST {_I}/review/meeting/{{meeting_id}}/park": "edit_incident",
    f"POST {_I}/review/meeting/{{meeting_id}}/survey": "see_incident",
    "GET /reviews/overdue": "signed_in",
    f"GET {_I}/report": "read_report",
    # the same 204 to everyone signed in, credited only where read_report allows
    f"POST {_I}/report/heartbeat": "signed_in",
    f"POST {_I}/report": "edit_incident",
    f"POST {_I}/report/comments": "read_report",
    f"POST {_I}/report/comments/{{comment_id}}/react": "see_incident",
    f"GET {_I}/report/export": "read_report",
    f"GET {_I}/report/edit": "edit_incident",
    f"POST {_I}/report/check": "edit_incident",
    f"POST {_I}/report/save": "edit_incident",
    f"POST {_I}/report/state": "edit_incident",
    f"POST {_I}/report/dismiss": "edit_incident",
    f"GET {_I}/report/versions": "read_report",
    "GET /notifications": "signed_in",
    "POST /subscriptions": "signed_in",
    "POST /subscriptions/{subscription_id}/delete": "signed_in",
    "POST /notifications/read": "signed_in",
    "GET /learning": "signed_in",
    "POST /action-items/{item_id}/issue": "edit_incident",
}


KNOWN: dict[tuple[str, str | None], str] = {}
"""(route, object) → the outcome a change made elsewhere still has to correct; the cell is
accepted with either that outcome or the rule's."""


def expect(route: str, principal: Principal, incident: IncidentObject | None) -> Expect:
    """The outcome the table gives; anonymous callers are refused by every non-public rule."""
    name = RULES[route]
    if principal.who is None and name not in ("public", "sso_off"):
        return LOGIN
    return RULE_NAMES[name](principal, incident)
