"""Brand-profile rules stated in the guidelines' prose, found for a human to accept (core.rules).

`plume ingest` reads sentences such as "never say "X"", "avoid "X"", "write "Y", not "X"",
"always include #Tag", "use #ad for partnerships", "n'écrivez jamais « X »", "évitez « X »",
"préférez « Y » à « X »", "« Y » plutôt que « X »", and "avoid | write instead" tables, and
turns each into one small brand.yaml fragment. Prose only yields a word when the guideline
quotes it ("…", “…”, « … »): unquoted prose is too ambiguous to turn into a rule.

Nothing found here changes what Plume does: `plume ingest` stores each finding as a proposal
in core.rules, beside the rules learned from reviewers' feedback, and an approver accepts or
dismisses it (`plume rules`, the shell's `proposals`, Slack's App Home).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from core.rules import Finding, rule_key
from knowledge.chunking import SEPARATOR, Section

MAX_PROSE_WORDS = 4  # a quoted term longer than this is an example sentence, not a word to ban
MAX_TABLE_WORDS = 6
MAX_QUOTE = 240

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


def find_rules(sections: Iterable[Section]) -> list[Finding]:
    """Candidate rules in a document's sections, in reading order, without duplicates."""
    found: dict[str, Finding] = {}
    for section in sections:
        heading = SEPARATOR.join(section.path)
        for quote, rule in _rules_in(section.text):
            found.setdefault(rule_key(rule), Finding(rule, heading, _clip(quote)))
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
