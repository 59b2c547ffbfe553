"""The terminal front end: type a brief, watch it move, decide each draft by number."""

from __future__ import annotations

import getpass
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import TextIO

from agents.answer import is_question
from agents.runner import Event, Outcome, thread_id_for
from core import platforms, sources, when
from core.domain import NEEDS_MODEL_WARNING, OFFLINE_LABEL, Action, Decision, Post, Status
from core.errors import FollowUpFailed, InvalidTransition, PlumeError
from service import Queue

HELP = """Type a brief to start, e.g. “Announce our new Guji roast on LinkedIn and X in English and French, tomorrow morning”.
Then decide each draft by its number (or a post by its id, e.g. #12):
  approve N              approve draft N (it is scheduled at its proposed time)
  changes N REASON       ask for changes, e.g. “changes 2 shorter, and mention the Lyon shop”
  edit N                 replace the text (and optionally the time, in words) yourself
  reject N [REASON]      drop draft N
  retry N [TIME]         put a failed or held post back on the schedule: now, or e.g. “retry 2 tomorrow 9am”
  posted N / not-posted N after checking the network, settle a post whose outcome is unknown
                         (not-posted sends it again now, with the same idempotency key)
  reschedule N TIME      move a scheduled post, e.g. “reschedule #12 next Tuesday 9am Paris”
  cancel N               cancel a post before it goes out
  hold [REASON] / resume pause all publishing, or end the pause
  queue                  what is scheduled, numbered so the commands above can use it
  news [QUERY]           the newest items of the team's news feeds (PLUME_FEEDS), with their age
  proposals              brand rules Plume proposes (read in the guidelines, or learned from repeated
                         edits and requests); accept N / dismiss N
  list                   show the drafts again
  a question ending in ? e.g. “what's our emoji policy?” — answered from the guidelines
  continue               carry on with the last brief after an error
  help                   this text                   quit    leave (nothing is lost)"""
DEMO_BRIEF = ("Announce our new Ethiopia Guji single-origin roast on LinkedIn and X, in English and French. "
              "Launch offer: 10% off this week at https://tidewren.coffee/guji")


def render_post(number: int, post: Post, zone: str) -> str:
    network = platforms.get(post.network)
    status = post.status.replace("_", " ")
    lines = [f"[{number}] {platforms.post_label(post)} · {status} · v{post.version}"
             f"   (post #{post.id})"]
    lines += [f"    │ {line}" for line in post.text.splitlines() or [""]]
    lines.append(f"    Length: {network.length(post.text)}/{network.max_length} as {network.label} counts")
    if post.rationale:
        lines.append(f"    Why: {post.rationale}")
    if post.media_idea and not post.media:
        lines.append(f"    Image idea: {post.media_idea}")
    failed = [c for c in post.checks if not c["ok"]]
    if failed:
        lines += [f"    {'✗' if c.get('severity', 'error') == 'error' else '!'} {c['message']}" for c in failed]
    passed = len(post.checks) - len(failed)
    lines.append(f"    ✓ {passed} check{'s' * (passed != 1)} passed")
    for cite in post.citations:
        lines.append(f"    Cites: {cite['source']} › {cite['heading']}" if cite.get("heading") else
                     f"    Cites: {cite['source']}")
    if not post.citations:
        lines.append("    Cites: no guideline passage")
    now = datetime.now(UTC)
    lines += [f"    {'⚠' if s.get('error') else 'Source:'} {sources.describe(s, now=now, zone=zone)}" for s in post.sources]
    shown = when.moment(post.run_at, zone, utc=False)
    lines.append(f"    When: {shown} — {post.time_reason}" if post.time_reason else f"    When: {shown}")
    lines += [f"    ⚠ {w}" for w in post.warnings]
    if post.last_reason and post.status in (Status.REJECTED, Status.FAILED, Status.UNKNOWN, Status.HELD):
        lines.append(f"    Reason: {post.last_reason}")
    if post.approved_by and post.status != Status.AWAITING_APPROVAL:
        lines.append(f"    Approved by {post.approved_by}")
    return "\n".join(lines)


