"""A scripted model that makes the mistakes real models make, and fixes some of them when told.

Used by the drafting evaluation (bench/drafting.py and its test): the checks must catch every
mistake, and the revise loop must fix what the model fixes when given the checks' messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.fakes.copywriter import Copywriter, system_text
from tests.fakes.openai_server import last_user_text

MISTAKES = ("too_long", "banned_word", "dropped_glossary", "missing_disclosure")


@dataclass
class Sloppy(Copywriter):
    """`make` injects mistakes into first drafts; `stubborn` ones survive every revision."""

    make: set[str] = field(default_factory=set)
    stubborn: set[str] = field(default_factory=set)
    fix_requests: list[str] = field(default_factory=list)

    def drafts(self, request: dict):
        answer = super().drafts(request)
        localizing = "adapt social media posts" in system_text(request)
        for post in answer["posts"]:
            text = post["text"]
            if localizing:
                if "dropped_glossary" in self.make:
                    text = text.replace("torréfaction", "roast")
            else:
                if "too_long" in self.make and post["network"] == "x":
                    text = "A long, winding story about our Guji. " * 9 + text
                if "banned_word" in self.make:
                    text = text.replace("Our Ethiopia", "Our cheap Ethiopia", 1)
                if "missing_disclosure" in self.make:
                    text = text.replace(" #ad", "")
            post["text"] = text
        return answer

    def revisions(self, request: dict):
        self.revised_rounds += 1
        user = last_user_text(request)
        out = []
        for key, text, fixes in re.findall(r"^### (\S+) \(max \d+ characters\)\n(.*?)\nFix: (.*?)$", user,
                                           re.M | re.S):
            self.fix_requests.append(fixes)
            if "too_long" not in self.stubborn and "characters as X counts" in fixes:
                text = text.replace("A long, winding story about our Guji. ", "")
            if "banned_word" not in self.stubborn and "Banned word" in fixes:
                text = text.replace("cheap ", "affordable ")
            if "dropped_glossary" not in self.stubborn and "Glossary" in fixes:
                text = text.replace("roast", "torréfaction")
            if "missing_disclosure" not in self.stubborn and "#ad" in fixes:
                text = "#ad " + text
            out.append({"key": key, "text": text})
        return {"posts": out}
