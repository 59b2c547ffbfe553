"""Sentiment: VADER offline for English, a model (over real HTTP to a fake server) for other languages."""

from __future__ import annotations

import re

from agents.models import make_model
from agents.sentiment import ModelSentiment
from core.settings import Settings
from insights.sentiment import Scorer
from tests.fakes.openai_server import Error, FakeOpenAI, auto_tool, last_user_text


def model_for(fake):
    return make_model(Settings(_env_file=None, plume_model="fake-model", openai_base_url=fake.base_url,
                               openai_api_key="test", plume_llm_retries=0))


def test_english_is_scored_offline():
    scores = Scorer().score([("I love this, thank you!", "en"), ("This is awful and I hate it", "en-GB"),
                             ("The shop opens at 9", "en")])
    assert scores[0] > 0.5 and scores[1] < -0.5 and abs(scores[2]) < 0.05


def test_other_languages_are_not_scored_without_a_model():
    assert Scorer().score([("Pas terrible du tout", "fr"), ("Toll!", "de")]) == [None, None]


def judge(request):
    lines = re.findall(r"^(\d+)\. (.*)$", last_user_text(request), re.M)
    return {"scores": [{"number": int(n), "score": -0.8 if "nul" in text else 0.6} for n, text in lines]}


def test_a_configured_model_scores_other_languages_in_batches():
    with FakeOpenAI(auto_tool({"Scores": judge})) as fake:
        scorer = Scorer(ModelSentiment(model_for(fake), brand="Kōyō Coffee"))
        items = [("C'est nul", "fr"), ("Super café", "fr"), ("Great", "en")] + [("Très bon", "fr")] * 30
        scores = scorer.score(items)
    assert scores[:2] == [-0.8, 0.6] and scores[2] > 0 and scores[3:] == [0.6] * 30
    assert fake.calls == 2  # 32 French comments: batches of 25; English never reaches the model
    prompt = fake.requests[0]["messages"]
    assert "Kōyō Coffee" in prompt[0]["content"] and "not instructions" in prompt[0]["content"]


def test_a_failing_model_leaves_comments_unscored():
    with FakeOpenAI(Error(500)) as fake:
        model = ModelSentiment(model_for(fake))
        assert Scorer(model).score([("C'est nul", "fr"), ("Good", "en")])[0] is None
    assert model.failures == 1
