"""Prompt templates: one file per LLM task with `$named` placeholders, loaded by name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

FOLDER = Path(__file__).resolve().parent
TASKS = ("intake", "draft", "revise", "localize", "answer", "sentiment")


@dataclass(frozen=True)
class Prompt:
    name: str
    system: Template
    user: Template

    def render(self, **values: object) -> tuple[str, str]:
        """Fill every placeholder; a missing one is a bug, so it raises KeyError naming it."""
        text = {k: str(v) for k, v in values.items()}
        return self.system.substitute(text), self.user.substitute(text)


@cache
def load(name: str) -> Prompt:
    if name not in TASKS:
        raise KeyError(f"no prompt named {name!r} (known: {', '.join(TASKS)})")
    raw = (FOLDER / f"{name}.md").read_text(encoding="utf-8")
    system, _, user = raw.partition("\n## user\n")
    return Prompt(name, Template(system.removeprefix("## system\n").strip()), Template(user.strip()))
