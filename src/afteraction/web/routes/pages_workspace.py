"""The analysis workspace pages of an incident: transcript (with annotation), timeline
builder, people & coordination, and analysis notes. Interviews are in `pages_interviews`.

Access: every logged-in user who can see the incident reads these pages; admins and
investigators change them (`require_analysis`). Forms post here and redirect back (303);
the transcript's keyboard annotation posts to the JSON API instead. No queries of our own:
the services read (the transcript's window through `services.transcript_reads`, as
`GET /api/v1/incidents/{key}/transcript` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from afteraction.adapters.mrkdwn import render_html
from afteraction.core import times
from afteraction.core.access import Actor, require_analysis
from afteraction.core.errors import PermissionDenied
from afteraction.core.incidents import MILESTONES
from afteraction.services import analysis as work
from afteraction.services import citations, users
from afteraction.services import incidents as repo
from afteraction.services import people as people_service
from afteraction.services import timeline as timeline_service
from afteraction.services import transcript_reads as reading
from afteraction.storage.analysis_bundle import IncidentEvidence
from afteraction.storage.analysis_tables import NOTE_KINDS
from afteraction.storage.tables import Incident
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.pagecache import cached_page
from afteraction.web.routes.pages_forms import render_page, see_other, writing_as
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId
from afteraction.web.svg import swimlanes

router = APIRouter(include_in_schema=False)
TIMELINE_VIEWS = ("narrative", "person", "keyword", "channel")
NOTE_LABELS = {
    "theme": "Themes",
    "contributing_factor": "Contributing factors (what had to be true)",
    "risk": "Risks",
    "mitigator": "Mitigators",
    "difficulty": "Difficulties during handling",
    "open_question": "Open questions",
}
NOTE_NAMES = {
    "theme": "theme",
    "contributing_factor": "contributing factor",
    "risk": "risk",
    "mitigator": "mitigator",
    "difficulty": "difficulty during handling",
    "open_question": "open question",
}


def can_analyse(actor: Actor) -> bool:
    try:
        require_analysis(actor)
    except PermissionDenied:
        return False
    return True


@dataclass(slots=True)
class Workspace:
    incident: Incident
    tab: str
    can_edit: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _open(db: Any, user: Any, key: str, tab: str) -> tuple[Workspace, Actor]:
    actor = users.actor_for(user)
    incident = repo.get_incident(db, actor, incident_key(key))
    return Workspace(incident, tab, can_analyse(actor)), actor


def cite_targets(db: Any, page: Workspace) -> dict[str, list[tuple[str, str]]] | None:
    """What the cite bar offers to cite ticked items in: a new note of each kind, or one of
    the incident's notes (by its kind and text); None for those who may not write notes."""
    if not page.can_edit:
        return None
    notes = work.list_notes(db, page.incident.id)
    return {
        "new": [(kind, f"a new {NOTE_NAMES[kind]}") for kind in NOTE_KINDS],
        "notes": [(f"note:{n.id}", f"{NOTE_NAMES[n.kind]}: {n.text[:70]}") for n in notes],
    }


def _query_zone(params: Any) -> tzinfo | None:
    """The zone the transcript's "jump to time" form sends beside its `datetime-local`
    input; None without one, so a time without an offset is refused."""
    value = params.get("time_zone")
    return None if value is None else times.parse_zone(value)


# -- transcript ------------------------------------------------------------------------------


@router.get("/incidents/{key}/transcript")
@cached_page
def transcript_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    params = request.query_params
    cursor = None
    if params.get("after") and params.get("after_id", "").isdigit():
        moment = times.parse_time(params["after"], "after")
        cursor = (moment, int(params["after_id"])) if moment else None
    tag = params.get("tag", "")
    question = params.get("question") == "1"
    person = params.get("person", "")
    channels = [int(c) for c in params.getlist("channel") if c.isdigit()]
    query = reading.TranscriptQuery(
        tag=tag,
        questions=question,
        person_id=int(person) if person.isdigit() else None,
        channel_ids=channels,
        text=params.get("q", "")[:200],
        start=times.parse_time(params.get("at"), "at", zone=_query_zone(params)),
        cursor=cursor,
    )
    view = reading.read_transcript(db, actor, incident_key(key), query)
    page = Workspace(view.incident, "transcript", can_analyse(actor))
    window = view.window
    channel_names = {str(cid): name for cid, name in window.channels}
    page.extra = {
        "window": window,
        "marks": view.marks,
        "cue_marks": view.cue_marks,
        "tags": work.list_tags(db),
        "html": lambda item: Markup(render_html(item.text, window.mention_names, channel_names)),
        "channel_name": dict(window.channels),
        "authors": reading.authors(db, page.incident),
        "filters": {
            "tag": tag,
            "question": question,
            "person": person,
            "channels": channels,
            "q": query.text,
            "at": params.get("at", ""),
        },
        "next": window.next_cursor,
        "cite_into": cite_targets(db, page),
        **_annotating(params),
    }
    return render_page(request, "workspace_transcript.html", page, user=user)


