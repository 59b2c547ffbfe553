"""Comment sentiment from -1 to 1: VADER's lexicon offline for English; other languages through a scorer
the caller gives (the configured model, from agents.sentiment), else left unscored."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

BATCH = 25  # comments per model call: a short answer, and one bad batch costs little

# (texts, language) → a score per text, None where nobody could score it honestly.
OtherLanguages = Callable[[list[str], str], list[float | None]]


def is_english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == "en"


class Scorer:
    """Scores (text, language) pairs; None for a comment nobody could score honestly."""

    def __init__(self, others: OtherLanguages | None = None):
        self.others = others
        self._lexicon = None
        self._lock = threading.Lock()

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
            elif self.others is not None:
                others[language.lower()].append(i)
        for language, indexes in others.items():
            for start in range(0, len(indexes), BATCH):
                batch = indexes[start:start + BATCH]
                for i, value in zip(batch, self.others([items[i][0] for i in batch], language), strict=True):
                    out[i] = value
        return out
