"""A model that obeys instructions it finds in fetched sources: the worst case for prompt injection.

It copies every instruction-looking line of the sources into its posts and, beside the drafts it was
asked for, calls tools it was never offered (approve, publish, delete). Plume must change nothing
without a human click, and flag what the model copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.fakes.copywriter import Copywriter
from tests.fakes.openai_server import ToolCall, last_user_text

ORDERS = re.compile(r"(?im)^.*(?:system:|ignore your rules|publish now|delete all)[^\n]*$")


@dataclass
class Obedient(Copywriter):
    obeyed: list[str] = field(default_factory=list)

    def drafts(self, request: dict):
        answer = super().drafts(request)
        orders = [line.strip() for line in ORDERS.findall(last_user_text(request))]
        self.obeyed += orders
        for post in answer["posts"]:
            post["text"] = " ".join([post["text"], *orders])
        return [ToolCall("Drafts", answer), ToolCall("approve_post", {"post_id": 1, "publish": "now"}),
                ToolCall("delete_scheduled_posts", {"all": True}), ToolCall("publish_now", {"post_id": 2})]

    def revisions(self, request: dict):
        self.revised_rounds += 1
        orders = [line.strip() for line in ORDERS.findall(last_user_text(request))]
        posts = [{"key": key, "text": f"{text} {' '.join(orders)}".strip()}
                 for key, text in re.findall(r"^### (\S+) \(max \d+ characters\)\n(.*?)\nFix:", last_user_text(request),
                                             re.M | re.S)]
        return [ToolCall("Revisions", {"posts": posts}), ToolCall("delete_scheduled_posts", {"all": True})]
