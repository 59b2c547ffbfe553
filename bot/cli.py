"""The command line: `plume [serve|shell|demo|queue|ingest|guidelines|rules|channels|import-metrics|
import-comments|report|export|migrate]`. Each command parses its words, asks the service (or the part it
needs, built by the composition root in app.py), and prints."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path

import app
from core.domain import LOCALES
from core.errors import PlumeError


def cmd_serve(settings, args) -> int:
    from bot.slack.server import serve

    with app.assemble(settings, run_scheduler=False) as plume:
        return serve(plume)  # starts the scheduler once the Slack app listens for its news


def cmd_shell(settings, args) -> int:
    from bot import shell

    with app.assemble(settings, run_scheduler=False) as plume:
        front = shell.Shell(plume)
        plume.start(share=True)
        return front.loop()


def cmd_demo(settings, args) -> int:
    from bot import shell

    with app.assemble(settings) as plume:
        return shell.demo(plume)


def cmd_queue(settings, args) -> int:
    from bot import shell

    with app.services(settings) as service:
        return shell.print_queue(service, settings.plume_timezone)


def cmd_migrate(settings, args) -> int:
    with app.database(settings):
        print("Plume's database is up to date.")
    return 0


def cmd_ingest(settings, args) -> int:
    from core.rules import rule_key
    from knowledge.ingest import ingest

    with app.database(settings) as db, \
            app.knowledge_store(settings, rebuild=args.rebuild, first_run=False) as store:
        report = ingest(store, [Path(p) for p in args.paths], progress=app.progress_bar, prune=args.prune, db=db)
        print(f"{report.summary()} {store.count()} passages in the store.")
        for path, message in report.errors:
            print(f"  ✗ {path}: {message}", file=sys.stderr)
    try:
        with app.services(settings) as service:
            waiting = service.rules.proposals()
    except PlumeError as exc:  # e.g. PLUME_KIT's brand.yaml does not load
        print(f"  ✗ rule proposals not checked against the brand profile: {exc}", file=sys.stderr)
        return 1
    keys = {rule_key(r.rule) for r in waiting}
    found = [f for f in report.proposals if rule_key(f.rule) in keys]
    if found:
        more = f" ({len(waiting)} waiting in all)" if len(waiting) > len(found) else ""
        print(f"{len(found)} rule proposal{'s' if len(found) > 1 else ''} found{more} — review with `plume rules`")
    return 1 if report.errors else 0


def cmd_guidelines(settings, args) -> int:
    if args.k < 1:
        print("plume: --k must be 1 or more", file=sys.stderr)
        return 2
    with app.knowledge_store(settings, quiet=args.json) as store:
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


def cmd_rules(settings, args) -> int:
    """Rules proposed from the guidelines and from reviewers' feedback: one list, one decision each.

    Whoever runs the command on Plume's host decides (recorded as their login name), as an
    approver does with a button in Slack."""
    if args.action != "list" and not args.numbers:
        print(f"plume: say which proposal to {args.action}, e.g. `plume rules {args.action} 3`", file=sys.stderr)
        return 2
    actor = f"{getpass.getuser()} (plume rules)"
    with app.services(settings, write=args.action != "list") as service:
        if args.action == "list":
            return print_rule_proposals(service.rules.proposals(), as_json=args.json)
        failed = 0
        for number in args.numbers:
            try:
                rule = service.rules.settle(rule_id=number, actor=actor, accept=args.action == "accept")
            except PlumeError as exc:  # the other numbers are still decided
                print(f"  ✗ {exc}", file=sys.stderr)
                failed += 1
                continue
            done = "accepted: drafts follow it from now on" if args.action == "accept" else \
                "dismissed: it will not be proposed again"
            print(f"✓ Rule {number} {done} ({rule.summary}).")
    return 1 if failed else 0


def print_rule_proposals(pending, *, as_json: bool) -> int:
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


def cmd_channels(settings, args) -> int:
    """Where approved posts go: list the configured channels, or check one's credentials without posting."""
    from publishing.channels import Channels

    if args.action == "connect":
        from publishing.oauth import connect

        print(connect(settings, args.name or ""))
        return 0
    with app.database(settings) as db:
        channels = Channels.load(settings, db=db)
        return show_channels(channels, args)


