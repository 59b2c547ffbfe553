"""The graph's nodes: plain functions of (state, context) that return state updates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

import prompts
from agents import fresh, inbox, offline
from agents.schemas import BriefFields, Drafts, Revisions
from agents.state import BriefState, Context
from core import audit, checks, decisions, grounding, locales, platforms, posts
from core import sources as fresh_sources
from core.brand import BrandProfile
from core.domain import (
    LOCALES,
    NEEDS_MODEL_WARNING,
    Action,
    Brief,
    Decision,
    Passage,
    Status,
    Variant,
)
from core.errors import LLMUnavailable, PlumeError
from insights import metrics
from publishing import timing

MAX_ROUNDS = 2
PASSAGES = 5  # guideline passages the drafts of one brief are given
NO_GUIDELINES = "No guidelines found for this brief — drafts follow only the brand profile (run `plume ingest`)."
SERVER_ACTOR = "agent-inbox"  # who acts in a LangGraph server run that no authentication names


def actor_of(config: RunnableConfig) -> str:
    """Who is acting in this run: the user LangGraph's server authenticated (a key no API caller may
    set), or the user Plume's own front end authenticated, which its runner passes the same way."""
    return str(config.get("configurable", {}).get("langgraph_auth_user_id") or SERVER_ACTOR)


def fallback_note(exc: LLMUnavailable) -> str:
    return f"The model is unavailable ({exc}); using offline templates for this step."


def platform(ctx: Context, name: str) -> platforms.Platform:
    """The network's rules, with the workspace's Instagram hashtag cap."""
    cap = ctx.settings.plume_instagram_hashtags if name == "instagram" else None
    return platforms.get(name, hashtag_cap=cap)


def use_model(state: BriefState, ctx: Context) -> bool:
    return ctx.model is not None and not state.get("offline", False)


def in_scope(variant: dict) -> bool:
    return variant.get("stage", "new") in ("new", "rework")


# --- intake → retrieve → draft ------------------------------------------------------------

def intake(state: BriefState, ctx: Context, config: RunnableConfig) -> dict:
    settings = ctx.settings
    ruled = offline.parse_brief(state["text"], now=ctx.clock(), timezone=settings.plume_timezone,
                                default_networks=settings.default_networks,
                                default_locales=settings.default_locales)
    thread_id = config["configurable"]["thread_id"]
    with ctx.db.session() as session:  # idempotent: Plume's runner stored it already, LangGraph's server did not
        posts.save_brief(session, thread_id=thread_id, text=state["text"], actor=actor_of(config))
        author = posts.brief_author(session, thread_id)
    known = {"thread_id": thread_id, "actor": author}
    if not use_model(state, ctx):
        return {**known, "brief": ruled.to_dict(), "offline": True}
    system, user = prompts.load("intake").render(
        brand=ctx.profile.name,
        today=ctx.clock().astimezone(ZoneInfo(settings.plume_timezone)).strftime("%A %d %B %Y %H:%M"),
        timezone=settings.plume_timezone, networks=", ".join(platforms.names()),
        locales=", ".join(LOCALES), brief=state["text"])
    try:
        fields: BriefFields = ctx.model.structured(BriefFields, system, user)
    except LLMUnavailable as exc:
        return {**known, "brief": ruled.to_dict(), "offline": True, "notes": [*state.get("notes", []), fallback_note(exc)]}
    brief = Brief(
        text=state["text"], goal=fields.goal, key_message=fields.key_message or ruled.key_message,
        networks=list(dict.fromkeys(fields.networks)) or ruled.networks,
        locales=list(dict.fromkeys(fields.locales)) or ruled.locales, timezone=settings.plume_timezone,
        not_before=valid_time(fields.publish_after) or ruled.not_before,
        links=fields.links or ruled.links, constraints=fields.constraints, warnings=ruled.warnings)
    return {**known, "brief": brief.to_dict(), "offline": False}


def valid_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.isoformat() if parsed.tzinfo else None


def retrieve(state: BriefState, ctx: Context) -> dict:
    brief = Brief.from_dict(state["brief"])
    query = " ".join(filter(None, [brief.key_message or brief.text, brief.goal]))
    found, full = guidance(ctx, brief, query, PASSAGES)
    # Sections about networks the brief leaves out guide none of its drafts: ask once for as many more
    # (a store that had fewer to give has nothing more to give).
    if full and len(found) < PASSAGES:
        found = guidance(ctx, brief, query, 2 * PASSAGES - len(found))[0][:PASSAGES]
    notes = state.get("notes", []) if found else [*state.get("notes", []), NO_GUIDELINES]
    return {"passages": [p.to_dict() for p in found], "notes": notes}


