"""Channels: which publisher takes which network, read from one YAML file (see channels.example.yaml)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from core import days_off
from core.domain import NETWORKS, Post
from core.errors import ConfigError, NotFound
from publishing.publishers import http
from publishing.publishers.base import NotSent, OutcomeUnknown, Published, Publisher, Timeouts
from publishing.publishers.outbox import OutboxPublisher

ANY = "*"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
COMMON = {"name", "kind", "network", "default", "timezone", "country", "timeout", "connect_timeout"}


@dataclass(frozen=True)
class Kind:
    """The fields one kind of channel takes; `secrets` must be ${ENV} references."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()
    networks: tuple[str, ...] | None = None  # None: any network (or "*")


OAUTH = frozenset({"client_id", "client_secret", "auth_url", "token_url", "redirect_port", "scopes"})
OAUTH1 = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
KINDS: dict[str, Kind] = {
    "outbox": Kind(frozenset(), frozenset({"folder"})),
    "webhook": Kind(frozenset({"url", "secret"}), secrets=frozenset({"secret"})),
    # Without `token`, a network channel uses the token `plume channels connect NAME` stored.
    "mastodon": Kind(frozenset({"base_url"}), frozenset({"token", "visibility"}) | OAUTH,
                     frozenset({"token", "client_secret"}), ("mastodon",)),
    "bluesky": Kind(frozenset({"handle", "password"}), frozenset({"base_url", "app_url"}),
                    frozenset({"password"}), ("bluesky",)),
    "linkedin": Kind(frozenset(), frozenset({"token", "author", "base_url", "app_url", "version"}) | OAUTH,
                     frozenset({"token", "client_secret"}), ("linkedin",)),
    "x": Kind(frozenset(), frozenset({"token", "base_url", "app_url", *OAUTH1}) | OAUTH,
              frozenset({"token", "client_secret", *OAUTH1}), ("x",)),
}
VISIBILITIES = ("public", "unlisted", "private", "direct")  # Mastodon's POST /api/v1/statuses `visibility`
URL_FIELDS = ("url", "base_url", "app_url", "auth_url", "token_url")
HANDLE = re.compile(r"^(?=.{3,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
AUTHOR = re.compile(r"^urn:li:(person|organization):[A-Za-z0-9_-]+$")


@dataclass
class Channel:
    """One configured channel: its publisher and what `plume channels` may show about it."""

    publisher: Publisher
    account: str
    default: bool = False
    timezone: str | None = None
    country: str | None = None
    implicit: bool = False
    secrets: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)  # what `plume channels connect` needs (secrets resolved)
    credentials: str = ""  # where its token comes from: "env:NAME", "oauth1", "stored" (or "" for none)

    @property
    def name(self) -> str:
        return self.publisher.name