def queue_lines(queue: Queue, zone: str, *, first_number: int | None = None) -> list[str]:
    """The schedule by day in `zone`; with `first_number`, each post is numbered for the shell's commands."""
    lines = []
    if queue.pause.held:
        why = f": “{queue.pause.held_reason}”" if queue.pause.held_reason else ""
        lines.append(f"⏸ Publishing is on hold (by {queue.pause.held_by}{why}); “resume” releases it.")
    if not queue.upcoming:
        lines.append("Nothing is scheduled.")

    def day(post: Post) -> str:
        return when.heading(post.run_at, zone) if post.run_at else "No time"

    number = first_number
    for heading, group in groupby(queue.upcoming, key=day):
        lines.append(heading)
        for post in group:
            first = post.text.splitlines()[0][:70] if post.text else ""
            held = " (held)" if post.status == Status.HELD else ""
            channel = f" → {post.channel}" if post.channel else ""
            tag = ""
            if number is not None:
                tag, number = f"[{number}] ", number + 1
            at = f"{when.clock(post.run_at, zone)} " if post.run_at else ""
            lines.append(f"  {tag}{at}#{post.id} {platforms.post_label(post)}{channel}{held}  {first}")
            if post.waiting and post.run_at:  # the network asked for the wait (a daily cap…): say how long is left
                left = datetime.fromisoformat(post.run_at) - datetime.now(UTC)
                lines.append(f"      ⏳ {when.duration(left)} left: {post.waiting.split(';')[0][:90]}")
    if queue.upcoming:
        lines.append(f"Times in {zone}.")
    if queue.attention:
        lines.append(f"⚠ {len(queue.attention)} post(s) need a human (failed or unknown): type “list”.")
    if queue.waiting:
        lines.append(f"{queue.waiting} draft(s) awaiting approval.")
    return lines


def print_queue(service, zone: str, out: TextIO = sys.stdout) -> int:
    """`plume queue`: what is scheduled, by day, in the workspace's time zone."""
    for line in queue_lines(service.posts.queue(), zone):
        print(line, file=out)
    return 0


