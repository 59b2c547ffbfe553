"""Questions get answers from the guidelines and the queue, through read-only tools only."""


import pytest

import app
from agents.answer import is_question
from tests.fakes.openai_server import FakeOpenAI, Text, ToolCall


@pytest.mark.parametrize("text,expected", [
    ("What's our emoji policy?", True), ("quelle est notre politique sur les émojis ?", True),
    ("Launch the Guji roast on LinkedIn", False), ("Launch the Guji roast, ready?", False)])
def test_questions_are_told_apart_from_briefs(text, expected):
    assert is_question(text) is expected


def test_offline_answer_quotes_the_guidelines_with_sources(make_settings):
    with app.assemble(make_settings(), run_scheduler=False, quiet=True) as plume:
        reply = plume.runner.ask("How many emoji can we use?")
    assert reply.offline and reply.sources
    assert any("moji" in p.heading or "moji" in p.text for p in reply.sources)
    assert "From your guidelines" in reply.text


def test_model_answer_uses_the_search_tool_and_cites_it(make_settings):
    def script(request):
        names = [t["function"]["name"] for t in request.get("tools", [])]
        assert sorted(names) == ["scheduled_posts", "search_guidelines"]  # read-only tools, nothing else
        if request["messages"][-1]["role"] == "tool":
            return Text("At most two emoji per post, never in crisis replies (voice.md › Emoji).")
        return ToolCall("search_guidelines", {"query": "emoji policy"})

    with FakeOpenAI(script) as fake:
        settings = make_settings(plume_model="fake-model", openai_base_url=fake.base_url, openai_api_key="k")
        with app.assemble(settings, run_scheduler=False, quiet=True) as plume:
            reply = plume.runner.ask("What's our emoji policy?")
        assert fake.calls == 2 and not fake.errors
        assert "two emoji" in reply.text and reply.sources
        tool_result = fake.requests[-1]["messages"][-1]["content"]
        assert "›" in tool_result  # passages come back with their source and heading


def test_a_model_that_loops_on_tools_is_stopped_and_the_guidelines_answer(make_settings):
    with FakeOpenAI(lambda request: ToolCall("search_guidelines", {"query": "again"})) as fake:
        settings = make_settings(plume_model="fake-model", openai_base_url=fake.base_url, openai_api_key="k")
        with app.assemble(settings, run_scheduler=False, quiet=True) as plume:
            reply = plume.runner.ask("What's our emoji policy?")
        assert fake.calls <= 8
    assert reply.offline and reply.sources