class Channels:
    """Every channel Plume publishes through; the implicit outbox takes whatever has no channel."""

    def __init__(self, channels: list[Channel], *, outbox: Path, source: Path | None = None,
                 storage: Storage | None = None):
        self.source = source
        self.tokens = storage.tokens if storage else None
        self._channels = {c.name: c for c in channels}
        if "outbox" not in self._channels:
            self._channels["outbox"] = Channel(OutboxPublisher(outbox, uploads=storage and storage.uploads),
                                               account=str(outbox), implicit=True)

    @classmethod
    def load(cls, settings, *, db=None) -> Channels:
        """From PLUME_CHANNELS, else PLUME_HOME/channels.yaml when present, else the outbox alone.

        With `db`, publishers can send images (publishing.uploads) and use stored tokens."""
        path = settings.plume_channels
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"PLUME_CHANNELS points to {path}, which is not a file")
        if path is None and (settings.plume_home / "channels.yaml").is_file():
            path = settings.plume_home / "channels.yaml"
        storage = None
        if db is not None:
            from publishing.tokens import Tokens
            from publishing.uploads import Uploads

            key = settings.plume_secret_key.get_secret_value() if settings.plume_secret_key else None
            storage = Storage(uploads=Uploads(home=settings.plume_home, db=db), tokens=Tokens(db=db, secret_key=key))
        if path is None:
            return cls([], outbox=settings.outbox, storage=storage)
        return cls.from_file(Path(path), outbox=settings.outbox, storage=storage)

    @classmethod
    def from_file(cls, path: Path, *, outbox: Path, env: Mapping[str, str] | None = None,
                  storage: Storage | None = None) -> Channels:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"Cannot read the channels file {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"The channels file {path} is not valid YAML: {exc}") from None
        entries = data.get("channels") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f"The channels file {path} must have a `channels:` list (see channels.example.yaml)")
        env = os.environ if env is None else env
        storage = storage or Storage()
        channels = [_build(entry, index, env=env, outbox=outbox, storage=storage)
                    for index, entry in enumerate(entries, 1)]
        _check_unique(channels)
        return cls(channels, outbox=outbox, source=path, storage=storage)

    def all(self) -> list[Publisher]:
        return [c.publisher for c in self._channels.values()]

    def get(self, name: str) -> Publisher:
        return self._channel(name).publisher

    def for_network(self, network: str) -> Publisher:
        return self._for_network(network).publisher

    def route(self, network: str) -> str:
        """The channel name a new post for `network` is pinned to (the scheduler's `route`)."""
        return self.for_network(network).name

    def channel_for(self, post: Post) -> Publisher:
        """The post's own channel when it has one (chosen before its first send), else its network's."""
        return self.get(post.channel) if post.channel else self.for_network(post.network)

    def audience(self, network: str) -> tuple[str | None, str | None]:
        """The time zone and country of the audience the network's channel reaches, when configured."""
        channel = self._for_network(network)
        return channel.timezone, channel.country

    def describe(self) -> list[dict[str, str]]:
        """Rows for `plume channels`: never a secret (webhook URLs are cut to their host)."""
        rows = []
        for channel in self._channels.values():
            publisher = channel.publisher
            networks = [n for n in NETWORKS if self._for_network(n) is channel]
            note = "implicit: every network without a channel" if channel.implicit else (
                "default" if channel.default else "")
            rows.append({"name": channel.name, "kind": publisher.kind, "network": publisher.network,
                         "serves": ", ".join(networks) or "-", "account": channel.account,
                         "timezone": channel.timezone or "", "country": channel.country or "", "note": note,
                         "token": self._token_note(channel), "expires_at": self._expiry(channel)})
        return rows

    def _token(self, channel: Channel):
        if channel.credentials != "stored" or self.tokens is None:
            return None
        return self.tokens.get(channel.name)

    def _expiry(self, channel: Channel) -> str | None:
        token = self._token(channel)
        when = token and (token.refresh_expires_at if token.refresh else token.expires_at)
        return when.isoformat() if when else None

    def _token_note(self, channel: Channel) -> str:
        """Where the channel's token comes from and when it stops working, where that is known."""
        how = channel.credentials
        if how.startswith("env:"):
            return f"token from ${{{how[4:]}}} (expiry unknown to Plume; connect it to track it)"
        if how == "oauth1":
            return "OAuth 1.0a user keys (no expiry)"
        if how != "stored":
            return ""
        if self.tokens is None:
            return "stored token"
        token = self._token(channel)
        if token is None:
            return f"not connected: run `plume channels connect {channel.name}`"
        if token.refresh:
            until = f", until {token.refresh_expires_at:%Y-%m-%d}" if token.refresh_expires_at else ""
            return f"stored token, renewed automatically{until}"
        if token.expires_at is None:
            return "stored token (no expiry)"
        days = (token.expires_at - datetime.now(UTC)).days
        state = f"expired on {token.expires_at:%Y-%m-%d}" if days < 0 else \
            f"expires {token.expires_at:%Y-%m-%d} (in {days} days)"
        return f"stored token, {state}"

    def oauth_setup(self, name: str) -> dict:
        """What `plume channels connect NAME` needs: the channel's kind, network and OAuth client."""
        channel = self._channel(name)
        if channel.publisher.kind not in ("x", "linkedin", "mastodon"):
            raise ConfigError(f"Channel {name} is a {channel.publisher.kind} channel; only x, linkedin and mastodon "
                              "channels connect with OAuth")
        return {**channel.settings, "kind": channel.publisher.kind, "network": channel.publisher.network}

    def secrets(self) -> list[str]:
        """The resolved tokens, passwords and webhook secrets, for the log redactor."""
        return [secret for channel in self._channels.values() for secret in channel.secrets]

    def test(self, name: str) -> str:
        """Check a channel's credentials without posting; raises NotSent with a friendly message."""
        publisher = self.get(name)
        try:
            who = publisher.check()
        except OutcomeUnknown as silent:  # a check never posts: no answer just means "not verified"
            raise NotSent(str(silent), retryable=False) from silent
        return f"Channel {name} ({publisher.kind}) is ready: it posts as {who}"

    def router(self) -> ChannelRouter:
        return ChannelRouter(self)

    def _channel(self, name: str) -> Channel:
        try:
            return self._channels[name]
        except KeyError:
            raise NotFound(f"No channel named {name!r}; known channels: {', '.join(self._channels)}") from None

    def _for_network(self, network: str) -> Channel:
        configured = [c for c in self._channels.values() if not c.implicit]
        for wanted in (network, ANY):
            matching = [c for c in configured if c.publisher.network == wanted]
            if matching:
                return next((c for c in matching if c.default), matching[0])
        return next(c for c in self._channels.values() if c.name == "outbox")