def guidance(ctx: Context, brief: Brief, query: str, k: int) -> tuple[list[Passage], bool]:
    """The k best passages for the brief, less those about networks it does not post on, and whether
    the store had all k to give."""
    found = ctx.knowledge.search(query, k=k, locale=brief.locales[0])
    useful = {p.id for network in brief.networks for p in offline.for_network(found, network)}
    return [p for p in found if p.id in useful], len(found) == k


def draft(state: BriefState, ctx: Context) -> dict:
    brief = Brief.from_dict(state["brief"])
    passages = [Passage.from_dict(p) for p in state.get("passages", [])]
    source = brief.locales[0]
    notes = list(state.get("notes", []))
    profile = ctx.brand()
    drafted: dict[str, Variant] = {}
    offline_mode = not use_model(state, ctx)
    found = state.get("sources", [])
    if not offline_mode:
        try:
            drafted = model_drafts(ctx, profile, brief, passages, source, found)
        except LLMUnavailable as exc:
            notes.append(fallback_note(exc))
            offline_mode = True
    variants = []
    for network in brief.networks:
        variant = drafted.get(network)
        if variant is None:
            variant = offline.compose(fresh.offline_brief(brief, found), network=network, locale=source,
                                      profile=profile, passages=passages)
            if not offline_mode:
                variant.warnings.append("The model skipped this network; this is a template draft.")
        variants.append({**variant.to_dict(), "stage": "new", "rounds": 0})
    return {"variants": variants, "phase": "draft", "notes": notes, "offline": offline_mode}


def model_drafts(ctx: Context, profile: BrandProfile, brief: Brief, passages: list[Passage],
                 locale: str, found: list[dict]) -> dict[str, Variant]:
    rules = "\n".join(f"- {p.label} ({p.name}): at most {p.max_length} characters as {p.label} counts them, "
                      f"at most {p.max_hashtags} hashtags. {p.tone}"
                      for p in (platform(ctx, n) for n in brief.networks))
    system, user = prompts.load("draft").render(
        brand=profile.name, voice=profile.voice or "—", language=LOCALES[locale],
        banned=", ".join(profile.banned) or "none",
        emoji=f"at most {profile.emoji.max}" if profile.emoji.allowed else "none",
        hashtags=f"at most {profile.hashtags.max}, {profile.hashtags.casing} case, always "
                 f"{' '.join(profile.hashtags.required) or 'nothing required'}",
        topical=" ".join(profile.topical_hashtags(locale)) or "none",
        cta=profile.call_to_action.get(locale, ""), platforms=rules,
        disclosures="; ".join(f"add {d.tag} when the post is about {', '.join(d.when) or 'anything'}"
                              for d in profile.disclosures) or "none",
        notes="; ".join(profile.reviewer_notes) or "none",
        passages="\n".join(f"[{p.id}] {p.label}: {p.text}" for p in passages) or "(none)",
        key_message=brief.key_message or brief.text, goal=brief.goal or "—",
        links=" ".join(brief.links) or "none", constraints="; ".join(brief.constraints) or "none",
        sources=fresh.prompt_block(found))
    result: Drafts = ctx.model.structured(Drafts, system, user)
    out: dict[str, Variant] = {}
    for post in result.posts:
        if post.network in brief.networks and post.network not in out and post.text.strip():
            out[post.network] = Variant(network=post.network, locale=locale, text=post.text.strip(),
                                        rationale=post.rationale, media_idea=post.media_idea,
                                        citations=citable(post.cited, passages, post.network))
    return out


def citable(cited: list[str], passages: list[Passage], network: str) -> list[str]:
    """The passages a model cites that exist and may guide this network (not another's notes)."""
    usable = {p.id for p in offline.for_network(passages, network)}
    return [c for c in dict.fromkeys(cited) if c in usable]


# --- check ⇄ revise -----------------------------------------------------------------------

