"""Import a meeting transcript (WebVTT: W3C, Zoom, Teams) or a Zoom chat export as transcript
cues attached to an incident under one `Source`, or as the transcript of one of its
interviews (`interview=`), which is confidential: it is stored by `services.interviews`
as the interview's own cues, with no `Source`, no speakers matched and no references.

Lives here: `import_transcript` and the rule of where its cues are placed in time
(`recording_start_for`, which the import form shows as its default). Does not live here:
parsing (`adapters.transcripts`), commits (the caller wraps the call in
`with writing(session):`).

Files ending in `.vtt` are WebVTT; anything else is read as a Zoom chat export. Each cue
keeps its offsets; its absolute time is the recording start + offset. The start is the one
given, else the one a Zoom `GMT<date>-<time>` file name says, else the incident's start,
and the summary says so (every entry point, the CLI, the API and the page, gets the same
answer); with none of them the cues keep only their offsets, and the summary says that too.
An interview's transcript takes no incident start (an interview comes later). Speakers are matched
to people (`_people.resolve_identities`, system "transcript", the speaker's name as the
identity: a speaker seen before, else the full name — two words or more, accents and case
ignored, a trailing "(Company)" ignored, one person only); a speaker matching nobody
becomes a new person, as the Slack importer does for users, removed with the import. A
one-word speaker ("Sarah") is matched only to the one person among the incident's people
with that given name; when none or several have it, its cues keep the name without a
person, the summary lists it as unmatched and says why, and no person is created. URLs
in the cues are added to the incident's references. Cues are unique per source (seq), and
the same file imported again for the same incident adds nothing. A speaker matched to an
erased person is counted as "matched to erased people": their cues carry the pseudonym as
speaker, and the names they were given are replaced with it in every cue's text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from afteraction.adapters.references import ReferenceCounter
from afteraction.adapters.transcripts import parse_vtt, parse_zoom_chat, zoom_recording_start
from afteraction.core.access import Actor
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import PersonRecord
from afteraction.core.evidence import TranscriptCue as CueRecord
from afteraction.services import incidents as repo
from afteraction.services import interviews
from afteraction.services.imports._people import (
    PeopleIndex,
    by_given_name,
    one_word,
    resolve_identities,
)
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_bytes,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage import privacy
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.evidence import insert_rows, merge_references
from afteraction.storage.evidence_tables import TranscriptCue
from afteraction.storage.tables import Incident

KIND = "transcript"
SPEAKER_SYSTEM = "transcript"
"""The identity system of transcript speakers (external id: the name as spoken)."""
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_cues(
    path: Path, raw: bytes, recording_start: datetime | None, warnings: list[str]
) -> list[CueRecord]:
    """Parse the file's bytes as WebVTT (`.vtt`) or a Zoom chat export."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFailed("not UTF-8 text", where=f"{path.name}: line {line}") from exc
    start = recording_start or zoom_recording_start(path.name)
    if path.suffix.lower() == ".vtt":
        if "\n" not in text and "\r" not in text:
            text += "\n"  # a str without line breaks would be taken for a path
        return parse_vtt(text, recording_start=start, source=path.name, warnings=warnings)
    return parse_zoom_chat(text, meeting_start=start, source=path.name, warnings=warnings)


