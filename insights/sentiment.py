"""Comment sentiment from -1 to 1: VADER's lexicon offline for English, a configured model for other languages."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Protocol

from pydantic import BaseModel, Field

from core.errors import LLMUnavailable

log = logging.getLogger(__name__)
BATCH = 25  # comments per model call: a short answer, and one bad batch costs little
MAX_CHARS = 1000  # of one comment sent to the model


class StructuredModel(Protocol):
    """What agents.models.Model offers; core takes the model from the caller and never builds one."""

    def structured(self, schema: type[BaseModel], system: str, user: str) -> BaseModel: ...


class Score(BaseModel):
    number: int = Field(description="the comment's number as given")
    score: float = Field(ge=-1.0, le=1.0, description="-1 negative … 0 neutral … 1 positive")


class Scores(BaseModel):
    scores: list[Score]


def is_english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == "en"


class Scorer:
    """Scores (text, language) pairs; None for a comment nobody could score honestly."""

    def __init__(self, model: StructuredModel | None = None, *, brand: str = "the brand"):
        self.model = model
        self.brand = brand
        self._lexicon = None
        self._lock = threading.Lock()
        self.model_failures = 0

    @property
    def lexicon(self):
        with self._lock:
            if self._lexicon is None:
                # Imported late: the lexicon takes a moment to load and only imports need it.
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                self._lexicon = SentimentIntensityAnalyzer()
            return self._lexicon

    def score(self, items: list[tuple[str, str]]) -> list[float | None]:
        out: list[float | None] = [None] * len(items)
        others: dict[str, list[int]] = defaultdict(list)
        for i, (text, language) in enumerate(items):
            if is_english(language):
                out[i] = round(self.lexicon.polarity_scores(text)["compound"], 4)
            elif self.model is not None:
                others[language.lower()].append(i)
        for language, indexes in others.items():
            for start in range(0, len(indexes), BATCH):
                batch = indexes[start:start + BATCH]
                for i, value in zip(batch, self._ask([items[i][0] for i in batch], language), strict=True):
                    out[i] = value
        return out

    def _ask(self, texts: list[str], language: str) -> list[float | None]:
        import prompts

        numbered = "\n".join(f"{n}. {' '.join(text.split())[:MAX_CHARS]}" for n, text in enumerate(texts, 1))
        system, user = prompts.load("sentiment").render(brand=self.brand, language=language, comments=numbered)
        try:
            answer = self.model.structured(Scores, system, user)  # type: ignore[union-attr]
        except LLMUnavailable as exc:
            self.model_failures += 1
            log.warning("sentiment of %d %s comments left unscored: %s", len(texts), language, exc)
            return [None] * len(texts)
        found = {s.number: s.score for s in answer.scores}  # type: ignore[attr-defined]
        return [found.get(n) for n in range(1, len(texts) + 1)]
