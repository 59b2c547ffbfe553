"""Comment sentiment by the configured model, for languages the offline lexicon does not read
(insights.sentiment.Scorer asks it; every model call belongs with the agents)."""

from __future__ import annotations

import logging

import prompts
from agents.models import Model
from agents.schemas import Scores
from core.errors import LLMUnavailable

log = logging.getLogger(__name__)
MAX_CHARS = 1000  # of one comment sent to the model


class ModelSentiment:
    """`scores(texts, language)`: -1…1 per comment, None for one the model did not score."""

    def __init__(self, model: Model, *, brand: str = "the brand"):
        self.model = model
        self.brand = brand
        self.failures = 0  # calls that failed: their comments stay unscored

    def __call__(self, texts: list[str], language: str) -> list[float | None]:
        numbered = "\n".join(f"{n}. {' '.join(text.split())[:MAX_CHARS]}" for n, text in enumerate(texts, 1))
        system, user = prompts.load("sentiment").render(brand=self.brand, language=language, comments=numbered)
        try:
            answer: Scores = self.model.structured(Scores, system, user)
        except LLMUnavailable as exc:
            self.failures += 1
            log.warning("sentiment of %d %s comments left unscored: %s", len(texts), language, exc)
            return [None] * len(texts)
        found = {s.number: s.score for s in answer.scores}
        return [found.get(n) for n in range(1, len(texts) + 1)]