def check(state: BriefState, ctx: Context) -> dict:
    profile = ctx.brand()
    brief = Brief.from_dict(state["brief"])
    sources = {v["network"]: v["text"] for v in state["variants"] if v["locale"] == brief.locales[0]}
    passages = {p["id"]: p["text"] for p in state.get("passages", [])}
    checked = []
    for variant in state["variants"]:
        if in_scope(variant):
            source = sources.get(variant["network"]) if variant["locale"] != brief.locales[0] else None
            grounds = grounding.Grounds(
                brief=brief.text, passages=[passages[c] for c in variant.get("citations", []) if c in passages],
                sources=state.get("sources", []), profile=profile, now=ctx.clock(), links=brief.links,
                days=[datetime.fromisoformat(brief.not_before).date()] if brief.not_before else [])
            found = checks.run(variant["text"], network=platform(ctx, variant["network"]),
                               locale=variant["locale"],
                               profile=profile, brief_text=brief.text, source_text=source,
                               media=variant.get("media"), grounds=grounds)
            variant = {**variant, "checks": [c.to_dict() for c in found]}
        checked.append(variant)
    return {"variants": checked}


def needs_revision(variant: dict) -> bool:
    """Fresh drafts that fail a check, and drafts a reviewer asked to change — never a human's own edit."""
    if not in_scope(variant) or variant.get("rounds", 0) >= MAX_ROUNDS:
        return False
    if variant.get("feedback"):
        return True
    failing = any(not c["ok"] and c.get("severity", "error") == "error" for c in variant.get("checks", []))
    return failing and variant.get("stage") == "new"


def revise(state: BriefState, ctx: Context) -> dict:
    """One model round over every draft that fails a check or carries a reviewer's request."""
    targets = [v for v in state["variants"] if needs_revision(v)]
    blocks = []
    for v in targets:
        problems = [c["message"] for c in v.get("checks", []) if not c["ok"]]
        if v.get("feedback"):
            problems.insert(0, f"Reviewer asked: {v['feedback']}")
        limit = platforms.get(v["network"]).max_length
        blocks.append(f"### {v['network']}:{v['locale']} (max {limit} characters)\n{v['text']}\n"
                      f"Fix: {'; '.join(problems)}")
    profile = ctx.brand()
    system, user = prompts.load("revise").render(brand=profile.name, voice=profile.voice or "—",
                                                 drafts="\n\n".join(blocks),
                                                 sources=fresh.prompt_block(state.get("sources", [])))
    notes = list(state.get("notes", []))
    try:
        result: Revisions = ctx.model.structured(Revisions, system, user)
        revised = {p.key.strip(): p.text.strip() for p in result.posts if p.text.strip()}
    except LLMUnavailable as exc:
        notes.append(f"Revision failed ({exc}); the drafts are shown with their problems flagged.")
        revised = {}
    keys = {f"{v['network']}:{v['locale']}" for v in targets}
    variants = []
    for v in state["variants"]:
        key = f"{v['network']}:{v['locale']}"
        if key in keys:
            # A failed round still counts: the loop is bounded whatever the model does.
            unchanged = revised.get(key, v["text"]) == v["text"]
            if v.get("feedback") and unchanged:
                note = f"The model left the text as it was after “{v['feedback']}” — edit it yourself."
                v = {**v, "warnings": [*v.get("warnings", []), note], "rounds": MAX_ROUNDS}
            v = {**v, "rounds": v.get("rounds", 0) + 1, "feedback": "" if key in revised else v.get("feedback", ""),
                 "text": revised.get(key, v["text"])}
            if not revised:
                v["rounds"] = MAX_ROUNDS
        variants.append(v)
    return {"variants": variants, "notes": notes}


# --- localize → propose time → present → approval ------------------------------------------

def localize(state: BriefState, ctx: Context) -> dict:
    brief = Brief.from_dict(state["brief"])
    source = [v for v in state["variants"] if v["locale"] == brief.locales[0]]
    notes = list(state.get("notes", []))
    profile = ctx.brand()
    added = []
    for locale in brief.locales[1:]:
        adapted: dict[str, str] = {}
        if use_model(state, ctx):
            try:
                adapted = model_localize(ctx, profile, source, locale, state.get("sources", []))
            except LLMUnavailable as exc:
                notes.append(f"Localizing to {LOCALES[locale]} failed ({exc}); showing the source text.")
        for v in source:
            text = adapted.get(v["network"])
            warnings = [w for w in v.get("warnings", []) if w != NEEDS_MODEL_WARNING]
            if text is None:  # the source text, with only the tags the brand swaps in this locale
                text = offline.local_hashtags(v["text"], locale, profile)
                warnings = [*warnings, NEEDS_MODEL_WARNING]
            added.append({**v, "locale": locale, "text": text, "warnings": warnings, "stage": "new",
                          "rounds": 0, "checks": [], "post_id": None, "version": 1})
    return {"variants": state["variants"] + added, "phase": "localize", "notes": notes}


