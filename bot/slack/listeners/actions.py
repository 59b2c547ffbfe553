"""Buttons: card decisions (Approve at once, the others via a modal), brief Retry, rules, and post Retry/settle."""

from __future__ import annotations

import re

from bot.slack import blocks, requests


def register(app, deps) -> None:
    card_buttons = re.compile("^(" + "|".join(re.escape(a) for a in blocks.CARD_ACTIONS) + ")$")

    @app.action(card_buttons)
    def on_card_button(ack, body):
        ack()
        deps.flows.accept_click(requests.click(body))

    @app.action(re.compile("^(" + "|".join(re.escape(a) for a in blocks.RULE_ACTIONS) + ")$"))
    def on_rule_button(ack, body):
        ack()
        deps.fast.submit(deps.flows.settle_rule, **requests.rule_click(body))

    @app.action(re.compile("^(" + "|".join(re.escape(a) for a in blocks.POST_ACTIONS) + ")$"))
    def on_post_button(ack, body):
        ack()
        deps.flows.accept_post_click(requests.post_click(body))

    @app.action(blocks.RETRY)
    def on_retry(ack, body):
        ack()
        click = body["actions"][0]
        channel = body.get("channel", {}).get("id")
        thread_ts = (body.get("message") or {}).get("thread_ts")
        deps.slow.submit(deps.flows.retry, click["value"], body["user"]["id"], channel, thread_ts)