_ANNOTATE_FIELDS = {"m": "message_id", "c": "cue_id"}


def _annotating(params: Any) -> dict[str, Any]:
    """Which item's annotate form is open (`?annotate=m<message id>` or `c<cue id>`, the
    no-JavaScript way: each item has a link, not a form of its own) and the query the
    links add to. With JavaScript the one form on the page moves to the item instead."""
    value = params.get("annotate", "")
    field = _ANNOTATE_FIELDS.get(value[:1])
    number = value[1:]
    return {
        "annotate_open": (field, int(number)) if field and number.isdigit() else None,
        "annotate_query": urlencode([(k, v) for k, v in params.multi_items() if k != "annotate"]),
    }


# -- timeline --------------------------------------------------------------------------------


def _matching(value: str, named: list[tuple[int, str]]) -> set[int] | None:
    """Ids whose name contains `value` (any case, a leading # or @ ignored) or whose id it
    is; None when no value is given (no filter)."""
    wanted = value.strip().lstrip("#@").casefold()
    if not wanted:
        return None
    return {i for i, name in named if wanted in name.casefold() or wanted == str(i)}


def _timeline_rows(
    db: Any, evidence: IncidentEvidence, incident: Incident, view: str, value: str
) -> list[Any]:
    rows = timeline_service.list_timeline(db, incident.id)
    links = [link for r in rows for link in r.evidence]
    labels = citations.evidence_labels(db, links)
    people = [
        (row_id, evidence.bundle.people[key].name)
        for key, row_id in evidence.person_ids.items()
        if key in evidence.bundle.people
    ]
    wanted = {
        "person": _matching(value, people) if view == "person" else None,
        "channel": _matching(value, reading.channels(db, incident)) if view == "channel" else None,
    }
    out = []
    for row in rows:
        info = [labels.get((str(link["type"]), int(link["id"]))) for link in row.evidence]
        persons = {row.person_id} | {i["person_id"] for i in info if i}
        channels = {i["channel_id"] for i in info if i}
        if wanted["person"] is not None and wanted["person"].isdisjoint(persons):
            continue
        if view == "keyword" and value and value.casefold() not in row.text.casefold():
            continue
        if wanted["channel"] is not None and wanted["channel"].isdisjoint(channels):
            continue
        out.append({"row": row, "evidence": list(zip(row.evidence, info, strict=True))})
    return out


def _by_day(entries: list[dict[str, Any]], zone: tzinfo) -> list[tuple[str, list[Any]]]:
    """Entries grouped under the day they fall on in the viewer's zone, in time order."""
    days: dict[str, list[Any]] = {}
    for entry in entries:
        days.setdefault(times.in_zone(entry["row"].at, zone, "%A %d %B %Y"), []).append(entry)
    return list(days.items())


@router.get("/incidents/{key}/timeline")
@cached_page
def timeline_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    page, _actor = _open(db, user, key, "timeline")
    view = request.query_params.get("view", "narrative")
    if view not in TIMELINE_VIEWS:
        view = "narrative"
    value = request.query_params.get("value", "")[:200]
    evidence = timeline_service.workspace_evidence(db, page.incident.id)
    suggestions = timeline_service.pending_suggestions(db, evidence) if page.can_edit else []
    annotations = [a for a in work.list_annotations(db, page.incident.id) if a.message_id]
    people = sorted(evidence.bundle.people.values(), key=lambda p: p.name)
    zone = times.zone_named(user.person.time_zone if user.person else None)
    entries = _timeline_rows(db, evidence, page.incident, view, value)
    page.extra = {
        "entries": entries,
        "days": _by_day(entries, zone),
        "suggestions": suggestions,
        "annotations": annotations,
        "view": view,
        "value": value,
        "people": people,
        "channels": reading.channels(db, page.incident),
        "milestones": MILESTONES,
        "zone": zone,
        "cite_into": cite_targets(db, page),
    }
    return render_page(request, "workspace_timeline.html", page, user=user)