def model_localize(ctx: Context, profile: BrandProfile, source: list[dict], locale: str,
                   found: list[dict]) -> dict[str, str]:
    glossary = ", ".join(f"{a} → {b}" for a, b in profile.glossary.get(locale, {}).items()) or "none"
    equivalents = ", ".join(f"{a} → {b}" for a, b in profile.hashtag_equivalents(locale).items())
    drafts = "\n\n".join(f"### {v['network']} (max {platforms.get(v['network']).max_length} characters)\n{v['text']}"
                         for v in source)
    system, user = prompts.load("localize").render(brand=profile.name, language=LOCALES[locale], locale=locale,
                                                   formats=locales.examples(locale),
                                                   glossary=glossary, keep=", ".join(profile.do_not_translate) or "none",
                                                   required=" ".join(profile.hashtags.required) or "none",
                                                   equivalents=equivalents or "none",
                                                   topical=" ".join(profile.topical_hashtags(locale)) or "none",
                                                   drafts=drafts, sources=fresh.prompt_block(found))
    result: Drafts = ctx.model.structured(Drafts, system, user)
    return {p.network: p.text.strip() for p in result.posts if p.text.strip()}


def propose_time(state: BriefState, ctx: Context) -> dict:
    brief = Brief.from_dict(state["brief"])
    not_before = datetime.fromisoformat(brief.not_before) if brief.not_before else None
    now = ctx.clock()
    networks = {v["network"] for v in state["variants"] if in_scope(v) and not v.get("proposed_at")}
    with ctx.db.session() as session:  # reads only: this node runs again from the top after a crash
        taken = {}
        pending = [Status.SCHEDULED, Status.HELD, Status.APPROVED, Status.AWAITING_APPROVAL]
        for post in posts.with_status(session, pending):
            if post.run_at and post.thread_id != state["thread_id"]:
                taken.setdefault(post.network, []).append(datetime.fromisoformat(post.run_at))
        # The channel's audience wins over the team's zone: a French page posts on Paris time.
        audience = {n: ctx.audience(n) for n in networks}
        zones = {n: audience[n][0] or brief.timezone for n in networks}
        history = {n: metrics.best_cells(session, network=n, timezone=zones[n], now=now) for n in networks}
    settings = ctx.settings
    variants = []
    for v in state["variants"]:
        if in_scope(v) and not v.get("proposed_at"):
            # Localized twins of a post go out at the same time, for their own audience.
            twin = next((o for o in variants if o["network"] == v["network"] and o.get("proposed_at")), None)
            if twin:
                v = {**v, "proposed_at": twin["proposed_at"], "time_reason": twin["time_reason"]}
            else:
                at, reason = timing.propose(v["network"], timezone=zones[v["network"]], now=now,
                                            not_before=not_before, taken=taken.get(v["network"], []),
                                            country=audience[v["network"]][1], fallback_country=settings.plume_country or None,
                                            blackouts=settings.blackouts,
                                            min_gap=settings.min_gap, history=history.get(v["network"]))
                taken.setdefault(v["network"], []).append(at)
                v = {**v, "proposed_at": at.isoformat(), "time_reason": reason}
        variants.append(v)
    return {"variants": variants}


def present(state: BriefState, ctx: Context) -> dict:
    """Store what a human must decide (idempotent: a re-run finds the posts it already stored)."""
    by_id = {p["id"]: p for p in state.get("passages", [])}
    variants = []
    with ctx.db.session() as session:
        for v in state["variants"]:
            if in_scope(v):
                variant = Variant.from_dict(v)
                cited = [{"id": i, "source": by_id[i]["source"], "heading": by_id[i]["heading"]}
                         for i in variant.citations if i in by_id]
                post = posts.present(session, thread_id=state["thread_id"], variant=variant, citations=cited,
                                     sources=[fresh_sources.cited(s) for s in state.get("sources", [])])
                v = {**v, "post_id": post.id, "version": post.version, "status": post.status,
                     "stage": "presented", "feedback": ""}
            variants.append(v)
    return {"variants": variants}