class ChannelRouter:
    """One publisher for the scheduler: each post goes through its channel (or its network's)."""

    name = "router"
    kind = "router"
    network = ANY

    def __init__(self, channels: Channels):
        self.channels = channels

    def publish(self, post: Post, *, key: str) -> Published:
        try:
            publisher = self.channels.channel_for(post)
        except NotFound as exc:
            raise NotSent(f"{exc}; restore the channel or move the post to another one",
                          retryable=False) from None
        return publisher.publish(post, key=key)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        try:
            publisher = self.channels.channel_for(post)
        except NotFound as exc:
            raise OutcomeUnknown(str(exc)) from None
        return publisher.lookup(post, key=key)

    def check(self) -> str:
        return "; ".join(f"{p.name}: {p.check()}" for p in self.channels.all())


@dataclass(frozen=True)
class Storage:
    """Plume's database for publishers: uploaded media ids and stored tokens (absent in file-only use)."""

    uploads: object | None = None
    tokens: object | None = None


def _build(entry, index: int, *, env: Mapping[str, str], outbox: Path, storage: Storage) -> Channel:
    if not isinstance(entry, dict):
        raise ConfigError(f"Channel #{index} must be a mapping like `- name: brand-x`")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"Channel #{index} needs a `name` (letters, digits, '-', '_', '.'), got {name!r}")
    kind_name = entry.get("kind")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ConfigError(f"Channel {name}: unknown kind {kind_name!r}; use one of {', '.join(KINDS)}")
    if name == "outbox" and kind_name != "outbox":
        raise ConfigError("The channel name `outbox` is kept for the outbox; choose another name")
    unknown = set(entry) - COMMON - kind.required - kind.optional
    if unknown:
        raise ConfigError(f"Channel {name}: unknown field(s) {', '.join(sorted(unknown))} for kind {kind_name}; "
                          f"it takes {', '.join(sorted(kind.required | kind.optional))}")
    missing = [f for f in sorted(kind.required) if entry.get(f) in (None, "")]
    if missing:
        raise ConfigError(f"Channel {name} ({kind_name}) is missing {', '.join(missing)}")
    for secret in kind.secrets & set(entry):
        if not ENV_REF.fullmatch(str(entry[secret]).strip()):
            raise ConfigError(f"Channel {name}: `{secret}` must be an environment reference like "
                              f"${{{name.upper().replace('-', '_')}_{secret.upper()}}}, never the secret itself")
    values = {key: _resolve(value, name=name, field=key, env=env) for key, value in entry.items()}
    _check_fields(name, kind_name, values)
    network = values.get("network") or (kind.networks[0] if kind.networks else ANY)
    allowed = kind.networks or (ANY, *NETWORKS)
    if network not in allowed:
        raise ConfigError(f"Channel {name}: network {network!r} is not one {kind_name} can serve "
                          f"({', '.join(allowed)})")
    timezone, country = values.get("timezone"), values.get("country")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"Channel {name}: unknown IANA time zone {timezone!r} (try Europe/Paris)") from None
    if country is not None:  # checked as PLUME_COUNTRY is: the holiday calendar must exist
        if not re.fullmatch(r"[A-Za-z]{2}", str(country)):
            raise ConfigError(f"Channel {name}: country must be a two-letter ISO code like FR, got {country!r}")
        try:
            country = days_off.check_country(str(country))
        except ConfigError as exc:
            raise ConfigError(f"Channel {name}: {exc}") from None
    timeouts = Timeouts(connect=_seconds(values, "connect_timeout", Timeouts.connect, name),
                        read=_seconds(values, "timeout", Timeouts.read, name))
    env_of = {key: ENV_REF.fullmatch(str(entry[key]).strip()).group(1) for key in kind.secrets if key in entry}
    credentials = _credentials(kind_name, values, env_of)
    publisher, account = BUILDERS[kind_name](name, network, values, timeouts, env_of, outbox, storage)
    return Channel(publisher, account=account, default=bool(values.get("default")), timezone=timezone,
                   country=country, secrets=tuple(values[key] for key in sorted(kind.secrets) if key in values),
                   settings={k: v for k, v in values.items() if k in OAUTH | {"base_url", "author"}},
                   credentials=credentials)


