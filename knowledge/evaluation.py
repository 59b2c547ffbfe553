"""Retrieval evaluation: the question set in bench/retrieval_eval.yaml scored as recall@k."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.domain import Passage
from core.errors import ValidationFailed
from knowledge.chunking import SEPARATOR

EVAL_SET = Path(__file__).resolve().parent.parent / "bench" / "retrieval_eval.yaml"
HELD_OUT = EVAL_SET.with_name("retrieval_holdout.yaml")

Search = Callable[[str, int, str | None], list[Passage]]


@dataclass(frozen=True)
class Expected:
    """A passage that should come back: a source and a section title (or a phrase of it)."""

    source: str
    heading: str = ""
    contains: str = ""

    def found_in(self, passage: Passage) -> bool:
        if passage.source != self.source:
            return False
        if self.contains:
            return _squash(self.contains) in _squash(passage.text)
        return self.heading == section_title(passage)

    def __str__(self) -> str:
        return f"{self.source} › {self.heading or repr(self.contains)}"


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    locale: str | None
    expect: tuple[Expected, ...]

    @property
    def kind(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass
class Outcome:
    case: Case
    found: list[Passage]
    missed: list[Expected] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / len(self.case.expect)


def section_title(passage: Passage) -> str:
    """The title of the one section a chunk holds: the last heading of its path."""
    return passage.heading.split(SEPARATOR)[-1].strip()


def load_cases(path: Path = EVAL_SET) -> list[Case]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases = []
    for raw in data["cases"]:
        expect = tuple(
            Expected(e["source"], str(e.get("heading", "")), str(e.get("contains", "")))
            for e in raw["expect"]
        )
        if not expect or any(not (e.heading or e.contains) for e in expect):
            raise ValidationFailed(f"{path}: case {raw.get('id')} needs heading or contains")
        cases.append(Case(str(raw["id"]), str(raw["query"]), raw.get("locale"), expect))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(f"{path}: duplicate case ids")
    return cases


def evaluate(search: Search, cases: Sequence[Case], k: int = 3) -> list[Outcome]:
    """Run every case through `search(query, k, locale)` and note what the top k missed."""
    outcomes = []
    for case in cases:
        found = search(case.query, k, case.locale)[:k]
        missed = [e for e in case.expect if not any(e.found_in(p) for p in found)]
        outcomes.append(Outcome(case, found, missed))
    return outcomes


def recall(outcomes: Sequence[Outcome]) -> float:
    return sum(o.recall for o in outcomes) / len(outcomes) if outcomes else 0.0


def _squash(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()
