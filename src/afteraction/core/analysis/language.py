"""Blame-aware language check (method.md section 3): find phrasing that blames people.

What lives here: `check_text()`, which reads Markdown written by an investigator and returns
`Finding`s (span, category, short reason, suggested rewording), the nine `CATEGORIES`, and
`open_findings()`, which drops findings whose fingerprint was dismissed. Nothing here stores
dismissals, reads files or rewrites text: the check never auto-rewrites.

How: the text is first *masked* (same length, excluded characters turned into spaces) so
that quoted evidence is never judged: fenced and indented code, inline code, block quotes,
text in double or curly quotes, URLs and log lines (timestamp plus level). Headings are judged
leniently (framing words only). Hand-written regular-expression rules then find candidate
phrases, and each rule's guard looks at *whom* the phrase is about with a small subject
classifier over the words before it (pronouns, "the on-call engineer", team words and names
from the people directory vs system nouns such as service, check, request, database). A plain
phrase list reaches high recall but flags about two neutral sentences for every real one;
precision matters more, because a checker that cries wolf gets switched off.

Why hand-written rules and not a library: no maintained Python library checks blaming or
counterfactual language (the closest tool, the `alex` linter, is JavaScript and only knows
condescending words), and core code may import only the standard library.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CATEGORIES: dict[str, str] = {
    "counterfactual": "Counterfactual: what people should, could or would have done",
    "omission": "Omission framed as failure: what people failed to do or did not do",
    "normative": "Normative judgement of people's work (careless, improper, poor decision)",
    "attribution": "Attribution to people (human error, mistake by, fault of, to blame)",
    "single_cause": "Single cause framing (root cause, the cause, caused by a person)",
    "legacy_framing": "Legacy framing (post-mortem, RCA)",
    "interrogation": "Interrogation (why did you…, who broke…)",
    "hindsight": "Hindsight or condescension (obviously, clearly, just restart it)",
    "naming_individuals": "Naming an individual as the one responsible for a failure",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One flagged span. `line`/`column` are 1-based; `end_column` is exclusive and refers
    to `end_line` (the same line unless the phrase wraps). `start`/`end` index the text."""

    line: int
    column: int
    end_column: int
    text: str
    category: str
    message: str
    suggestion: str
    rule: str = ""
    start: int = 0
    end: int = 0
    end_line: int = 0
    fingerprint: str = field(default="", compare=False)


def open_findings(findings: Iterable[Finding], dismissed: Iterable[str]) -> list[Finding]:
    """The findings whose fingerprint is not among the `dismissed` fingerprints."""
    gone = set(dismissed)
    return [f for f in findings if f.fingerprint not in gone]


# ---------------------------------------------------------------- masking

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_BLOCK_QUOTE = re.compile(r"^ {0,3}>")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^\W{0,2}\d\d:\d\d:\d\d\b")
_LEVEL = re.compile(r"\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\b")
_INLINE = re.compile(
    r"(`+)[^`]*?\1"  # code span
    r"|\"[^\"\n]{0,400}?(?:\n(?!\s*\n)[^\"\n]{0,400}?){0,4}\""  # "double quotes"
    r"|“[^”]{0,600}?”"  # curly quotes
    r"|\]\([^)\s]*\)|<?https?://[^\s>)]+>?"  # link targets and URLs
)


def _blank(s: str) -> str:
    return re.sub(r"[^\n]", " ", s)


def _is_log_line(line: str) -> bool:
    return bool(_TIMESTAMP.search(line) and _LEVEL.search(line))


