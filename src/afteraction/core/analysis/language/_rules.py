"""The hand-written rules: each a pattern, a category, a short reason, a suggested
rewording and a guard that looks at whom the phrase is about; plus the case-folding fast
path that scans case-insensitive patterns over lowered text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from afteraction.core.analysis.language._subjects import (
    _DETERMINERS,
    _HUMAN_ACTION,
    _WORD,
    _Ctx,
    _is_participle,
)

_Guard = Callable[[_Ctx, "re.Match[str]"], str | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: str
    category: str
    pattern: re.Pattern[str]
    message: str
    suggestion: str
    guard: _Guard
    in_headings: bool = False
    scan: re.Pattern[str] | None = None  # case-insensitive rules: the same, for folded text


def _always(_ctx: _Ctx, _m: re.Match[str]) -> str | None:
    return ""


def _not_negated(ctx: _Ctx, m: re.Match[str]) -> str | None:
    return None if ctx.negated(m.start()) else ""


def _human_subject(ctx: _Ctx, m: re.Match[str]) -> str | None:
    cls = ctx.subject(m.start())
    if cls == "person":
        return "naming_individuals"
    return "" if cls == "human" else None


def _named_or_human(category: str) -> _Guard:
    def guard(ctx: _Ctx, m: re.Match[str]) -> str | None:
        found = _human_subject(ctx, m)
        return found if found == "naming_individuals" else (category if found == "" else None)

    return guard


_STATIVE = frozenset(
    "have has need want exist appear seem know receive get expect anticipate realise realize "
    "mean happen matter apply work change reach learn affect impact cause occur result".split()
)
_ORG_VERBS = frozenset(
    "communicate notify inform tell warn escalate designate assign prioritise prioritize "
    "consult approve heed".split()
)
_CONDITION = re.compile(r"\b(?:if|unless|whether)\s+\w+\s*$", re.IGNORECASE)
_QUANTITY = frozenset("one two three a an the some part half few single small \\d".split())
_FUTURE = re.compile(r"\b(?:each|every|all new|any new|going forward|in future|in the future)\b")
_TARGETS = frozenset(
    "slo slos sla slas target targets deadline window budget objective goal".split()
)
_ATTENTION = frozenset(
    "alert alerts page pages warning warnings notification message email".split()
)


def _did_not(ctx: _Ctx, m: re.Match[str]) -> str | None:
    verb = m.group("verb").lower()
    if verb in _STATIVE or _CONDITION.search(ctx.sentence_before(m.start())):
        return None  # "if they did not identify…" sets a condition, it judges no one
    if ctx.at_sentence_start(m.start()) and m.group(0)[0].isupper():
        return ""  # "Did not disable the pipeline": a note with the actor left out
    found = _human_subject(ctx, m)
    if found is None and verb in _ORG_VERBS and ctx.subject(m.start()) == "unknown":
        return ""  # "the provider did not communicate": people decide to communicate
    return found


_NOT_YET = frozenset(
    "needed required experienced encountered observed noticed expected anticipated "
    "happened occurred changed received reached".split()
)


def _have_not(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if m.group("verb").lower() in _NOT_YET:
        return None
    return _human_subject(ctx, m)


def _omission_verb(ctx: _Ctx, m: re.Match[str]) -> str | None:
    before = ctx.words_before(m.start(), 2)
    if before and before[-1] in _DETERMINERS:
        return None  # "a missed deadline", "the overlooked setting" is an adjective
    if before == ["to", "be"] and ctx.subject(m.start()) == "system":
        return None  # "a bug caused the clause to be ignored"
    if before and before[-1] in {"was", "were", "been", "being", "is", "are", "be"}:
        if m.group(0).lower() != "missed":
            return ""  # "the warning was ignored": a hidden human actor
        noun = ctx.words_before(m.start(), 2)[0]
        return "" if noun in _ATTENTION else None
    after = _WORD.findall(ctx.text[m.end() : m.end() + 30])[:2]
    if any(w.lower() in _TARGETS for w in after):
        return None  # "we missed our SLO" reports a number, not a lapse
    return _human_subject(ctx, m)


def _failed_to(ctx: _Ctx, m: re.Match[str]) -> str | None:
    before = ctx.words_before(m.start(), 1)
    if before == ["for"] and m.group(0).lower().startswith("failing"):
        return ""  # "responsibility for failing to", "blamed for failing to"
    if before and before[0] in {"will", "would", "may", "might", "can", "could"}:
        return None  # "the node will fail to ship logs" predicts, it judges no one
    return _human_subject(ctx, m)


def _failure_to(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if m.group("who"):
        cls = ctx.classify(_WORD.findall(m.group("who")))
        return {"person": "naming_individuals", "human": ""}.get(cls)
    before = ctx.words_before(m.start(), 2)
    if not before:
        return None
    owner = before[-1]
    if owner in {"our", "their", "his", "her", "my", "your"}:
        return ""
    if owner.endswith(("'s", "’s")):
        kind = ctx.word_class(owner[:-2]) or ctx.word_class(owner[:-2].capitalize())
        return {"person": "naming_individuals", "human": ""}.get(kind or "")
    return None


def _modal(ctx: _Ctx, m: re.Match[str]) -> str | None:
    modal, first, second = m.group("modal").lower(), m.group("w1"), m.group("w2") or ""
    sentence = ctx.sentence_before(m.start()).lower()
    cls = ctx.subject(m.start())
    if m.group("neg") and first.lower() in {"known", "foreseen", "predicted"}:
        return None  # "could not have known" defends the person
    if first.lower() == "been" and second.lower() in {"avoided", "prevented"}:
        return "naming_individuals" if cls == "person" else ""
    if cls == "person" and _is_participle(first):
        return "naming_individuals"
    if modal in {"would", "could"}:
        if ctx.negated(m.start()):
            return None  # "nobody could have predicted" defends the people involved
        blocked = first.lower() in {"had", "needed", "required", "taken", "liked", "wanted"}
        return "" if cls == "human" and _is_participle(first) and not blocked else None
    if _FUTURE.search(sentence):
        return None
    if first.lower() == "been":
        passive = _is_participle(second) and second.lower().endswith("ed")
        return "" if cls == "human" or passive or second.lower() in _HUMAN_ACTION else None
    if not _is_participle(first):
        return None
    if cls == "human" or (cls == "unknown" and first.lower() in _HUMAN_ACTION):
        return ""
    return None


def _if_only(_ctx: _Ctx, m: re.Match[str]) -> str | None:
    nxt = m.group("next").lower()
    return None if nxt in _QUANTITY or nxt[0].isdigit() else ""


def _had_subject(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if not _is_participle(m.group("pp") or m.group("pp2")):
        return None
    cls = ctx.classify(_WORD.findall(m.group("subj") or m.group("subj2")))
    return {"person": "naming_individuals", "human": ""}.get(cls)


def _followed_by_human(ctx: _Ctx, m: re.Match[str]) -> str | None:
    cls = ctx.classify(_WORD.findall(ctx.text[m.end() : m.end() + 40])[:4])
    return {"person": "naming_individuals", "human": ""}.get(cls)


def _not_system(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if ctx.negated(m.start()):
        return None
    cls = ctx.subject(m.start())
    return None if cls == "system" else ("naming_individuals" if cls == "person" else "")


def _possessive_human(ctx: _Ctx, m: re.Match[str]) -> str | None:
    owner = m.group("owner") or m.group("owner2") or m.group("owner3")
    if ctx.negated(m.start()):
        return None
    if owner.lower() in {"his", "her", "their", "my", "our", "your"}:
        return ""
    cls = ctx.word_class(owner)
    return {"person": "naming_individuals", "human": ""}.get(cls or "")


def _interrogation(ctx: _Ctx, m: re.Match[str]) -> str | None:
    cls = ctx.classify(_WORD.findall(m.group("who") + (m.group("more") or "")))
    return "" if cls in {"human", "person"} else None


def _at_start(ctx: _Ctx, m: re.Match[str]) -> str | None:
    return "" if ctx.at_sentence_start(m.start()) else None


_CAPACITY = frozenset(
    "capacity headroom memory disk space buffer quota throughput bandwidth timeout timeouts "
    "limit limits resources cpu storage connection connections pool sizing".split()
)


def _inadequate(ctx: _Ctx, m: re.Match[str]) -> str | None:
    nxt = _WORD.findall(ctx.text[m.end() : m.end() + 30])
    if nxt and nxt[0].lower() in _CAPACITY:
        return None
    return _not_negated(ctx, m)


def _clearly(ctx: _Ctx, m: re.Match[str]) -> str | None:
    before = ctx.words_before(m.start(), 1)
    nxt = _WORD.findall(ctx.text[m.end() : m.end() + 30])
    manner = {"defined", "labelled", "labeled", "marked", "named", "scoped", "separated", "visible"}
    if before and before[0] in {"to", "more", "less", "very", "not", "be", "should", "must"}:
        return None
    if nxt and nxt[0].lower() in manner:
        return None
    return ""


def _not_system_subject(ctx: _Ctx, m: re.Match[str]) -> str | None:
    return None if ctx.subject(m.start()) == "system" else ""


def _simply(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if ctx.words_before(m.start(), 1) == ["by"]:
        return None  # "by simply adding a year" describes a method
    return _not_system_subject(ctx, m)


def _just(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if not ctx.words_before(m.start(), 1):
        return ""  # "…, just roll it back": an order, whoever the sentence was about
    return _not_system_subject(ctx, m)


_JUST_VERBS = (
    r"restart|reboot|roll|revert|rerun|re-run|run|check|look|read|use|click|flip|turn|add|"
    r"delete|remove|bump|increase|scale|page|ask|fix|apply|retry|kill|drain|switch|redeploy|"
    r"update|follow|call|grep|tail|open|disable|enable|set|do|wait|ping|escalate|clear|purge|"
    r"restore|promote|failover|fail over|reload|rotate|renew"
)


_N = r"(?:n['’]t|\s+not|\s+never)"
_NOT_PROPER = r"(?:not|n['’]t|never|without)\s+(?:being\s+|been\s+)?properly"
_PROPER_NOUN = r"proper\s+(?:procedure|process|protocol|channels|review|testing|care|steps|way)"
_JUDGED = r"(?:judge?ment|decisions?|choices?|calls?)"
_PRACTICE = r"(?:strategy|planning|communication|coordination|handling|execution|oversight)"

# fmt: off
_TABLE: tuple[tuple[str, str, str, int, str, str, _Guard, bool], ...] = (
    ("legacy.rca_phrase", "legacy_framing", r"\broot[-\s]cause[-\s]analys[ie]s\b", re.I,
     "\"Root cause analysis\" frames the review as a hunt for one cause.",
     "Say \"learning review\" or \"incident report\".", _always, True),
    ("legacy.postmortem", "legacy_framing", r"\bpost[-\s]?mortems?\b", re.I,
     "\"Post-mortem\" is a legacy label that frames the review around a death.",
     "Say \"learning review\" or \"incident report\".", _always, True),
    ("legacy.rca", "legacy_framing", r"\bRCAs?\b", 0,
     "\"RCA\" frames the review as a hunt for one root cause.",
     "Say \"learning review\" or \"incident report\".", _always, True),
    ("interrogation.why", "interrogation",
     rf"\bwhy\s+(?:did|do|would|were|was|had|have){_N}?\s+(?P<who>(?:the\s+)?[\w'’-]+)"
     r"(?=(?P<more>\s+[\w-]+)?)", re.I,
     "\"Why did you…\" asks a person to justify themselves.",
     "Ask \"what\" or \"how\": \"What were you looking at when…\", \"How did you know…\".",
     _interrogation, False),
    ("interrogation.who", "interrogation",
     r"\b(?:who\s+(?:broke|caused|approved|pushed|merged|forgot|missed|skipped|ignored|"
     r"signed off|messed up|screwed up|let|allowed|(?:is|was) (?:responsible|to blame)|"
     r"did this)|whose\s+(?:fault|mistake|change|error))\b", re.I,
     "Asking who did it looks for someone to blame.",
     "Ask what happened and what made it possible: \"What led to the change being merged?\"",
     _at_start, False),
    ("single_cause.root_cause", "single_cause", r"\broot[- ]?caus(?:e[sd]?|ing)\b", re.I,
     "\"Root cause\" implies a single cause; incidents have several contributors.",
     "Say \"contributors\" or \"contributing factors\".", _always, True),
    ("single_cause.primary", "single_cause",
     r"\b(?:primary|sole|single|main|ultimate|real|true) cause\b|\bthe cause (?:of|was|is)\b"
     r"|\bwas the cause\b", re.I,
     "Naming one cause hides the other conditions that had to be true.",
     "Say \"one of the contributors\" and list the others.", _not_negated, True),
    ("single_cause.caused_by_person", "single_cause", r"\bcaused by\b", re.I,
     "Says a person caused the incident.",
     "Describe the conditions and the action in context, not the person as the cause.",
     _followed_by_human, False),
    ("attribution.error", "attribution",
     r"\b(?:human|operator|user|pilot|engineer|people|personnel) errors?\b", re.I,
     "\"Human error\" ends the inquiry where it should start.",
     "Describe what the person saw and why the action made sense at the time.",
     _not_negated, True),
    ("attribution.mistake_by", "attribution", r"\bmistakes?\s+(?:by|of)\b", re.I,
     "Frames the event as a person's mistake.",
     "Describe the action and what made it reasonable at the time.", _followed_by_human, False),
    ("attribution.made_mistake", "attribution",
     r"\bmade\s+(?:an?\s+|the\s+|some\s+|several\s+|one\s+)?(?:\w+\s+)?mistakes?\b", re.I,
     "Frames the event as a person's mistake.",
     "Describe the action and what made it reasonable at the time.", _not_system, False),
    ("attribution.by_mistake", "attribution", r"\bby mistake\b", re.I,
     "Frames the action as a mistake.",
     "Describe the action and what made it look right at the time.", _not_negated, False),
    ("attribution.fault", "attribution",
     r"\b(?P<owner>\w+)['’]s\s+(?:fault|mistake|error|oversight|blunder)\b"
     r"|\b(?P<owner2>his|her|their|my|our|your)\s+(?:fault|mistake|oversight)\b"
     r"|\b(?P<owner3>my|our)\s+bad\b(?=\s*(?:[.,;:!—-]|$|(?:as|because|since|here)\b))", re.I,
     "Assigns fault to a person.", "Describe the conditions, not whose fault it was.",
     _possessive_human, False),
    ("attribution.blame", "attribution",
     r"\b(?:to blame|at fault|fault of|blamed|blaming|blame (?:for|on|lies|the))\b(?!-)", re.I,
     "Assigns blame.", "Describe what happened and what made it possible.",
     _not_system, False),
    ("attribution.failure_verb", "attribution",
     r"\b(?:broke|caused|took down|brought down|messed up|screwed up|botched|"
     r"mistakenly|accidentally|wrongly|carelessly)\b", re.I,
     "Makes a person the subject of the failure.",
     "Describe the action, what the person knew then, and the conditions around it.",
     _named_or_human("attribution"), False),
    ("counterfactual.modal", "counterfactual",
     rf"\b(?P<modal>should|could|would|ought\s+to)(?P<neg>{_N})?\s*(?:have|['’]ve)\s+"
     r"(?P<w1>[\w-]+)(?=(?:\s+(?P<w2>[\w-]+))?)", re.I,
     "Counterfactual: judges people against what they could not know at the time.",
     "Describe what people did and why it made sense then: \"The engineer chose…\".",
     _modal, False),
    ("counterfactual.if_only", "counterfactual", r"\bif only(?=\s+(?P<next>[\w'’]+))", re.I,
     "\"If only\" imagines a different past instead of explaining this one.",
     "Describe what happened and what made it hard to see.", _if_only, False),
    ("counterfactual.had", "counterfactual",
     r"\b(?:Had|[Ii]f)\s+(?P<subj>(?:[\w'’-]+\s+){1,4}?)had\s+(?:not\s+)?(?P<pp>[\w-]+)"
     r"|\bHad\s+(?P<subj2>(?:[\w'’-]+\s+){1,4}?)(?P<pp2>[\w-]+ed|known|seen|done)\b", 0,
     "Counterfactual: builds an imagined past to judge the real one.",
     "Describe what people saw and did, and what made the outcome possible.",
     _had_subject, False),
    ("omission.failed_to", "omission", r"\b(?:failed|fails|fail|failing)\s+to\b", re.I,
     "Frames what a person did not do as a failure.",
     "Say what the person did and what they were attending to: \"The engineer was…\".",
     _failed_to, False),
    ("omission.failure_to", "omission",
     r"\bfailure\s+(?:of\s+(?P<who>(?:the\s+|an?\s+)?[\w-]+(?:\s+[\w-]+)?)\s+)?to\b", re.I,
     "Frames what people did not do as a failure.",
     "Describe what people were attending to and why.", _failure_to, False),
    ("omission.did_not", "omission",
     r"\b(?:did\s+not|didn['’]t|never)\s+(?:\w+ly\s+)?(?P<verb>\w+)", re.I,
     "Frames what a person did not do as a failure.",
     "Describe what the person did and saw instead.", _did_not, False),
    ("omission.have_not", "omission",
     rf"\b(?:have|has|had){_N}\s+(?:yet\s+|still\s+|ever\s+)?(?P<verb>\w+ed|done)\b", re.I,
     "Frames what people have not done as a failure.",
     "Describe what people did and what stood in the way.", _have_not, False),
    ("omission.verb", "omission",
     r"\b(?:neglected|forgot|forgotten|overlooked|missed|ignored|omitted)\b", re.I,
     "Frames what a person did not do as a failure.",
     "Describe what the person was attending to at that moment.", _omission_verb, False),
    ("omission.not_heeded", "omission",
     r"\b(?:not|never)\s+(?:acted\s+(?:on|upon)|heeded)\b", re.I,
     "Frames what people did not do with a warning as a failure.",
     "Describe what people were attending to, and what made the warning hard to act on.",
     _always, False),
    ("omission.nobody", "omission",
     r"\b(?:no one|no-one|nobody)\s+(?:\w+ly\s+)?(?:noticed|checked|looked|acknowledged|"
     r"responded|caught|reviewed|verified|tested|escalated|bothered|thought)\b", re.I,
     "Frames what nobody did as a collective failure.",
     "Describe what made the signal hard to see or act on.", _always, False),
    ("normative.word", "normative",
     r"\b(?:careless(?:ly|ness)?|sloppy|sloppiness|negligen(?:t|tly|ce)|reckless(?:ly|ness)?|"
     r"lazy(?!\s+load)|laziness|incompeten(?:t|ce)|irresponsible|improper(?:ly)?|"
     rf"(?:poor(?:ly)?|bad|wrong)\s+{_JUDGED}|lapse\s+in\s+judge?ment|"
     rf"poor\s+(?:[\w-]+\s+)?{_PRACTICE}|"
     r"lack\s+of\s+(?:care|attention|diligence|discipline|rigou?r|ownership))\b(?!-)", re.I,
     "Judges people's work instead of describing it.",
     "Describe what was done and the conditions around it.", _not_negated, False),
    ("normative.inadequate", "normative", r"\binadequate(?:ly)?\b", re.I,
     "Judges people's work as inadequate.",
     "Describe the gap concretely: what was tested or reviewed, and what was not.",
     _inadequate, False),
    ("normative.proper", "normative", rf"\b(?:{_NOT_PROPER}|{_PROPER_NOUN})\b", re.I,
     "Judges against an assumed \"proper\" way.",
     "Describe what was done and what the written procedure said.", _always, False),
    ("hindsight.obviously", "hindsight",
     r"\b(?:obviously|of course|every(?:one|body) kn(?:ows|ew)|common sense|needless to say|"
     r"goes without saying|(?:was|is|seemed|been)\s+obvious)\b", re.I,
     "Hindsight: it was not obvious to the people in the situation.",
     "Drop the word, or say what made it visible afterwards.", _not_negated, False),
    ("hindsight.clearly", "hindsight", r"\bclearly\b", re.I,
     "Hindsight: it is clear now, not necessarily then.",
     "Drop \"clearly\", or say what the person could see at the time.", _clearly, False),
    ("hindsight.simply", "hindsight", r"\bsimply\b(?!\s+put)", re.I,
     "Condescension: makes the action sound trivial.",
     "Drop \"simply\" and describe the steps and what they cost.", _simply, False),
    ("hindsight.just", "hindsight",
     rf"\bjust\s+(?:{_JUST_VERBS})\b(?!-)|\b(?:could|should|would|might)\s+(?:have\s+)?"
     r"just\s+\w+", re.I,
     "Condescension: \"just\" makes the action sound trivial.",
     "Drop \"just\" and describe what the step involved.", _just, False),
)
# fmt: on
_RULES = tuple(
    _Rule(
        rule,
        cat,
        re.compile(pat, flags),
        msg,
        sug,
        guard,
        heads,
        re.compile(pat, flags & ~re.IGNORECASE) if flags & re.IGNORECASE else None,
    )
    for rule, cat, pat, flags, msg, sug, guard, heads in _TABLE
)

# Case-insensitive patterns run about a third faster as case-sensitive ones over text whose
# ASCII letters were lowered (every such pattern is written in lower case). The only other
# characters that IGNORECASE equates with ASCII letters are these four; text holding one of
# them is scanned the slow way.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_UNFOLDABLE = re.compile("[\u0130\u0131\u017f\u212a]")


def _folded(text: str) -> str | None:
    """`text` with ASCII letters lowered (same length), or None when it cannot stand in."""
    if text.isascii():
        return text.lower()
    return None if _UNFOLDABLE.search(text) else text.translate(_ASCII_LOWER)


def _matches(rule: _Rule, text: str, folded: str | None) -> Iterable[re.Match[str]]:
    """What `rule.pattern.finditer(text)` finds. Folded text is scanned case-sensitively and
    each hit matched again on `text`, so guards see the original letters."""
    if rule.scan is None or folded is None:
        return rule.pattern.finditer(text)
    found = []
    for hit in rule.scan.finditer(folded):
        match = rule.pattern.match(text, hit.start())
        if match is None or match.end() != hit.end():  # pragma: no cover - cannot happen
            return rule.pattern.finditer(text)
        found.append(match)
    return found