def _credentials(kind_name: str, values: dict, env_of: dict) -> str:
    if kind_name not in ("x", "linkedin", "mastodon"):
        return ""
    if values.get("token"):
        return f"env:{env_of['token']}"
    if kind_name == "x" and values.get("consumer_key"):
        return "oauth1"
    return "stored"


def _check_fields(name: str, kind_name: str, values: dict) -> None:
    """Every field's value, so a typo stops Plume at start rather than a post at its time."""
    for key in URL_FIELDS:
        if key in values and not re.match(r"^https?://[^\s/]+", str(values[key])):
            raise ConfigError(f"Channel {name}: `{key}` must be an http(s) URL, got {values[key]!r}")
    if "default" in values and not isinstance(values["default"], bool):
        raise ConfigError(f"Channel {name}: `default` must be true or false, got {values['default']!r}")
    if kind_name == "mastodon" and values.get("visibility", "public") not in VISIBILITIES:
        raise ConfigError(f"Channel {name}: visibility must be one of {', '.join(VISIBILITIES)}, "
                          f"got {values.get('visibility')!r}")
    if kind_name == "bluesky" and not HANDLE.match(str(values["handle"]).lstrip("@")):
        raise ConfigError(f"Channel {name}: handle must be a Bluesky handle like tidewren.bsky.social, "
                          f"got {values['handle']!r}")
    if "author" in values and not AUTHOR.match(str(values["author"])):
        raise ConfigError(f"Channel {name}: author must be urn:li:organization:<id> or urn:li:person:<id>, "
                          f"got {values['author']!r}")
    if "version" in values and not re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", str(values["version"])):
        raise ConfigError(f"Channel {name}: version is LinkedIn-Version as YYYYMM (e.g. \"202611\"), "
                          f"got {values['version']!r}")
    if "redirect_port" in values and not (isinstance(values["redirect_port"], int)
                                          and 0 <= values["redirect_port"] <= 65535):
        raise ConfigError(f"Channel {name}: redirect_port must be a port number, got {values['redirect_port']!r}")
    if "folder" in values and not isinstance(values["folder"], str):
        raise ConfigError(f"Channel {name}: folder must be a path, got {values['folder']!r}")
    if kind_name == "x":
        given = [key for key in OAUTH1 if values.get(key)]
        if given and len(given) != len(OAUTH1):
            missing = ", ".join(key for key in OAUTH1 if key not in given)
            raise ConfigError(f"Channel {name}: OAuth 1.0a needs all four keys; missing {missing}")
        if given and values.get("token"):
            raise ConfigError(f"Channel {name}: give either `token` (OAuth 2.0) or the four OAuth 1.0a keys, not both")


def _resolve(value, *, name: str, field: str, env: Mapping[str, str]):
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match) -> str:
        found = env.get(match.group(1))
        if not found:
            raise ConfigError(f"Channel {name}: `{field}` needs the environment variable {match.group(1)}, "
                              "which is not set")
        return found

    return ENV_REF.sub(lookup, value)


