"""Rule proposals: brand-profile rules found in the guidelines' prose, kept until a human decides.

`plume ingest` reads sentences such as "never say "X"", "avoid "X"", "write "Y", not "X"",
"always include #Tag", "use #ad for partnerships", "n'écrivez jamais « X »", "évitez « X »",
"préférez « Y » à « X »", "« Y » plutôt que « X »", and "avoid | write instead" tables, and
turns each into one small brand.yaml fragment. Prose only yields a word when the guideline
quotes it ("…", “…”, « … »): unquoted prose is too ambiguous to turn into a rule.

Nothing found here changes what Plume does. Proposals wait in PLUME_HOME/proposed_rules.yaml
(rewritten by Plume; edit the kit, not this file). `plume rules` lists those the profile does
not already hold; `plume rules accept N` appends that one rule to the kit's
brand.accepted.yaml (see knowledge.profile), `plume rules dismiss N` hides it for good.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.brand import BrandProfile
from core.errors import NotFound, ValidationFailed
from knowledge.chunking import SEPARATOR, Section
from knowledge.profile import ACCEPTED, accepted_path, load_profile

FILENAME = "proposed_rules.yaml"
MAX_PROSE_WORDS = 4  # a quoted term longer than this is an example sentence, not a word to ban
MAX_TABLE_WORDS = 6
MAX_QUOTE = 240

# --- finding rules in text --------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One candidate rule, as a brand.yaml fragment, with where it was read."""

    rule: dict[str, Any]
    source: str
    heading: str
    quote: str

    @property
    def key(self) -> str:
        return rule_key(self.rule)


_Q = r"(?:\"([^\"\n]{1,80})\"|“([^”\n]{1,80})”|«\s*([^»\n]{1,80}?)\s*»)"  # one quoted term
_QUOTED = re.compile(_Q)
_TAG = r"#[^\W_][\w]*"
_TAG_LIST = rf"({_TAG}(?:\s*(?:,|\bor\b|\band\b|\bou\b|\bet\b)\s*{_TAG})*)"
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
}  # fmt: skip
_N = r"(\d{1,2}|" + "|".join(_NUMBERS) + r")"
_I = re.IGNORECASE