def _mask(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Blank out evidence and code; return the masked text and the heading line spans."""
    out: list[str] = []
    headings: list[tuple[int, int]] = []
    fence: str | None = None
    prev_blank, prev_code, pos = True, False, 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        opener = _FENCE.match(body)
        indented = body.startswith(("    ", "\t")) and not _LIST_ITEM.match(body)
        code = indented and (prev_blank or prev_code) and bool(body.strip())
        if fence is not None or opener:
            if fence is None and opener:
                fence = opener.group(1)[0] * 3
            elif fence is not None and body.strip().startswith(fence):
                fence = None
            out.append(_blank(line))
        elif code or _BLOCK_QUOTE.match(body) or _is_log_line(body):
            out.append(_blank(line))
        else:
            if _HEADING.match(body):
                headings.append((pos, pos + len(line)))
            out.append(line)
        prev_code = code or (prev_code and not body.strip())
        prev_blank = not body.strip()
        pos += len(line)
    masked = "".join(out)
    return _INLINE.sub(lambda m: _blank(m.group(0)), masked), headings


# ---------------------------------------------------------------- subjects

_HUMAN = frozenset(
    "i we you he she they someone somebody anyone anybody nobody everyone everybody one "
    "engineer engineers engineering operator operators responder responders developer "
    "developers dev devs oncall on-call on-caller on-callers oncaller sre sres admin admins "
    "administrator administrators author authors reviewer reviewers review approver approvers "
    "commander ic team teams staff person people human humans dba dbas lead leads manager "
    "managers maintainer maintainers contractor contractors intern employee employees "
    "technician analyst member members colleague colleagues individual ops sysadmin sysadmins "
    "squad crew investigator".split()
)
_SYSTEM = frozenset(
    "it this that these those there service services check checks health request requests "
    "job jobs server servers disk disks deploy deploys deployment deployments pipeline "
    "pipelines database databases db replica replicas primary secondary node nodes cluster "
    "clusters host hosts instance instances pod pods container containers process processes "
    "query queries connection connections cache caches alert alerts alarm alarms page pages "
    "monitor monitors monitoring probe probes balancer balancers lb dns certificate "
    "certificates cert certs build builds test tests script scripts cron task tasks worker "
    "workers queue queues api endpoint endpoints client clients proxy gateway network link "
    "router switch firewall vm vms machine machines system systems migration migrations backup "
    "backups restore snapshot snapshots failover rollout rollback release change changes config "
    "configuration version update upgrade patch batch traffic packets message messages email "
    "emails notification notifications webhook webhooks heartbeat heartbeats lease lock leader "
    "follower shard shards partition partitions volume volumes bucket buckets storage region "
    "zone provider vendor upstream downstream dependency library code commit tool tooling "
    "runbook dashboard dashboards graph graphs metric metrics log logs customer customers user "
    "users app apps application applications site website controller scheduler autoscaler "
    "daemon timeout retry retries limit quota capacity memory cpu rotation schedule escalation "
    "policy canary flag feature bot pager route routes record records resolver ttl index table "
    "rows transaction transactions writes reads replication lag playbook alerting paging "
    "postgres mysql redis kafka nginx haproxy consul etcd envoy s3 ec2 kubernetes k8s terraform "
    "vault jenkins outage incident issue problem bug error errors failure latency load".split()
)
_PRONOUNS = frozenset(
    "i we you he she they someone somebody anyone anybody nobody everyone everybody one it "
    "this that these those there".split()
)
_PREPOSITIONS = frozenset(
    "during after before in on at for from with of by to into within despite without under "
    "over through across about around per via".split()
)
_DETERMINERS = frozenset("the a an this that our their its his her each every some any".split())
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014\u2013]|\s-\s|\b(?:and|but|so|because|since|when|while|although|though|then|"
    r"meant|means|whereas|if|unless|once|until|after|before|as)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][\w'’-]*|\d[\w:.]*")
_NEGATION = frozenset("not no never nobody n't rather instead neither nor".split())

_PP_IRREGULAR = frozenset(
    "been done known seen caught taken run made built written got gotten found kept sent told "
    "thought brought set put read hit cut left held spent understood begun paid shut spun "
    "stood drawn given gone shown withdrawn undone rerun".split()
)
_HUMAN_ACTION = frozenset(
    "checked noticed escalated reviewed tested verified validated paged asked waited read "
    "followed known realised realized caught spotted looked rolled reverted acknowledged "
    "responded communicated informed told called stopped confirmed double-checked investigated "
    "considered anticipated foreseen seen flagged raised declared avoided prevented handled "
    "documented approved blocked staged monitored".split()
)


class _Ctx:
    """Masked text plus the sentence boundaries and name tokens the guards need."""

    def __init__(self, masked: str, headings: list[tuple[int, int]], people: Iterable[str]):
        self.text = masked
        self.headings = headings
        self.names = frozenset(
            part for name in people for part in re.split(r"[\s.]+", name.strip()) if len(part) > 1
        )
        bounds = re.finditer(r"[.!?](?=\s)|\n\s*\n|\n(?=\s*(?:[-*+#|]|\d+[.)])\s)|\|", masked)
        self.bounds = [0, *(m.end() for m in bounds)]

    def sentence_before(self, pos: int) -> str:
        i = bisect.bisect_right(self.bounds, pos) - 1
        return self.text[self.bounds[i] : pos]

    def at_sentence_start(self, pos: int) -> bool:
        return not re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)?\s*", "", self.sentence_before(pos))

    def in_heading(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.headings)

    def word_class(self, word: str) -> str | None:
        if word in self.names:
            return "person"
        low = word.lower().rstrip(".")
        if low.endswith(("'s", "’s", "s'")):
            return None  # possessive: modifies the real head
        if low in _HUMAN:
            return "human"
        if low in _SYSTEM:
            return "system"
        return None

    def classify(self, words: list[str]) -> str:
        """Class of the first subject-like word, skipping prepositional phrases."""
        skip, found = 0, ""
        for word in words:
            low = word.lower()
            if skip:
                skip = skip if low in _DETERMINERS else skip - 1
                if low in _DETERMINERS or self.word_class(word) is None:
                    continue
                skip = 0
                continue
            if low in _PREPOSITIONS:
                skip = 2
                continue
            cls = self.word_class(word)
            if cls and low in _PRONOUNS:
                return found or cls
            if cls:
                found = cls
            elif found:
                return found  # the last noun of a compound is its head: "incident commander"
        return found or "unknown"

    def subject(self, pos: int) -> str:
        """Class of the subject of the verb phrase starting at `pos`."""
        clauses = _CLAUSE_BREAK.split(self.sentence_before(pos))
        for clause in reversed(clauses):
            cls = self.classify(_WORD.findall(clause or ""))
            if cls != "unknown":
                return cls
        return "unknown"

    def words_before(self, pos: int, n: int = 4) -> list[str]:
        clause = _CLAUSE_BREAK.split(self.sentence_before(pos))[-1]
        return [w.lower() for w in _WORD.findall(clause)][-n:]

    def negated(self, pos: int) -> bool:
        words = self.words_before(pos, 3)
        return any(w in _NEGATION or w.endswith(("n't", "n’t")) for w in words) or (
            "one" in words and "no" in words
        )


def _is_participle(word: str) -> bool:
    low = word.lower()
    return low in _PP_IRREGULAR or low.endswith(("ed", "en", "wn"))


# ---------------------------------------------------------------- rules

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
    "mean happen matter apply work change reach".split()
)
_QUANTITY = frozenset("one two three a an the some part half few single small \\d".split())
_FUTURE = re.compile(r"\b(?:each|every|all new|any new|going forward|in future|in the future)\b")
_TARGETS = frozenset(
    "slo slos sla slas target targets deadline window budget objective goal".split()
)
_ATTENTION = frozenset(
    "alert alerts page pages warning warnings notification message email".split()
)


def _did_not(ctx: _Ctx, m: re.Match[str]) -> str | None:
    if m.group("verb").lower() in _STATIVE:
        return None
    return _human_subject(ctx, m)


def _omission_verb(ctx: _Ctx, m: re.Match[str]) -> str | None:
    before = ctx.words_before(m.start(), 2)
    if before and before[-1] in _DETERMINERS:
        return None  # "a missed deadline", "the overlooked setting" is an adjective
    if before and before[-1] in {"was", "were", "been", "being", "is", "are", "be"}:
        if m.group(0).lower() != "missed":
            return ""  # "the warning was ignored": a hidden human actor
        noun = ctx.words_before(m.start(), 2)[0]
        return "" if noun in _ATTENTION else None
    after = _WORD.findall(ctx.text[m.end() : m.end() + 30])[:2]
    if any(w.lower() in _TARGETS for w in after):
        return None  # "we missed our SLO" reports a number, not a lapse
    return _human_subject(ctx, m)


def _failure_to(ctx: _Ctx, m: re.Match[str]) -> str | None:
    before = ctx.words_before(m.start(), 2)
    if not before:
        return None
    owner = before[-1]
    if owner in {"our", "their", "his", "her", "my", "your"}:
        return ""
    if owner.endswith(("'s", "’s")):
        cls = ctx.word_class(owner[:-2]) or ctx.word_class(owner[:-2].capitalize())
        return {"person": "naming_individuals", "human": ""}.get(cls or "")
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
    owner = m.group("owner") or m.group("owner2")
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
     r"|\b(?P<owner2>his|her|their|my|our|your)\s+(?:fault|mistake|oversight)\b", re.I,
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
    ("omission.failed_to", "omission", r"\b(?:failed|fails|fail)\s+to\b", re.I,
     "Frames what a person did not do as a failure.",
     "Say what the person did and what they were attending to: \"The engineer was…\".",
     _human_subject, False),
    ("omission.failure_to", "omission", r"\bfailure\s+to\b", re.I,
     "Frames what people did not do as a failure.",
     "Describe what people were attending to and why.", _failure_to, False),
    ("omission.did_not", "omission",
     r"\b(?:did\s+not|didn['’]t|never)\s+(?:\w+ly\s+)?(?P<verb>\w+)", re.I,
     "Frames what a person did not do as a failure.",
     "Describe what the person did and saw instead.", _did_not, False),
    ("omission.verb", "omission",
     r"\b(?:neglected|forgot|forgotten|overlooked|missed|ignored|omitted)\b", re.I,
     "Frames what a person did not do as a failure.",
     "Describe what the person was attending to at that moment.", _omission_verb, False),
    ("omission.nobody", "omission",
     r"\b(?:no one|no-one|nobody)\s+(?:\w+ly\s+)?(?:noticed|checked|looked|acknowledged|"
     r"responded|caught|reviewed|verified|tested|escalated|bothered|thought)\b", re.I,
     "Frames what nobody did as a collective failure.",
     "Describe what made the signal hard to see or act on.", _always, False),
    ("normative.word", "normative",
     r"\b(?:careless(?:ly|ness)?|sloppy|sloppiness|negligen(?:t|tly|ce)|reckless(?:ly|ness)?|"
     r"lazy|laziness|incompeten(?:t|ce)|irresponsible|improper(?:ly)?|"
     rf"(?:poor(?:ly)?|bad|wrong)\s+{_JUDGED}|lapse\s+in\s+judge?ment|"
     r"lack\s+of\s+(?:care|attention|diligence|discipline|rigou?r|ownership))\b", re.I,
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
     "Drop \"simply\" and describe the steps and what they cost.", _not_system_subject, False),
    ("hindsight.just", "hindsight",
     rf"\bjust\s+(?:{_JUST_VERBS})\b(?!-)|\b(?:could|should|would|might)\s+(?:have\s+)?"
     r"just\s+\w+", re.I,
     "Condescension: \"just\" makes the action sound trivial.",
     "Drop \"just\" and describe what the step involved.", _not_system_subject, False),
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


# ---------------------------------------------------------------- driver

_Hit = tuple[int, int, int, _Rule, str]  # start, end, rule order, rule, category


def check_text(text: str, *, people: Iterable[str] = ()) -> list[Finding]:
    """Find blaming phrasing in Markdown `text`; `people` are names for the naming check."""
    ctx = _Ctx(*_mask(text), people)
    folded = _folded(ctx.text)
    hits: list[_Hit] = []
    for order, rule in enumerate(_RULES):
        for m in _matches(rule, ctx.text, folded):
            if ctx.in_heading(m.start()) and not rule.in_headings:
                continue
            verdict = rule.guard(ctx, m)
            if verdict is not None:
                hits.append((m.start(), m.end(), order, rule, verdict or rule.category))
    return _to_findings(text, _drop_overlaps(hits))


def _drop_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Keep one finding per span: the rule listed first wins."""
    if any(h[0] >= h[1] for h in hits):  # pragma: no cover - every rule matches something
        return _drop_overlaps_slowly(hits)
    # Kept spans never overlap and are not empty, so sorted by start they are sorted by end
    # too: a new span can only overlap the last kept span that starts before it ends.
    starts: list[int] = []
    ends: list[int] = []
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h[2]):
        i = bisect.bisect_left(starts, hit[1])
        if i and ends[i - 1] > hit[0]:
            continue
        starts.insert(i, hit[0])
        ends.insert(i, hit[1])
        kept.append(hit)
    return sorted(kept, key=lambda h: (h[0], h[2]))


