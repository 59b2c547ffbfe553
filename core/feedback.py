"""Learning from feedback: reasons and edits are kept, and a repeated pattern becomes a proposed rule
(core.rules) that applies to future drafts only once a human accepts it."""

from __future__ import annotations

import difflib
import re
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import rules
from core.brand import BrandProfile
from core.db import now
from core.domain import Action, Decision, Post
from core.models import FeedbackRow

REPEATS = 2  # the same replacement or the same request twice is a pattern worth proposing
MAX_SPAN = 3  # words: longer rewrites are edits of substance, not vocabulary
STOPWORDS = {"a", "an", "the", "and", "or", "to", "of", "in", "on", "for", "le", "la", "les", "l'", "un", "une",
             "de", "des", "du", "et", "ou", "à", "au", "aux", "en"}
_TOKEN = re.compile(r"https?://\S+|[#@]?[\w'’-]+|\S")


def replacements(before: str, after: str) -> list[tuple[str, str]]:
    """Short word-level swaps a human made (a deletion pairs with "")."""
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    swaps = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=[w.lower() for w in old], b=[w.lower() for w in new],
                                                      autojunk=False).get_opcodes():
        if op not in ("replace", "delete") or i2 - i1 > MAX_SPAN or j2 - j1 > MAX_SPAN:
            continue
        # "a cheap" → "an affordable" is two swaps; the article's is grammar, not vocabulary.
        pairs = (zip(old[i1:i2], new[j1:j2], strict=True) if i2 - i1 == j2 - j1 > 1
                 else [(" ".join(old[i1:i2]), " ".join(new[j1:j2]))])
        for removed, added in pairs:
            removed, added = removed.strip(" .,;:!?"), added.strip(" .,;:!?")
            if (re.search(r"\w", removed) and removed.lower() not in STOPWORDS
                    and not removed.startswith(("http", "#", "@"))):
                swaps.append((removed.lower(), added))
    return swaps


def normalize(reason: str) -> str:
    return " ".join(re.sub(r"[^\w\s'’-]", " ", reason.lower()).split())


def record(session: Session, *, before: Post, decision: Decision, profile: BrandProfile) -> list[rules.Rule]:
    """Keep what a human said or changed; return the rules this made worth proposing (new ones only)."""
    action = Action(decision.action)
    if action is Action.EDIT and decision.text and decision.text.strip() != before.text:
        kind, reason, after = "edit", decision.reason, decision.text.strip()
    elif action in (Action.REQUEST_CHANGES, Action.REJECT) and decision.reason.strip():
        kind, reason, after = "reason", decision.reason.strip(), ""
    else:
        return []
    session.add(FeedbackRow(at=now(), actor=decision.actor, post_id=before.id, network=before.network,
                            locale=before.locale, kind=kind, reason=reason, before=before.text, after=after))
    session.flush()
    return propose(session, profile=profile)


def propose(session: Session, *, profile: BrandProfile) -> list[rules.Rule]:
    rows = list(session.scalars(select(FeedbackRow)))
    swaps = Counter(s for r in rows if r.kind == "edit" for s in set(replacements(r.before, r.after)))
    asked = Counter(normalize(r.reason) for r in rows if r.kind == "reason" and normalize(r.reason))
    banned = {w.lower() for w in profile.banned}
    # Words of the brand's own names are never proposed for banning, even one at a time.
    protected = {w for t in profile.do_not_translate + profile.spellings for w in t.lower().split()}
    candidates = [
        ({"banned": {word: added}}, f"replaced “{word}”" + (f" with “{added}”" if added else "") + f" in {n} edits")
        for (word, added), n in swaps.items()
        if n >= REPEATS and word not in banned and word not in protected
    ] + [
        ({"reviewer_notes": [reason]}, f"asked {n} times in change requests or rejections")
        for reason, n in asked.items() if n >= REPEATS
    ]
    fresh = (rules.propose(session, rule=rule, evidence=evidence, source=rules.FEEDBACK)
             for rule, evidence in candidates)
    return [rule for rule in fresh if rule is not None]
