"""What the model must return for each task (structured output schemas, enumerated where it matters)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.domain import LOCALES, NETWORKS

NetworkName = Literal[NETWORKS]  # type: ignore[valid-type]
LocaleCode = Literal[tuple(LOCALES)]  # type: ignore[valid-type]


class BriefFields(BaseModel):
    """The brief, structured."""

    goal: str = Field(description="what the post should achieve, in a few words")
    key_message: str = Field(description="the one message the audience must get, one or two sentences")
    networks: list[NetworkName] = Field(default_factory=list, description="networks named in the brief")
    locales: list[LocaleCode] = Field(default_factory=list, description="languages wanted, the brief's own first")
    publish_after: str | None = Field(None, description="ISO 8601 datetime with offset, or null")
    links: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list, description="explicit constraints such as 'no emoji'")


class DraftedPost(BaseModel):
    network: NetworkName
    text: str = Field(description="the complete post, hashtags and links included")
    media_idea: str = Field("", description="a picture or video idea, one line")
    rationale: str = Field("", description="one line: why this draft fits the brand and the network")
    cited: list[str] = Field(default_factory=list, description="ids of the guideline passages used")


class Drafts(BaseModel):
    """One draft per requested network."""

    posts: list[DraftedPost]


class RevisedPost(BaseModel):
    key: str = Field(description="the draft's key exactly as given, e.g. linkedin:en")
    text: str


class Revisions(BaseModel):
    """The revised text of every draft given."""

    posts: list[RevisedPost]


class Score(BaseModel):
    number: int = Field(description="the comment's number as given")
    score: float = Field(ge=-1.0, le=1.0, description="-1 negative … 0 neutral … 1 positive")


class Scores(BaseModel):
    """Sentiment of numbered comments."""

    scores: list[Score]