def _drop_overlaps_slowly(hits: list[_Hit]) -> list[_Hit]:  # pragma: no cover
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h[2]):
        if all(hit[1] <= k[0] or hit[0] >= k[1] for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: (h[0], h[2]))


def _to_findings(text: str, hits: list[_Hit]) -> list[Finding]:
    line_starts = [0, *(m.end() for m in re.finditer(r"\n", text))]
    seen: dict[str, int] = {}
    findings = []
    for start, end, _order, rule, category in hits:
        line = bisect.bisect_right(line_starts, start)
        end_line = bisect.bisect_right(line_starts, end - 1)
        key = _fingerprint_key(text, start, end, category)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:16]
        findings.append(
            Finding(
                line=line,
                column=start - line_starts[line - 1] + 1,
                end_column=end - line_starts[end_line - 1] + 1,
                text=text[start:end],
                category=category,
                message=rule.message if category == rule.category else _NAMING_MESSAGE,
                suggestion=rule.suggestion if category == rule.category else _NAMING_SUGGESTION,
                rule=rule.rule,
                start=start,
                end=end,
                end_line=end_line,
                fingerprint=digest,
            )
        )
    return findings


_NAMING_MESSAGE = "Names a person as the one who failed."
_NAMING_SUGGESTION = (
    "Describe what the person saw and did, and the conditions around it; "
    "keep the name out of the failure verb."
)


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n\s*\n")


def _fingerprint_key(text: str, start: int, end: int, category: str) -> str:
    """Category + matched words + three words either side: stable across unrelated edits."""

    def norm(s: str) -> list[str]:
        return [w.lower() for w in _WORD.findall(s)]

    before = norm(_SENTENCE_END.split(text[max(0, start - 60) : start])[-1])[-3:]
    after = norm(_SENTENCE_END.split(text[end : end + 60])[0])[:3]
    return "|".join([category, " ".join(norm(text[start:end])), " ".join(before), " ".join(after)])