def _seconds(values: dict, key: str, default: float, name: str) -> float:
    value = values.get(key, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1
    if not 0 < seconds <= 300:
        raise ConfigError(f"Channel {name}: `{key}` must be a number of seconds between 0 and 300, got {value!r}")
    return seconds


def _check_unique(channels: list[Channel]) -> None:
    seen: dict[str, Channel] = {}
    for channel in channels:
        if channel.name in seen:
            raise ConfigError(f"Two channels are named {channel.name}; names must be unique")
        seen[channel.name] = channel
    by_network: dict[str, list[Channel]] = {}
    for channel in channels:
        by_network.setdefault(channel.publisher.network, []).append(channel)
    for network, group in by_network.items():
        defaults = [c.name for c in group if c.default]
        if len(group) > 1 and len(defaults) != 1:
            label = "every network" if network == ANY else network
            names = ", ".join(c.name for c in group)
            problem = "several are" if defaults else "none is"
            raise ConfigError(f"Channels {names} all publish to {label} and {problem} marked "
                              "`default: true`; mark exactly one")


def _outbox(name, network, values, timeouts, env_of, outbox, storage):
    folder = Path(values.get("folder") or outbox).expanduser()
    return OutboxPublisher(folder, name=name, network=network, uploads=storage.uploads), str(folder)


def _webhook(name, network, values, timeouts, env_of, outbox, storage):
    from publishing.publishers.webhook import WebhookPublisher

    return (WebhookPublisher(name=name, url=values["url"], secret=values["secret"], network=network,
                             timeouts=timeouts, secret_env=env_of["secret"], uploads=storage.uploads),
            f"{http.origin(values['url'])}/…")


def _bearer(name, kind, values, storage, timeouts):
    """The channel's token: from the file (fixed), or stored by `plume channels connect` (refreshed
    with the channel's OAuth client when the network gave a refresh token)."""
    from publishing import oauth
    from publishing.tokens import Bearer

    if values.get("token"):
        return Bearer(channel=name, token=values["token"])
    refresher = None
    if values.get("client_id"):
        refresher = oauth.refresher(channel=name, token_url=oauth.provider(kind, values).token_url,
                                    client_id=values["client_id"], client_secret=values.get("client_secret"),
                                    timeouts=timeouts)
    return Bearer(channel=name, tokens=storage.tokens, refresher=refresher)


def _mastodon(name, network, values, timeouts, env_of, outbox, storage):
    from publishing.publishers.mastodon import MastodonPublisher

    bearer = _bearer(name, "mastodon", values, storage, timeouts)
    return (MastodonPublisher(name=name, base_url=values["base_url"], bearer=bearer, timeouts=timeouts,
                              visibility=values.get("visibility", "public"), token_env=env_of.get("token"),
                              uploads=storage.uploads), values["base_url"])


def _bluesky(name, network, values, timeouts, env_of, outbox, storage):
    from publishing.publishers.bluesky import BlueskyPublisher

    extra = {k: values[k] for k in ("base_url", "app_url") if values.get(k)}
    publisher = BlueskyPublisher(name=name, handle=str(values["handle"]).lstrip("@"), password=values["password"],
                                 timeouts=timeouts, password_env=env_of["password"], uploads=storage.uploads,
                                 **extra)
    return publisher, f"@{values['handle']} on {publisher.base_url}"


def _linkedin(name, network, values, timeouts, env_of, outbox, storage):
    from publishing.publishers.linkedin import LinkedInPublisher

    extra = {k: str(values[k]) for k in ("author", "base_url", "app_url", "version") if values.get(k)}
    publisher = LinkedInPublisher(name=name, bearer=_bearer(name, "linkedin", values, storage, timeouts),
                                  timeouts=timeouts, token_env=env_of.get("token"), uploads=storage.uploads, **extra)
    return publisher, f"{values.get('author') or 'the token owner'} via {publisher.base_url}"


def _x(name, network, values, timeouts, env_of, outbox, storage):
    from publishing.oauth import OAuth1
    from publishing.publishers.x import XPublisher

    extra = {k: values[k] for k in ("base_url", "app_url") if values.get(k)}
    if values.get("consumer_key"):
        auth = OAuth1(consumer_key=values["consumer_key"], consumer_secret=values["consumer_secret"],
                      token=values["access_token"], token_secret=values["access_token_secret"])
        publisher = XPublisher(name=name, auth=auth, timeouts=timeouts, token_env=env_of.get("access_token"),
                               uploads=storage.uploads, **extra)
    else:
        publisher = XPublisher(name=name, bearer=_bearer(name, "x", values, storage, timeouts),
                               timeouts=timeouts, token_env=env_of.get("token"), uploads=storage.uploads, **extra)
    return publisher, publisher.base_url


# Publisher modules are imported only for the kinds a file uses (atproto is slow to import).
BUILDERS: dict[str, Callable] = {"outbox": _outbox, "webhook": _webhook, "mastodon": _mastodon,
                                 "bluesky": _bluesky, "linkedin": _linkedin, "x": _x}