# (pattern, which group is the word to avoid, which group is the replacement)
_SWAPS: list[tuple[re.Pattern[str], int, int]] = [
    (re.compile(rf"\b(?:write|say|use)\s+{_Q}\s*,?\s+(?:not|never|instead of|rather than)\s+{_Q}", _I), 2, 1),
    (re.compile(rf"\breplace\s+{_Q}\s+(?:with|by)\s+{_Q}", _I), 1, 2),
    (re.compile(rf"\b(?:don['’]t|do not|never)\s+(?:say|use|write)\s+{_Q}\s*[,;:]?\s*(?:say|use|write)\s+{_Q}", _I), 1, 2),
    (re.compile(rf"{_Q}\s*,?\s+(?:instead of|rather than)\s+{_Q}", _I), 2, 1),
    (re.compile(rf"\bpréférez\s+{_Q}\s+à\s+{_Q}", _I), 2, 1),
    (re.compile(rf"\bremplacez\s+{_Q}\s+par\s+{_Q}", _I), 1, 2),
    (re.compile(rf"\bécrivez\s+{_Q}\s*,?\s+(?:et\s+)?(?:pas|non|jamais)\s+{_Q}", _I), 2, 1),
    (re.compile(rf"{_Q}\s+plutôt\s+que\s+{_Q}", _I), 2, 1),
]  # fmt: skip
# After one of these, every quoted term up to the end of the sentence is a word to avoid.
_AVOID = re.compile(
    r"\b(?:never|don['’]t|do not)\s+(?:say|write|use|call\s+\w+)\b|\bavoid(?:ing)?\b"
    r"|\bn['’](?:écrivez|utilisez|employez)\s+jamais\b|\bne\s+dites\s+jamais\b|\bévitez\b"
    r"|\bbannissez\b|\bjamais\s+d(?:e|u|es|['’])|\bpas\s+d(?:e|['’])(?=\s*«)",
    _I,
)
_REQUIRED = [
    re.compile(rf"\balways\s+(?:include|add|use|end\s+with|put)\s+{_TAG_LIST}", _I),
    re.compile(rf"{_TAG_LIST}\s+(?:in|on)\s+every\s+post\b", _I),
    re.compile(rf"{_TAG_LIST}\s+dans\s+(?:chaque|toutes\s+les)\s+publications?\b", _I),
    re.compile(rf"\b(?:incluez|ajoutez|mettez|utilisez)\s+toujours\s+{_TAG_LIST}", _I),
]
_FORBIDDEN = [
    re.compile(rf"\b(?:never|don['’]t|do not)\s+use\s+{_TAG_LIST}", _I),
    re.compile(rf"\bn['’]utilisez\s+jamais\s+{_TAG_LIST}", _I),
    re.compile(rf"\bjamais\s+(?:de\s+)?{_TAG_LIST}", _I),
]
_HASHTAG_MAX = [
    re.compile(rf"\b(?:no\s+more\s+than|at\s+most|up\s+to|maximum(?:\s+of)?)\s+{_N}\s+hashtags\b", _I),
    re.compile(rf"\b{_N}\s+(?:mots-dièse|hashtags)\s+au\s+maximum\b", _I),
    re.compile(rf"\b(?:pas\s+plus\s+de|au\s+maximum)\s+{_N}\s+(?:mots-dièse|hashtags)\b", _I),
]  # fmt: skip
_EMOJI_MAX = [
    re.compile(rf"\b(?:no\s+more\s+than|at\s+most|up\s+to|maximum(?:\s+of)?)\s+{_N}\s+emojis?\s+(?:per|in\s+a|in\s+each)\s+post\b", _I),
    re.compile(rf"\b{_N}\s+émojis?\s+au\s+maximum\s+par\s+publication\b", _I),
    re.compile(rf"\b(?:pas\s+plus\s+de|au\s+maximum)\s+{_N}\s+émojis?\s+par\s+publication\b", _I),
]  # fmt: skip
_NO_EMOJI = re.compile(
    r"\b(?:never\s+use|no)\s+emojis?\s*(?:[.;!]|$)|\b(?:n['’]utilisez\s+jamais|aucun)\s+d?['’]?émojis?\s*(?:[.;!]|$)",
    _I,
)
_DISCLOSE = [
    re.compile(
        rf"\b(?:use|add|include|write|put)\s+({_TAG})\s+(?:to|on|for)\s+(?:any|every|all|each)?\s*"
        r"(?:posts?\s+)?(?:about|for|on|with|mentioning)?\s*(?:an?\s+|the\s+)?"
        r"([^\W\d_][\w -]{2,40}?)(?=\s*[,.;:(]|\s+(?:and|or|posts?)\b|$)",
        _I,
    ),
    re.compile(
        rf"\b(?:ajoutez|utilisez|mettez)\s+({_TAG})\s+(?:à|aux|pour|sur)\s+(?:toute|toutes\s+les|chaque|les)?\s*"
        r"(?:publications?\s+)?(?:liées?\s+à|sur|de|d['’])?\s*(?:un|une|les|des|l['’])?\s*"
        r"([^\W\d_][\w -]{2,40}?)(?=\s*[,.;:(]|\s+(?:et|ou)\b|$)",
        _I,
    ),
]
_TABLE_AVOID = re.compile(
    r"avoid|don['’]t|do not|never|banned|instead of|à éviter|évitez|interdit|proscri|jamais", _I
)
_TABLE_USE = re.compile(
    r"instead|write|use|say|prefer|replace|à écrire|écrivez|préf[ée]r|plutôt|remplac|utilisez|dites",
    _I,
)
_MARKUP = re.compile(r"\*\*|__|`")
# Every rule above needs a quote, a hashtag or one of these words: a sentence without any is
# skipped without trying twenty patterns (a 5 MB guide would otherwise take seconds).
_HINT = re.compile(r"[\"“«#]|emoji|émoji|hashtag|mots-dièse", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[^\s\w]*[A-ZÀ-ÖØ-Þ#«\"“])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def find_rules(sections: Iterable[Section], *, source: str) -> list[Finding]:
    """Candidate rules in a document's sections, in reading order, without duplicates."""
    found: dict[str, Finding] = {}
    for section in sections:
        heading = SEPARATOR.join(section.path)
        for quote, rule in _rules_in(section.text):
            finding = Finding(rule, source, heading, _clip(quote))
            found.setdefault(finding.key, finding)
    return list(found.values())


def _rules_in(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    text = _MARKUP.sub("", text)
    for kind, block in _blocks(text):
        if kind == "table":
            yield from _table_rules(block)
        else:
            if not _HINT.search(block):
                continue
            for sentence in _SENTENCE.split(block):
                if _HINT.search(sentence):
                    yield from ((sentence, rule) for rule in _sentence_rules(sentence))


def _blocks(text: str) -> Iterator[tuple[str, Any]]:
    """Paragraphs and list items (wrapped lines joined) and tables (as rows of cells)."""
    lines: list[str] = []
    table: list[list[str]] = []

    def prose() -> Iterator[tuple[str, Any]]:
        if lines:
            yield "prose", " ".join(line.strip() for line in lines)
            lines.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            yield from prose()
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                table.append(cells)
            continue
        if table:
            yield "table", list(table)
            table.clear()
        if not stripped or _LIST_ITEM.match(line) or stripped.startswith(">"):
            yield from prose()
        if stripped:
            lines.append(_LIST_ITEM.sub("", stripped.lstrip("> ")))
    yield from prose()
    if table:
        yield "table", table


def _sentence_rules(sentence: str) -> Iterator[dict[str, Any]]:
    swapped: set[str] = set()
    for pattern, avoid, use in _SWAPS:
        for match in pattern.finditer(sentence):
            terms = _group_terms(match)
            word, replacement = terms[avoid - 1], terms[use - 1]
            if _term(word, MAX_PROSE_WORDS) and _term(replacement, MAX_PROSE_WORDS):
                swapped.update((word.lower(), replacement.lower()))
                yield {"banned": {word: replacement}}
    if trigger := _AVOID.search(sentence):
        for match in _QUOTED.finditer(sentence, trigger.end()):
            word = next(g for g in match.groups() if g is not None).strip()
            if word.lower() not in swapped and _term(word, MAX_PROSE_WORDS):
                yield {"banned": {word: ""}}
    for pattern in _REQUIRED:
        for match in pattern.finditer(sentence):
            for tag in re.findall(_TAG, match.group(1)):
                yield {"hashtags": {"required": [tag]}}
    for pattern in _FORBIDDEN:
        for match in pattern.finditer(sentence):
            for tag in re.findall(_TAG, match.group(1)):
                yield {"hashtags": {"forbidden": [tag]}}
    for pattern in _HASHTAG_MAX:
        if match := pattern.search(sentence):
            yield {"hashtags": {"max": _number(match.group(1))}}
    for pattern in _EMOJI_MAX:
        if match := pattern.search(sentence):
            yield {"emoji": {"max": _number(match.group(1))}}
    if _NO_EMOJI.search(sentence):
        yield {"emoji": {"allowed": False}}
    for pattern in _DISCLOSE:
        for match in pattern.finditer(sentence):
            trigger = _singular(" ".join(match.group(2).split()).lower())
            if trigger and len(trigger.split()) <= 4:
                yield {"disclosures": [{"tag": match.group(1), "when": [trigger]}]}


def _table_rules(rows: list[list[str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    header, body = rows[0], rows[1:]
    avoid = next((i for i, c in enumerate(header) if _TABLE_AVOID.search(c)), None)
    use = next((i for i, c in enumerate(header) if i != avoid and _TABLE_USE.search(c)), None)
    if avoid is None or use is None:
        return
    for row in body:
        if len(row) <= max(avoid, use):
            continue
        words = [w for w in _cell_terms(row[avoid]) if _term(w, MAX_TABLE_WORDS)]
        cell = row[use].strip()
        replacements = [] if cell.startswith("(") else _cell_terms(cell)
        quote = "| " + " | ".join(row) + " |"
        for i, word in enumerate(words):
            if len(replacements) == len(words):
                replacement = replacements[i]
            else:
                replacement = replacements[0] if replacements else ""
            yield quote, {"banned": {word: replacement}}


def _cell_terms(cell: str) -> list[str]:
    parts = re.split(r"\s*(?:,|;|/|\bor\b|\bou\b)\s*", cell)
    return [_unquote(p) for p in parts if _unquote(p)]


def _unquote(text: str) -> str:
    return text.strip().strip("\"“”«»'‘’ ").strip()


def _group_terms(match: re.Match[str]) -> list[str]:
    """The quoted terms of a match, in order (each _Q has three alternative groups)."""
    groups = match.groups()
    return [
        next(g for g in groups[i : i + 3] if g is not None).strip()
        for i in range(0, len(groups), 3)
        if any(g is not None for g in groups[i : i + 3])
    ]


def _term(word: str, max_words: int) -> bool:
    """A word or short phrase a brand lint can look for: letters, no hashtag, no emoji."""
    return (
        0 < len(word.split()) <= max_words
        and len(word) <= 60
        and not word.startswith(("#", "@"))
        and re.fullmatch(r"[\w][\w\s'’.&-]*", word) is not None
    )


def _number(value: str) -> int:
    return int(value) if value.isdigit() else _NUMBERS[value.lower()]


def _singular(phrase: str) -> str:
    words = phrase.split()
    if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def _clip(quote: str) -> str:
    quote = " ".join(quote.split())
    return quote if len(quote) <= MAX_QUOTE else quote[: MAX_QUOTE - 1] + "…"


# --- what a rule says, and whether the profile already has it ---------------------------------


def rule_key(rule: dict[str, Any]) -> str:
    """Identity of a rule: the same banned word with another replacement is the same rule."""
    if "banned" in rule:
        return "banned:" + next(iter(rule["banned"])).lower()
    return json.dumps(rule, sort_keys=True, ensure_ascii=False).lower()


def describe(rule: dict[str, Any]) -> str:
    if "banned" in rule:
        word, replacement = next(iter(rule["banned"].items()))
        return f"avoid “{word}”" + (f" → write “{replacement}”" if replacement else "")
    if "disclosures" in rule:
        entry = rule["disclosures"][0]
        return f"require {entry['tag']} when a post mentions “{entry['when'][0]}”"
    if "hashtags" in rule:
        ((what, value),) = rule["hashtags"].items()
        if what == "max":
            return f"at most {value} hashtags per post"
        return f"{'always include' if what == 'required' else 'never use'} {value[0]}"
    if "emoji" in rule:
        ((what, value),) = rule["emoji"].items()
        return "no emoji" if what == "allowed" else f"at most {value} emoji per post"
    return json.dumps(rule, ensure_ascii=False)


def covered(rule: dict[str, Any], profile: BrandProfile, locale: str = "") -> bool:
    """Whether the profile already enforces the rule (so proposing it would be noise)."""
    if "banned" in rule:
        word = next(iter(rule["banned"])).lower()
        if word in {w.lower() for w in profile.banned}:
            return True
        # A French "write X rather than cold brew" is what the fr glossary already enforces.
        glossaries = [profile.glossary.get(locale, {})] if locale else profile.glossary.values()
        return any(word in {t.lower() for t in terms} for terms in glossaries)
    if "hashtags" in rule:
        ((what, value),) = rule["hashtags"].items()
        if what == "max":
            return profile.hashtags.max == value
        present = {t.lower() for t in getattr(profile.hashtags, what)}
        return value[0].lower() in present
    if "emoji" in rule:
        ((what, value),) = rule["emoji"].items()
        return profile.emoji.allowed == value if what == "allowed" else profile.emoji.max == value
    if "disclosures" in rule:
        entry = rule["disclosures"][0]
        trigger = entry["when"][0].lower()
        return any(
            d.tag.lower() == entry["tag"].lower()
            and any(trigger in w.lower() or w.lower() in trigger for w in d.when)
            for d in profile.disclosures
        )
    return False


# --- the proposals file -----------------------------------------------------------------------

OPEN, ACCEPTED_STATUS, DISMISSED = "open", "accepted", "dismissed"
_HEADER = """\
# Brand-rule proposals that `plume ingest` found in the guidelines' prose.
# Rewritten by Plume; nothing here applies to drafts.
#   plume rules               list the proposals the brand profile does not already hold
#   plume rules accept N      append proposal N to the kit's brand.accepted.yaml
#   plume rules dismiss N     never list proposal N again
"""


@dataclass
class Proposal:
    id: int
    rule: dict[str, Any]
    locale: str = ""
    status: str = OPEN
    found_in: list[dict[str, str]] = field(default_factory=list)  # source, heading, quote

    @property
    def key(self) -> str:
        return rule_key(self.rule)

    @property
    def summary(self) -> str:
        return describe(self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "summary": self.summary,
            "locale": self.locale,
            "status": self.status,
            "found_in": self.found_in,
        }


@dataclass
class Book:
    """The proposals file: proposals with stable numbers, and which file versions were read."""

    path: Path
    proposals: list[Proposal] = field(default_factory=list)
    scanned: dict[str, str] = field(default_factory=dict)  # source -> content hash read
    next_id: int = 1

    @classmethod
    def load(cls, path: Path) -> Book:
        path = Path(path)
        if not path.is_file():
            return cls(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            proposals = [
                Proposal(
                    id=int(p["id"]),
                    rule=dict(p["rule"]),
                    locale=str(p.get("locale", "")),
                    status=str(p.get("status", OPEN)),
                    found_in=list(p.get("found_in", [])),
                )
                for p in data.get("proposals", [])
            ]
            scanned = {str(k): str(v) for k, v in (data.get("scanned") or {}).items()}
            next_id = int(data.get("next_id", 1))
        except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationFailed(
                f"{path} is damaged ({exc}); delete it and run `plume ingest` again to rebuild it"
            ) from None
        return cls(path, proposals, scanned, max([next_id, *(p.id + 1 for p in proposals)]))

    def save(self) -> None:
        data = {
            "next_id": self.next_id,
            "proposals": [
                {k: v for k, v in p.to_dict().items() if k != "summary"} for p in self.proposals
            ],
            "scanned": dict(sorted(self.scanned.items())),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(
            _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        temporary.replace(self.path)

    def needs_scan(self, source: str, digest: str) -> bool:
        return self.scanned.get(source) != digest

    def record(
        self, source: str, digest: str, locale: str, findings: list[Finding]
    ) -> list[Proposal]:
        """Replace what `source` proposed with `findings`; returns the proposals new to the book.

        A rule found again keeps its number and decision; a rule no file mentions any more
        is dropped unless a human already decided it.
        """
        for proposal in self.proposals:
            proposal.found_in = [w for w in proposal.found_in if w.get("source") != source]
        self.scanned[source] = digest
        by_key = {p.key: p for p in self.proposals}
        new = []
        for finding in findings:
            where = {"source": source, "heading": finding.heading, "quote": finding.quote}
            proposal = by_key.get(finding.key)
            if proposal is None:
                proposal = Proposal(self.next_id, finding.rule, locale)
                self.next_id += 1
                self.proposals.append(proposal)
                by_key[proposal.key] = proposal
                new.append(proposal)
            if where not in proposal.found_in:
                proposal.found_in.append(where)
        self._drop_orphans()
        return new

    def remove_source(self, source: str) -> None:
        for proposal in self.proposals:
            proposal.found_in = [w for w in proposal.found_in if w.get("source") != source]
        self.scanned.pop(source, None)
        self._drop_orphans()

    def _drop_orphans(self) -> None:
        """Open proposals no file states any more go; decided ones stay (with their number)."""
        self.proposals = [p for p in self.proposals if p.found_in or p.status != OPEN]

    def pending(self, profile: BrandProfile) -> list[Proposal]:
        """Open proposals the profile does not already enforce, oldest first."""
        return [
            p
            for p in self.proposals
            if p.status == OPEN and p.found_in and not covered(p.rule, profile, p.locale)
        ]

    def get(self, number: int) -> Proposal:
        for proposal in self.proposals:
            if proposal.id == number:
                return proposal
        raise NotFound(f"There is no rule proposal {number} (see `plume rules`).")


def book_path(home: Path) -> Path:
    return Path(home) / FILENAME


def accept(book: Book, number: int, kit: Path, *, actor: str = "plume rules") -> Path:
    """Append proposal `number` to the kit's brand.accepted.yaml; the profile must still load.

    The human-written brand.yaml is never touched. The snippet is appended as its own YAML
    document with a comment saying where the rule came from, so the file reads as a log of
    decisions and hand edits in it survive.
    """
    proposal = book.get(number)
    if proposal.status != OPEN:
        raise ValidationFailed(f"Rule proposal {number} was already {proposal.status}.")
    target = accepted_path(Path(kit))
    before = target.read_text(encoding="utf-8") if target.is_file() else None
    origin = proposal.found_in[0] if proposal.found_in else {}
    lines = [
        "---",
        f"# Proposal {proposal.id}, accepted {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by {actor}: "
        f"{proposal.summary}",
    ]
    if origin:
        lines.append(f"# from {origin.get('source')} › {origin.get('heading')}")
        lines.append("#   " + origin.get("quote", "").replace("\n", " "))
    snippet = (
        "\n".join(lines)
        + "\n"
        + yaml.safe_dump(
            proposal.rule, sort_keys=False, allow_unicode=True, default_flow_style=False
        )
    )
    header = "" if before else _ACCEPTED_HEADER
    prefix = before if before is None or before.endswith("\n") else before + "\n"
    target.write_text(header + (prefix or "") + snippet, encoding="utf-8")
    try:
        load_profile(Path(kit))
    except ValidationFailed:
        if before is None:
            target.unlink()
        else:
            target.write_text(before, encoding="utf-8")
        raise
    proposal.status = ACCEPTED_STATUS
    book.save()
    return target


def dismiss(book: Book, number: int) -> Proposal:
    proposal = book.get(number)
    if proposal.status != OPEN:
        raise ValidationFailed(f"Rule proposal {number} was already {proposal.status}.")
    proposal.status = DISMISSED
    book.save()
    return proposal


_ACCEPTED_HEADER = f"""\
# {ACCEPTED} — brand rules accepted with `plume rules accept N`.
# Plume appends one YAML document per accepted rule and merges them over brand.yaml when it
# loads the profile (lists and word tables are extended, single values replaced). Edit or
# delete entries freely; keep each one valid brand.yaml syntax.
"""