def approval(state: BriefState, ctx: Context, config: RunnableConfig) -> dict:
    """Wait for humans (one Agent Inbox HumanInterrupt per post awaiting a decision), apply the decisions
    the resume value carries, then mirror the database, the record of every decision however it came.

    Nothing happens before interrupt(): on resume the node runs again from its top."""
    waiting = [v for v in state["variants"] if v.get("status") == Status.AWAITING_APPROVAL]
    notes = list(state.get("notes", []))
    if waiting:
        items = [inbox.request(v, state.get("passages", []), ctx.settings.plume_timezone) for v in waiting]
        read = inbox.decisions(items, interrupt(items), actor=actor_of(config))
        notes += read.problems + [note for d in read.decisions for note in apply(ctx, d)]
    with ctx.db.session() as session:
        stored = {p.id: p for p in posts.for_thread(session, state["thread_id"])}
    variants = []
    for v in state["variants"]:
        post = stored.get(v.get("post_id"))
        if post is not None:
            v = {**v, "status": post.status, "proposed_at": post.run_at or v.get("proposed_at"),
                 "time_reason": post.time_reason}
            if post.status == Status.CHANGES_REQUESTED and v.get("stage") == "presented":
                edited = post.version != v.get("version")
                v = {**v, "stage": "rework", "rounds": 0, "text": post.text, "version": post.version,
                     "feedback": "" if edited else post.last_reason}
        variants.append(v)
    return {"variants": variants, "phase": "rework", "notes": notes}


def apply(ctx: Context, decision: Decision) -> list[str]:
    """Record one decision from a resume value, unless the audit log already holds it (a front end
    recorded it first, or a crash cut this node short after recording it): notes for what to tell."""
    try:
        if recorded_before(ctx, decision):
            return []
        recorded = decisions.record(ctx.db, decision, approvers=ctx.settings.approvers, profile=ctx.profile)
    except PlumeError as exc:  # refused or stale: the post stays as it is, and the graph asks again
        return [f"The {inbox.verb(decision)} of post #{decision.post_id} by {decision.actor} was not applied: {exc}"]
    return [f"Proposed rule #{rule.id}: {rule.summary} ({rule.evidence})" for rule in recorded.proposals]


AUDITED_AS = {Action.APPROVE: ("post.approved", "post.approval_vote"), Action.REJECT: ("post.rejected",),
              Action.REQUEST_CHANGES: ("post.changes_requested",), Action.EDIT: ("post.edited",)}


def recorded_before(ctx: Context, decision: Decision) -> bool:
    """The same person already took the same decision on the same version of the post."""
    with ctx.db.session() as session:
        trail = audit.trail(session, decision.post_id)
    # An edit logs the version it made; the other decisions, the version they were taken on.
    return any(e.actor == decision.actor and e.action in AUDITED_AS[Action(decision.action)]
               and e.detail.get("version", 0) - (e.action == "post.edited") == decision.version for e in trail)


def schedule(state: BriefState, ctx: Context) -> dict:
    """Approved posts become scheduled in the database; the publishing scheduler takes them from there."""
    variants = []
    for v in state["variants"]:
        if v.get("status") == Status.APPROVED:
            run_at = max(datetime.fromisoformat(v["proposed_at"]), ctx.clock())
            with ctx.db.session() as session:
                post = posts.get(session, v["post_id"])
                if post.status == Status.APPROVED:  # not already scheduled by a run cut short
                    post = posts.schedule(session, post_id=post.id, run_at=run_at)
            v = {**v, "status": post.status}
        variants.append(v)
    return {"variants": variants}


def rework(state: BriefState, ctx: Context) -> dict:
    """Changes requested: edits go straight to the checks; feedback goes to the model, if there is one."""
    if use_model(state, ctx):
        return {}
    variants = []
    for v in state["variants"]:
        if v.get("stage") == "rework" and v.get("feedback"):
            note = "Rewriting from feedback needs a model — edit the text instead (offline mode)."
            v = {**v, "feedback": "", "warnings": [*[w for w in v.get("warnings", []) if w != note], note]}
        variants.append(v)
    return {"variants": variants}


ALL = {
    "intake": intake, "read_sources": fresh.read_sources, "retrieve": retrieve, "draft": draft, "check": check, "revise": revise,
    "localize": localize, "propose_time": propose_time, "present": present, "approval": approval,
    "schedule": schedule, "rework": rework,
}