class Shell:
    """A line-oriented loop; reads any text stream, so tests and scripts can drive it."""

    def __init__(self, plume, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, user: str | None = None):
        self.plume = plume
        self.stdin, self.stdout = stdin, stdout
        self.user = user or getpass.getuser()
        self.zone = plume.settings.plume_timezone
        self.service = plume.service
        self.shown: list[int] = []  # post ids, numbered from 1
        self.thread: str | None = None  # the brief typed last, for “continue”
        plume.listeners.append(self.on_post_update)

    def say(self, text: str = "") -> None:
        print(text, file=self.stdout, flush=True)

    def ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    def loop(self) -> int:
        model = self.plume.settings.plume_model or f"offline templates ({OFFLINE_LABEL.split(' — ')[0]})"
        self.say(f"Plume — {self.plume.profile.name}. Model: {model}. Type “help” for commands.")
        self.show_pending()
        while (line := self.ask("plume> ")) is not None:
            line = line.strip()
            if not line:
                continue
            if line in ("quit", "exit"):
                break
            try:
                self.handle(line)
            except PlumeError as exc:
                self.say(f"✗ {exc}")
        self.say("Bye — drafts and schedules are kept.")
        return 0

    def handle(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        commands: dict[str, Callable[[str], None]] = {
            "help": lambda _: self.say(HELP), "list": lambda _: self.show_pending(),
            "continue": lambda _: self.resume(),
            "queue": lambda _: self.queue(), "news": self.news,
            "approve": self.approve, "a": self.approve, "changes": self.changes, "c": self.changes,
            "edit": self.edit, "e": self.edit, "reject": self.reject, "r": self.reject,
            "retry": self.retry, "posted": self.posted, "not-posted": self.not_posted, "notposted": self.not_posted,
            "reschedule": self.reschedule, "move": self.reschedule, "cancel": self.cancel,
            "hold": self.hold, "resume": lambda _: self.resume_publishing(),
            "proposals": lambda _: self.show_rules(), "accept": self.accept, "dismiss": self.dismiss,
        }
        bare = ("help", "list", "queue", "proposals", "continue", "resume")
        verb = word.lower()
        if verb in commands and (verb in bare or rest[:1].isdigit() or rest[:1] == "#"
                                 or (verb == "hold" and not is_question(line))
                                 or (verb == "news" and len(rest.split()) <= 5)):  # longer: a brief about news
            commands[verb](rest.strip())
        elif is_question(line):
            self.question(line)
        else:
            self.brief(line)

    def question(self, question: str) -> None:
        reply = self.service.briefs.ask(question)
        self.say(reply.text)
        for passage in reply.sources:
            self.say(f"    Source: {passage.label}")

    # --- briefs and decisions --------------------------------------------------------------

    def brief(self, text: str) -> None:
        self.thread = thread_id_for("shell", self.user, uuid.uuid4().hex)
        self.say("Working on it…")
        outcome = self.service.briefs.start(thread_id=self.thread, text=text, actor=self.user, on_event=self.on_event)
        self.show(outcome)

    def resume(self) -> None:
        if not self.thread:
            raise PlumeError("There is no brief to continue here; type a brief to start one.")
        self.show(self.service.briefs.retry(self.thread, on_event=self.on_event))

    def on_event(self, event: Event) -> None:
        if event.kind == "progress":
            self.say(f"  · {event.message}")
        elif event.kind == "note":
            self.say(f"  ⚠ {event.message}")
        elif event.kind == "proposal":
            self.say(f"  💡 {event.message} — “accept N” applies it to future drafts, “dismiss N” drops it.")

    def on_post_update(self, post: Post) -> None:
        if post.status == Status.PUBLISHED:
            where = post.external_url or post.external_ref
            self.say(f"\n📤 Published post #{post.id} ({platforms.post_label(post)}) → {where}")
        else:
            self.say(f"\n⚠ Post #{post.id} ({platforms.post_label(post)}) is {post.status}: {post.last_reason}")

    def show(self, outcome: Outcome) -> None:
        brief = outcome.brief
        for warning in brief.get("warnings", []):
            self.say(f"  ⚠ {warning}")
        self.render(outcome.posts)

    def show_pending(self) -> None:
        waiting = self.service.posts.with_status([Status.AWAITING_APPROVAL])
        attention = self.service.posts.with_status([Status.UNKNOWN, Status.FAILED, Status.HELD])
        waiting.sort(key=lambda post: post.id)  # numbers stay put when an edit moves a time
        if attention:
            self.say(f"⚠ {len(attention)} post(s) need a human: “posted N” / “not-posted N” once you have checked "
                     "the network for an unknown one, “retry N [time]” for a failed or held one.")
        if waiting:
            self.say(f"{len(waiting)} draft(s) await a decision:")
        elif not attention:
            self.say("No drafts await a decision. Type a brief to start.")
        if waiting or attention:
            self.render(attention + waiting)

    def render(self, shown: list[Post]) -> None:
        self.shown = [p.id for p in shown]
        for number, post in enumerate(shown, 1):
            self.say(render_post(number, post, self.zone))
            self.say()
        if any(p.status == Status.AWAITING_APPROVAL for p in shown):
            self.say("Decide with: approve N · changes N REASON · edit N · reject N [REASON]")

    def pick(self, rest: str) -> tuple[Post, str]:
        """“3 …” is the third post shown; “#12 …” is post 12, shown or not."""
        number, _, tail = rest.partition(" ")
        if number.startswith("#") and number[1:].isdigit():
            return self.service.posts.get(int(number[1:])), tail.strip()
        if not number.isdigit():
            raise PlumeError(f"Say which post by its number or id, e.g. “3” or “#12” (not “{number}”).")
        index = int(number) - 1
        if not 0 <= index < len(self.shown):
            raise PlumeError(f"There is no draft {number} here; type “list” to see the numbers.")
        return self.service.posts.get(self.shown[index]), tail.strip()

    def decide(self, post: Post, action: Action, **fields) -> None:
        decision = Decision(post_id=post.id, action=str(action), actor=self.user, version=post.version, **fields)
        try:
            decided = self.service.decisions.decide(decision, on_event=self.on_event)
        except InvalidTransition as exc:
            who = f" (by {exc.decided_by})" if exc.decided_by else ""
            self.say(f"✗ {exc}{who}")
            return
        except FollowUpFailed as exc:  # the decision stands: carry on with “continue”
            self.thread = exc.thread_id
            self.say(f"⚠ {exc} Type “continue” to carry on.")
            return
        for rule in decided.proposals:
            self.on_event(Event("proposal", f"Proposed rule #{rule.id}: {rule.summary} ({rule.evidence})"))
        if action is Action.APPROVE and decided.waiting_for_votes:
            self.say(f"👍 Your approval is recorded ({decided.votes} of {decided.needed}).")
        self.render(decided.outcome.posts)

    def approve(self, rest: str) -> None:
        post, _ = self.pick(rest)
        self.decide(post, Action.APPROVE)

    def changes(self, rest: str) -> None:
        post, reason = self.pick(rest)
        if not reason:
            reason = self.ask("What should change? ") or ""
        self.decide(post, Action.REQUEST_CHANGES, reason=reason)

    def reject(self, rest: str) -> None:
        post, reason = self.pick(rest)
        self.decide(post, Action.REJECT, reason=reason)

    def show_rules(self) -> None:
        found = self.service.rules.proposals()
        if not found:
            self.say("No rules proposed yet: `plume ingest` proposes the rules it reads in the guidelines, "
                     "and Plume proposes one when reviewers repeat the same edit or request.")
        for rule in found:
            self.say(f"  #{rule.id} {rule.summary}\n      {rule.origin}")
        if found:
            self.say("  accept N applies a rule to every following draft; dismiss N hides it for good.")

    def accept(self, rest: str, *, accept: bool = True) -> None:
        rule = self.service.rules.settle(rule_id=int(rest.split()[0]), actor=self.user, accept=accept)
        self.say(f"Rule #{rule.id} {rule.status}: {rule.summary}.")

    def dismiss(self, rest: str) -> None:
        self.accept(rest, accept=False)

    def retry(self, rest: str) -> None:
        post, when_text = self.pick(rest)
        post = self.service.posts.retry(post_id=post.id, actor=self.user, when=when_text, zone=self.zone)
        self.say(f"🔁 Post #{post.id} will be published {self.at(post)}.")

    def posted(self, rest: str, *, posted: bool = True) -> None:
        post, _ = self.pick(rest)
        post = self.service.posts.settle(post_id=post.id, actor=self.user, posted=posted)
        if posted:
            self.say(f"✓ Post #{post.id} is marked published.")
        else:
            self.say(f"🔁 Post #{post.id} goes out again {self.at(post)}, with the same idempotency key.")

    def not_posted(self, rest: str) -> None:
        self.posted(rest, posted=False)

    def reschedule(self, rest: str) -> None:
        post, when_text = self.pick(rest)
        if not when_text:
            raise PlumeError("Say when, e.g. “reschedule 2 next Tuesday 9am” or “reschedule #12 tomorrow morning”.")
        post = self.service.posts.reschedule(post_id=post.id, actor=self.user, when=when_text, zone=self.zone)
        self.say(f"🕘 Post #{post.id} moved to {self.at(post)}.")

    def cancel(self, rest: str) -> None:
        post, reason = self.pick(rest)
        post = self.service.posts.cancel(post_id=post.id, actor=self.user, reason=reason or "cancelled in the shell")
        self.say(f"🚫 Post #{post.id} is cancelled; it will not be published.")

    def hold(self, reason: str) -> None:
        stopped = self.service.posts.hold(actor=self.user, reason=reason)
        self.say(f"⏸ Publishing is on hold; {len(stopped)} scheduled post(s) wait until “resume”.")

    def resume_publishing(self) -> None:
        resumed = self.service.posts.resume(actor=self.user)
        self.say(f"▶️ Publishing resumed; {len(resumed)} post(s) scheduled again (overdue ones go out now).")

    def queue(self) -> None:
        found = self.service.posts.queue()
        self.shown = [post.id for post in found.upcoming]
        for line in queue_lines(found, self.zone, first_number=1):
            self.say(line)

    def news(self, query: str) -> None:
        headlines = self.service.news.recent(query)
        if not headlines.feeds:
            self.say("No news feeds are configured: set PLUME_FEEDS to your RSS or Atom feeds (comma-separated).")
            return
        now = datetime.now(UTC)
        for item in headlines.items:
            at = sources.published({"published_at": item.published_at})
            age = sources.age(now - at, day_only=False) if at else "undated"
            self.say(f"  • {item.title} — {item.feed_title}, {age}\n    {item.link}")
        if not headlines.items:
            self.say("Nothing recent" + (f" about “{query}”." if query else "."))
        for problem in headlines.problems:
            self.say(f"  ⚠ {problem}")

    def at(self, post: Post) -> str:
        return when.moment(post.run_at, self.zone)

    def edit(self, rest: str) -> None:
        post, _ = self.pick(rest)
        self.say("New text, ending with a line holding only “.” (a “.” straight away keeps the current text):")
        lines = []
        while (line := self.ask("")) is not None and line != ".":
            lines.append(line)
        text = "\n".join(lines).strip() or post.text
        moved = (self.ask(f"New time, e.g. “tomorrow 9am” (blank keeps {when.moment(post.run_at, self.zone, utc=False)}): ") or "").strip()
        run_at = None
        if moved:
            at = self.service.posts.when(moved, zone=self.zone, network=post.network)
            self.say(f"🕘 New time: {at.describe(self.zone)}")
            run_at = at.at.isoformat()
        self.decide(post, Action.EDIT, text=text, run_at=run_at, reason="edited in the shell")


def demo(plume, out: TextIO = sys.stdout, *, delay: float = 5.0, wait: float = 60.0) -> int:
    """A scripted brief on the sample kit; the demo plays the approving manager."""
    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    service, zone = plume.service, plume.settings.plume_timezone
    say(f"Demo brief: {DEMO_BRIEF}\n")
    thread = thread_id_for("demo", uuid.uuid4().hex)
    outcome = service.briefs.start(thread_id=thread, text=DEMO_BRIEF, actor="demo-author",
                                   on_event=lambda e: say(f"  · {e.message}") if e.kind == "progress" else None)
    for number, post in enumerate(outcome.posts, 1):
        say(render_post(number, post, zone) + "\n")
    manager = "demo-manager"

    def decide(post: Post, action: Action, **fields):
        return service.decisions.decide(Decision(post_id=post.id, action=str(action), actor=manager,
                                                 version=post.version, **fields))

    soon = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat()
    ids = []
    say(f"The demo manager approves the drafts that pass every blocking check, moved to {delay:.0f} s from now,\n"
        "and rejects the rest with a reason.")
    for post in outcome.waiting:
        blocking = [c["message"] for c in post.checks if not c["ok"] and c.get("severity", "error") == "error"]
        if blocking or NEEDS_MODEL_WARNING in post.warnings:
            reason = blocking[0] if blocking else "needs a real translation"
            decide(post, Action.REJECT, reason=reason)
            say(f"✗ rejected #{post.id} {platforms.post_label(post)}: {reason}")
            continue
        moved = decide(post, Action.EDIT, text=post.text, run_at=soon, reason="demo: publish now")
        decide(next(p for p in moved.outcome.posts if p.id == post.id), Action.APPROVE)
        say(f"✓ approved #{post.id} {platforms.post_label(post)}")
        ids.append(post.id)
    if not ids:
        say("No draft passed every check, so nothing was approved.")
        return 1
    deadline = time.monotonic() + wait
    done: list[Post] = []
    while time.monotonic() < deadline:
        done = [service.posts.get(i) for i in ids]
        if all(p.status in (Status.PUBLISHED, Status.FAILED, Status.UNKNOWN) for p in done):
            break
        time.sleep(0.5)
    for post in done:
        mark = "📤" if post.status == Status.PUBLISHED else "✗"
        say(f"{mark} #{post.id} {platforms.post_label(post)}: {post.status} → {post.external_ref or post.last_reason}")
    return 0 if all(p.status == Status.PUBLISHED for p in done) else 1
