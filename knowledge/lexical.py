"""Keyword search (BM25) over guideline chunks, to fuse with the vector search by reciprocal rank.

Small multilingual embedding models miss exact words: a question about "anglicismes" or
"direct trade" ranks the passage that defines the term below ones about the same topic. BM25
on the same text finds it, and reciprocal rank fusion (Cormack et al., 2009; k = 60) merges
the two rankings without having to compare their scores. Parameters are the textbook ones
(k1 = 1.2, b = 0.75), not tuned on Plume's evaluation sets.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from knowledge.language import FUNCTION_WORDS

K1, B = 1.2, 0.75
RRF_K = 60
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lowercase without accents: "Évitez" and "evitez" are the same word to a search box."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


STOPWORDS = frozenset(fold(word) for word in FUNCTION_WORDS)


def terms(text: str) -> list[str]:
    """The words a keyword search matches on: folded, function words dropped, a plural "s" cut."""
    found = []
    for word in _WORD.findall(fold(text)):
        if len(word) < 2 or word in STOPWORDS:
            continue
        found.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return found


class LexicalIndex:
    """BM25 over a fixed set of texts (rebuilt, not updated, when the texts change)."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        self.ids = list(ids)
        counts = [Counter(terms(text)) for text in texts]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        average = float(lengths.mean()) if len(lengths) else 0.0
        self._norm = K1 * (1 - B + B * lengths / average) if average else lengths
        rows: dict[str, list[int]] = defaultdict(list)
        freqs: dict[str, list[int]] = defaultdict(list)
        for row, counted in enumerate(counts):
            for term, n in counted.items():
                rows[term].append(row)
                freqs[term].append(n)
        n_docs = len(self.ids)
        self._postings = {
            term: (
                np.array(rows[term], dtype=np.int32),
                np.array(freqs[term], dtype=np.float32),
                math.log(1 + (n_docs - len(rows[term]) + 0.5) / (len(rows[term]) + 0.5)),
            )
            for term in rows
        }

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """The n best (id, BM25 score) for `query`; texts sharing no word with it are left out."""
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term in set(terms(query)):
            posting = self._postings.get(term)
            if posting is None:
                continue
            rows, tf, idf = posting
            scores[rows] += idf * tf * (K1 + 1) / (tf + self._norm[rows])
        hits = np.flatnonzero(scores)
        best = hits[np.argsort(-scores[hits], kind="stable")[:n]]
        return [(self.ids[i], float(scores[i])) for i in best]


def fuse(rankings: Iterable[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to the ids it holds."""
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, ident in enumerate(ranking, start=1):
            fused[ident] += 1 / (k + rank)
    return dict(fused)