@router.post("/incidents/{key}/timeline/suggestions")
def decide(key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    actor = users.actor_for(user)
    incident = repo.get_incident(db, actor, incident_key(key))
    one = form.text("accept_one") or form.text("dismiss_one")
    if one:  # a row's own button: that suggestion alone, whatever else is ticked
        keys, accept = [one], bool(form.text("accept_one"))
    else:
        keys = [k for k in form.data.getlist("key") if isinstance(k, str) and k.strip()][:500]
        accept = form.text("decision") != "dismiss"
    back = f"/incidents/{incident.public_id}/timeline"
    if not keys:
        return see_other(request, back, "Nothing chosen: tick the suggestions first.")
    with writing_as(db, user):
        rows = timeline_service.decide_suggestions(db, actor, incident.number, keys, accept=accept)
    n = len(rows)
    said = f"{n} suggestion{'' if n == 1 else 's'}"
    return see_other(
        request, back, f"Added {said} to the timeline" if accept else f"Dismissed {said}"
    )


@router.post("/incidents/{key}/timeline")
def add_entry(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    actor = users.actor_for(user)
    require_analysis(actor)  # refused before the form is read
    repo.get_incident(db, actor, incident_key(key))
    annotation = form.integer("annotation_id")
    with writing_as(db, user):
        entry = timeline_service.create_entry(
            db,
            actor,
            incident_key(key),
            at=form.moment("at", form.zone()),
            text=form.text("text"),
            kind=form.text("kind") or "event",
            annotation_id=annotation,
        )
        public = f"INC-{incident_key(key)}"
    return see_other(
        request, f"/incidents/{public}/timeline#entry-{entry.id}", "Timeline entry added"
    )


@router.post("/incidents/{key}/timeline/{entry_id}")
def edit_entry(
    key: str, entry_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    actor = users.actor_for(user)
    with writing_as(db, user):
        if form.text("action") == "delete":
            timeline_service.delete_entry(db, actor, incident_key(key), entry_id)
            notice = "Timeline entry removed"
        elif form.text("milestone"):
            _incident, warnings = timeline_service.milestone_from_entry(
                db,
                actor,
                incident_key(key),
                entry_id,
                form.text("milestone"),
                allow_out_of_order=form.flag("allow_out_of_order"),
            )
            notice = f"Milestone {form.text('milestone')} set from the entry" + (
                f" ({'; '.join(warnings)})" if warnings else ""
            )
        else:
            timeline_service.update_entry(
                db,
                actor,
                incident_key(key),
                entry_id,
                at=form.moment("at", form.zone()),
                text=form.text("text") or None,
                kind=form.text("kind") or None,
            )
            notice = "Timeline entry saved"
    return see_other(
        request, f"/incidents/INC-{incident_key(key)}/timeline#entry-{entry_id}", notice
    )


# -- people ----------------------------------------------------------------------------------


@router.get("/incidents/{key}/people")
@cached_page
def people_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    page, _actor = _open(db, user, key, "people")
    view = people_service.of_incident(db, page.incident)
    evidence, analysis = view.evidence, view.analysis
    page.extra = {
        "analysis": analysis,
        "chart": Markup(swimlanes(evidence.bundle, evidence.context, analysis)),
        "names": {k: p.name for k, p in evidence.bundle.people.items()},
        "person_ids": evidence.person_ids,
        "cite_into": cite_targets(db, page),
    }
    return render_page(request, "workspace_people.html", page, user=user)


@router.post("/incidents/{key}/annotations")
def annotate_form(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Annotating with the mouse or without JavaScript: the transcript's annotate form
    (`_annotating`) posts here."""
    actor = users.actor_for(user)
    cue_id = form.integer("cue_id")
    with writing_as(db, user):
        result = work.annotate(
            db,
            actor,
            incident_key(key),
            message_id=form.integer("message_id"),
            end_message_id=form.integer("end_message_id"),
            tag=form.text("tag") or None,
            note=form.text("note"),
            question=form.flag("question"),
            cue_id=cue_id,
        )
    anchor = (
        f"c{cue_id}"
        if result.annotation.message_id is None
        else (f"m{result.annotation.message_id}")
    )
    flag = (
        f" (overlaps annotation {', '.join(map(str, result.overlaps))})" if result.overlaps else ""
    )
    return see_other(
        request,
        f"/incidents/INC-{incident_key(key)}/transcript#{anchor}",
        "Annotated" + flag,
    )
