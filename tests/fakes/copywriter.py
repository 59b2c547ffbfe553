"""A scripted copywriter behind the fake OpenAI server: answers Plume's prompts like a decent model.

It reads only what Plume sends (prompts and tool schemas), so the real prompt → HTTP → parsing
path is exercised. Knobs let tests make it misbehave the way real models do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.fakes.openai_server import Error, ToolCall, auto_tool, last_user_text

NAMES = {
    "linkedin": "linkedin",
    "twitter": "x",
    " x ": "x",
    "bluesky": "bluesky",
    "mastodon": "mastodon",
    "instagram": "instagram",
    "threads": "threads",
    "facebook": "facebook",
}
LANGS = {"english": "en", "french": "fr", "german": "de", "spanish": "es"}


def system_text(request: dict) -> str:
    return next(
        (m.get("content") or "" for m in request.get("messages", []) if m.get("role") == "system"),
        "",
    )


@dataclass
class Copywriter:
    """Call `.script` from FakeOpenAI. `mistakes` makes the first drafts fail checks once."""

    mistakes: set[str] = field(default_factory=set)  # {"too_long", "malformed", "down"}
    revised_rounds: int = 0

    @property
    def script(self):
        return auto_tool(
            {"BriefFields": self.intake, "Drafts": self.drafts, "Revisions": self.revisions}
        )

    def intake(self, request: dict):
        if "down" in self.mistakes:
            return Error(503)
        if "malformed" in self.mistakes:
            return ToolCall("BriefFields", '{"goal": "launch", "key_message": ')
        brief = last_user_text(request).split("<<<", 1)[-1].split(">>>", 1)[0].strip()
        lowered = f" {brief.lower()} "
        networks = list(dict.fromkeys(v for k, v in NAMES.items() if k in lowered))
        locales = list(dict.fromkeys(v for k, v in LANGS.items() if k in lowered)) or ["en"]
        links = re.findall(r"https?://\S+", brief)
        message = re.sub(r"https?://\S+", "", brief.split(".")[0]).strip()
        return {
            "goal": "launch",
            "key_message": message,
            "networks": networks,
            "locales": locales,
            "publish_after": None,
            "links": links,
            "constraints": [],
        }

    def drafts(self, request: dict):
        system, user = system_text(request), last_user_text(request)
        localizing = "adapt social media posts" in system
        networks = (
            re.findall(r"^### (\w+)", user, re.M)
            if localizing
            else re.findall(r"\((\w+)\): at most", user)
        )
        cited = re.findall(r"^\[([^\]]+)\]", user, re.M)[:2]
        tags = " ".join(re.findall(r"#\w+", system.split("always", 1)[-1].split(";")[0]))
        cta = (re.search(r'call to action: "([^"]*)"', system) or [None, ""])[1]
        links = " ".join(dict.fromkeys(re.findall(r"https?://\S+", user)))
        posts = []
        for network in networks:
            if localizing:
                text = f"Nouveauté chez Tidewren : notre torréfaction Guji arrive. {links} #Tidewren".strip()
            else:
                body = "Our Ethiopia Guji single-origin roast is here: bright, floral, roasted in small batches."
                if "guji" not in user.lower():  # a decent model writes about what the brief is about
                    brief = (re.search(r"^Brief: (.*)$", user, re.M) or [None, ""])[1].strip(" .")
                    body = f"{brief}. Made with care, roasted in small batches."
                if "too_long" in self.mistakes and network == "x":
                    body = body * 8
                text = f"{body} {links} {cta} {tags}".strip()
            posts.append(
                {
                    "network": network,
                    "text": text,
                    "media_idea": "A pour-over in morning light",
                    "rationale": f"Warm, concrete voice for {network}",
                    "cited": cited,
                }
            )
        return {"posts": posts}

    def revisions(self, request: dict):
        self.revised_rounds += 1
        user = last_user_text(request)
        out = []
        for key, text in re.findall(
            r"^### (\S+) \(max \d+ characters\)\n(.*?)\nFix:", user, re.M | re.S
        ):
            opening = " ".join(text.split(".")[0].split()[:6])
            fixed = opening + ". " + " ".join(re.findall(r"https?://\S+|#\w+", text))
            out.append({"key": key, "text": fixed.strip()})
        return {"posts": out}
