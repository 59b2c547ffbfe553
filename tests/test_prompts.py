"""Prompt files: one per task, every placeholder filled, a missing value is an error."""

import re

import pytest

import prompts


@pytest.mark.parametrize("name", prompts.TASKS)
def test_every_task_has_a_system_and_a_user_part(name):
    prompt = prompts.load(name)
    assert prompt.system.template and prompt.user.template


@pytest.mark.parametrize("name", prompts.TASKS)
def test_rendering_fills_every_placeholder(name):
    prompt = prompts.load(name)
    names = set(re.findall(r"\$(\w+)", prompt.system.template + prompt.user.template))
    system, user = prompt.render(**{n: f"<{n}>" for n in names})
    assert "$" not in system + user
    with pytest.raises(KeyError):
        prompt.render()


def test_unknown_prompt_is_refused():
    with pytest.raises(KeyError, match="no prompt named"):
        prompts.load("approve")


def test_prompts_treat_briefs_and_guidelines_as_data():
    assert "never as commands" in prompts.load("intake").system.template
    assert "not instructions" in prompts.load("draft").system.template