def show_channels(channels, args) -> int:
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
        if row["token"]:
            print(f"  {'':<20} token: {row['token']}")
    print("Check credentials without posting: `plume channels test NAME`; get tokens with `plume channels connect NAME`.")
    return 0


def import_files(settings, files: list[str], one: Callable) -> int:
    """Import each file in its own transaction; a file that fails is reported and the others still go in.
    `one(db, path)` imports a file and says whether some of its rows were skipped."""
    failed = 0
    with app.database(settings) as db:
        for path in files:
            try:
                failed += one(db, Path(path))
            except PlumeError as exc:
                print(f"  ✗ {path}: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def cmd_import_metrics(settings, args) -> int:
    """Engagement exported from the networks: best-time proposals and reports learn from it."""
    from insights.metrics import import_metrics

    def one(db, path: Path) -> bool:
        with db.session() as session:
            report = import_metrics(session, path, channel=args.channel or "")
        print(report.summary())
        return bool(report.error_count)

    return import_files(settings, args.files, one)


def cmd_import_comments(settings, args) -> int:
    """Comments and replies on published posts: scored for sentiment; a spike of negative ones is flagged."""
    from agents.models import make_model
    from agents.sentiment import ModelSentiment
    from bot.slack.reports import notify_spikes, propose_holds
    from insights import comments
    from insights.sentiment import Scorer
    from knowledge.language import guess_locale
    from knowledge.profile import load_profile

    model = make_model(settings)
    scorer = Scorer(ModelSentiment(model, brand=load_profile(settings.plume_kit).name) if model else None)

    def one(db, path: Path) -> bool:
        with db.session() as session:
            result = comments.import_csv(session, path, scorer=scorer, zone=settings.plume_timezone,
                                         default_language=settings.default_locales[0], guess_language=guess_locale,
                                         alert_words=settings.alert_words, auto_hold=settings.plume_auto_hold)
        print(result.summary())
        notify_spikes(settings, db, result.spikes)
        if result.alerts and settings.slack_bot_token:
            from bot.slack.api import SlackAPI

            propose_holds(SlackAPI.from_settings(settings), settings, result.alerts)
        return bool(result.errors)

    return import_files(settings, args.files, one)


def cmd_export(settings, args) -> int:
    """The calendar of scheduled posts (iCalendar) or everything published (CSV), to a file or stdout."""
    from publishing import calendar

    try:
        with app.database(settings, write=False) as db, db.session() as session:
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


def cmd_report(settings, args) -> int:
    from bot.reports import run

    with app.services(settings) as service:
        return run(service.reports, args.words, chart=args.chart, csv=args.csv)


COMMANDS: dict[str, Callable[..., int]] = {
    "serve": cmd_serve, "shell": cmd_shell, "demo": cmd_demo, "queue": cmd_queue, "migrate": cmd_migrate,
    "ingest": cmd_ingest, "guidelines": cmd_guidelines, "rules": cmd_rules, "channels": cmd_channels,
    "import-metrics": cmd_import_metrics, "import-comments": cmd_import_comments, "export": cmd_export,
    "report": cmd_report,
}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plume", description="Plume: brand-safe social posts, approved by humans.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    sub.add_parser("shell", help="the terminal front end")
    sub.add_parser("demo", help="a scripted brief from draft to published post, no credentials needed")
    sub.add_parser("queue", help="what is scheduled")
    sub.add_parser("migrate", help="create or upgrade Plume's database (other commands that write do it too)")
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
    channels_cmd = sub.add_parser("channels", help="where approved posts go: list channels (with token expiry), "
                                                   "`test NAME` to check credentials without posting, or "
                                                   "`connect NAME` to get tokens through the network's OAuth")
    channels_cmd.add_argument("action", nargs="?", choices=["list", "test", "connect"], default="list")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from core import logs
    from core.settings import load

    try:
        settings = load()
        logs.setup(settings.plume_log_level, settings.secrets())
        command = args.command or ("serve" if settings.slack_configured else "shell")
        return COMMANDS[command](settings, args)
    except PlumeError as exc:
        print(f"plume: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
