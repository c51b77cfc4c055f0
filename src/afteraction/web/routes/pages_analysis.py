"""The analysis notes page of an incident (themes, contributing factors, risks, ...), and
citing evidence in a note by pointing at it.

In the Transcript, Timeline and People tabs an investigator ticks items and chooses "cite
them in" a new note of some kind or an existing note (`_citations.html`'s cite bar, a GET
form here). This page then shows the note form with each cited item as a chip (time, who,
text: never an id) that can be removed; saving checks every citation through
`services.citations` (evidence of this incident, which the user may see). A refused form
is shown again with what the user wrote and the citations that were kept. The workspace's
other tabs are in `pages_workspace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.services import analysis as work
from afteraction.services import citations
from afteraction.services.citations import Citation
from afteraction.storage.analysis_tables import NOTE_KINDS
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import query_list, render_page, see_other, writing_as
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.routes.pages_workspace import NOTE_LABELS, NOTE_NAMES, Workspace, _open

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class Compose:
    """The note form with its citations: a new note of `kind`, or note `note_id` edited."""

    kind: str
    note_id: int | None = None
    text: str = ""
    chips: list[Citation] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def title(self) -> str:
        name = NOTE_NAMES.get(self.kind, self.kind)
        return f"Edit this {name}" if self.note_id else f"A new {name}"


def parse_refs(values: list[str]) -> list[dict[str, Any]]:
    """Citations as form values ("message:12", or several in one value split by commas)."""
    links = []
    for value in values:
        for part in value.split(","):
            kind, _, ident = part.strip().partition(":")
            if not kind and not ident:
                continue
            if not ident.isdigit() or len(ident) > 12:
                raise ValidationError(
                    f"a citation is a type and a number, like message:12, not {part.strip()!r}",
                    field="evidence",
                )
            links.append({"type": kind.strip(), "id": int(ident)})
    return links


def _compose(
    db: Any, actor: Actor, key: str, kind: str, links: list[dict[str, Any]], **values: Any
) -> Compose:
    if kind not in NOTE_KINDS:
        kind = NOTE_KINDS[0]
    chips, refusals = citations.preview(db, actor, incident_key(key), links)
    return Compose(kind, chips=chips, refusals=refusals, **values)


def _render(
    request: Request, db: Any, user: Any, page: Workspace, compose: Compose | None, status: int
) -> Response:
    notes = work.list_notes(db, page.incident.id)
    shown = {n.id: citations.citations(db, n.evidence) for n in notes}
    page.extra = {
        "groups": [
            (kind, NOTE_LABELS[kind], [n for n in notes if n.kind == kind]) for kind in NOTE_KINDS
        ],
        "cited": shown,
        "compose": compose,
        "kinds": [(kind, NOTE_NAMES[kind]) for kind in NOTE_KINDS],
    }
    return render_page(request, "workspace_analysis.html", page, user=user, status_code=status)


def _note_named(db: Any, incident_id: int, into: str) -> Any:
    """The note `into` names ("note:ID"); None when `into` names a kind instead."""
    if not into.startswith("note:"):
        return None
    wanted = into.removeprefix("note:")
    for note in work.list_notes(db, incident_id):
        if str(note.id) == wanted:
            return note
    raise ValidationError("that note is not one of this incident's", field="into")


@router.get("/incidents/{key}/analysis")
def analysis_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    """The notes; with `into` (a note kind, or `note:ID`) and `cite` values, the note form
    holding those citations."""
    page, actor = _open(db, user, key, "analysis")
    params = request.query_params
    into = params.get("into", "")
    compose = None
    if page.can_edit and (into or "cite" in params):
        try:
            links = parse_refs(query_list(params, "cite"))
            problem = None
        except ValidationError as error:
            links, problem = [], error.message
        note = _note_named(db, page.incident.id, into)
        if note is not None:
            links = [*note.evidence, *links]
            compose = _compose(db, actor, key, note.kind, links, note_id=note.id, text=note.text)
        else:
            compose = _compose(db, actor, key, into, links)
        compose.error = problem
    return _render(request, db, user, page, compose, 200)


@router.post("/incidents/{key}/analysis")
def save_analysis_note(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Add a note, save an edited one, remove one, or (`drop`) take a citation off the form
    without saving, which is how a chip is removed without JavaScript."""
    page, actor = _open(db, user, key, "analysis")
    back = f"/incidents/{page.incident.public_id}/analysis"
    note_id = form.integer("note_id")
    if form.text("action") == "delete":
        with writing_as(db, user):
            work.delete_note(db, actor, incident_key(key), note_id or 0)
        return see_other(request, back, "Note removed")
    text, kind, drop = form.text("text"), form.text("kind", limit=40), form.text("drop", limit=40)
    try:
        links = parse_refs(form.many("evidence", limit=citations.MAX_CITATIONS))
        if drop:
            links = [link for link in links if f"{link['type']}:{link['id']}" != drop]
            compose = _compose(db, actor, key, kind, links, note_id=note_id, text=text)
            return _render(request, db, user, page, compose, 200)
        with writing_as(db, user):
            if note_id is not None:
                work.update_note(db, actor, incident_key(key), note_id, text=text, evidence=links)
            else:
                work.add_note(db, actor, incident_key(key), kind=kind, text=text, evidence=links)
    except ValidationError as error:
        compose = _refused(db, actor, key, form, kind, note_id, text)
        compose.error = error.message
        return _render(request, db, user, page, compose, 422)
    return see_other(request, back, "Note saved" if note_id else "Note added")


def _refused(
    db: Any, actor: Actor, key: str, form: Any, kind: str, note_id: int | None, text: str
) -> Compose:
    """The form again as the user sent it; citations that cannot be read are left out."""
    try:
        links = parse_refs(form.many("evidence", limit=citations.MAX_CITATIONS))
    except ValidationError:
        links = []
    return _compose(db, actor, key, kind, links, note_id=note_id, text=text)