def import_transcript(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    incident: str,
    interview: int | None = None,
    recording_start: datetime | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a transcript for `incident` (see the module docstring)."""
    path = Path(path)
    target = repo.get_incident(session, actor, incident)
    raw = _read(path)
    if interview is not None:
        return _for_interview(
            session, actor, path, raw, target.public_id, interview, recording_start
        )
    checksum = checksum_bytes(raw)
    start, why = recording_start_for(target, recording_start, path.name)
    options = {
        "incident": target.public_id,
        "recording_start": start.astimezone(UTC).isoformat() if start else None,
    }
    previous = find_previous(session, kind=KIND, checksum=checksum, options=options)
    if previous is not None:
        summary = previous_summary(previous)
        summary.incident = target.public_id
        return summary
    summary = ImportSummary(kind=KIND, source_id=None, origin=str(path), incident=target.public_id)
    if why:
        summary.warnings.append(why)
    cues = read_cues(path, raw, start, summary.warnings)
    source = start_source(
        session,
        actor,
        kind=KIND,
        origin=str(path),
        checksum=checksum,
        incident_id=target.id,
        options=options,
    )
    speakers, erased = _speakers(session, actor, cues, source.id, summary, target.id)
    rows = _rows(cues, source.id, target.id, speakers)
    if erased:
        _pseudonymise(rows, erased)
    insert_rows(session, TranscriptCue, rows)
    summary.count("cues", len(rows))
    unattributed = sum(1 for r in rows if r["speaker"] is None)
    if unattributed:
        summary.warnings.append(f"{unattributed} cue(s) without a speaker")
    counter = ReferenceCounter()
    for cue in cues:
        counter.add(cue.text, at=cue.at)
    found = [(r.reference, r.count, r.first_seen) for r in counter.results()]
    added, _ = merge_references(session, incident_id=target.id, source_id=source.id, found=found)
    if added:
        summary.count("references", added)
    if progress is not None:
        progress(len(rows), len(rows), "cues written")
    finish_source(session, actor, source, summary)
    return summary


def _for_interview(
    session: Session,
    actor: Actor,
    path: Path,
    raw: bytes,
    incident: str,
    interview: int,
    recording_start: datetime | None,
) -> ImportSummary:
    summary = ImportSummary(kind=KIND, source_id=None, origin=str(path), incident=incident)
    cues = read_cues(path, raw, recording_start, summary.warnings)
    added = interviews.attach_transcript(session, actor, incident, interview, cues)
    summary.count("interview cues", added)
    return summary


def default_recording_start(session: Session, actor: Actor, incident: str) -> datetime | None:
    """The recording start an import form offers for `incident`: the start its cues get
    when none is given (`recording_start_for`), the incident's."""
    return repo.start_of(repo.get_incident(session, actor, incident))


def recording_start_for(
    incident: Incident, given: datetime | None, file_name: str
) -> tuple[datetime | None, str | None]:
    """(the start an incident transcript's cues are placed from, and a warning when it was
    not given): the start given, else the one a Zoom file name says, else the incident's
    start, else none (the cues keep only their offsets)."""
    if given is not None:
        return given, None
    from_name = zoom_recording_start(file_name)
    if from_name is not None:
        return from_name, None
    started = repo.start_of(incident)
    if started is not None:
        return started, (
            f"no recording start given: cues placed from {incident.public_id}'s start "
            f"({started.astimezone(UTC).isoformat()}); import again with the recording's "
            "real start to place them exactly"
        )
    return None, (
        f"no recording start given and {incident.public_id} has no start: cues keep only "
        "their offsets into the recording, with no time of day"
    )


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFailed(f"file is larger than {MAX_FILE_BYTES} bytes", where=path.name)
        return path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc


def _speakers(
    session: Session,
    actor: Actor,
    cues: list[CueRecord],
    source_id: int,
    summary: ImportSummary,
    incident_id: int,
) -> tuple[dict[str, int], dict[int, tuple[str, set[str]]]]:
    """Each speaker's person: matched, or created with this import as its source. A
    one-word speaker seen before keeps its person; else it is the one person among the
    incident's people with that given name, or nobody (said in the summary's warnings).
    Also: erased person id -> (pseudonym, the names they were given)."""
    names = list(dict.fromkeys(c.speaker[:200] for c in cues if c.speaker))
    index = PeopleIndex.load(session)
    words = {
        name: word
        for name in names
        if (word := one_word(name)) and (SPEAKER_SYSTEM, name) not in index.by_identity
    }
    full = [name for name in names if name not in words]
    records = [PersonRecord(key=f"{SPEAKER_SYSTEM}:{name}", name=name) for name in full]
    found = resolve_identities(
        session,
        actor,
        index,
        records,
        system=SPEAKER_SYSTEM,
        warnings=summary.warnings,
        source_id=source_id,
    )
    erased: dict[int, tuple[str, set[str]]] = {}
    for name, (person_id, how) in zip(full, found, strict=True):
        if person_id in index.erased:
            erased.setdefault(person_id, (index.erased[person_id], set()))[1].add(name)
            summary.count("matched to erased people")
        else:
            summary.count("people created" if how == "created" else "speakers matched")
    speakers = {name: person_id for name, (person_id, _) in zip(full, found, strict=True)}
    if words:
        speakers |= _given_names(session, incident_id, words, summary)
    return speakers, erased


def _pseudonymise(rows: list[dict[str, Any]], erased: dict[int, tuple[str, set[str]]]) -> None:
    """Erased people's pseudonyms as their cues' speaker and for their names in the text."""
    scrub = privacy.pseudonymiser(erased.values())
    for row in rows:
        if row["person_id"] in erased:
            row["speaker"] = erased[row["person_id"]][0]
        row["text"] = scrub(row["text"])


def _given_names(
    session: Session, incident_id: int, words: dict[str, str], summary: ImportSummary
) -> dict[str, int]:
    """One-word speakers matched by given name among the incident's people (as the People
    tab counts them); a name shared by several of them, or by none, is left unmatched."""
    bundle = build_incident_evidence(session, incident_id, with_history=False).bundle
    people = {int(key): p.name for key, p in bundle.people.items() if not p.is_bot}
    matched: dict[str, int] = {}
    for name, word in words.items():
        ids = by_given_name(word, people)
        if len(ids) == 1:
            matched[name] = ids[0]
            summary.count("speakers matched by given name")
            continue
        summary.unmatched.append(name)
        among = ", ".join(sorted(people[i] for i in ids))
        summary.warnings.append(
            f'speaker "{name}" is one word and '
            + (
                f"{len(ids)} of the incident's people have that given name ({among})"
                if ids
                else "none of the incident's people has that given name"
            )
            + ": their cues are kept without a person"
        )
    return matched


def _rows(
    cues: list[CueRecord],
    source_id: int,
    incident_id: int,
    speakers: dict[str, int],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for seq, cue in enumerate(cues, start=1):
        speaker = cue.speaker[:200] if cue.speaker else None
        rows.append(
            {
                "source_id": source_id,
                "incident_id": incident_id,
                "seq": seq,
                "start_seconds": cue.start_seconds,
                "end_seconds": cue.end_seconds,
                "at": cue.at,
                "speaker": speaker,
                "person_id": speakers.get(speaker) if speaker else None,
                "text": cue.text,
            }
        )
    return rows
