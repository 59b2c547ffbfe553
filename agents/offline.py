"""Offline mode: rule-based brief intake and template drafts, used when no model is configured."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from core import checks, platforms, when
from core.brand import BrandProfile
from core.domain import (
    LOCALES,
    MAX_BRIEF_CHARS,
    NEEDS_MODEL_WARNING,
    NETWORKS,
    OFFLINE_LABEL,
    Brief,
    Passage,
    Variant,
)
from core.errors import ValidationFailed


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------------
# Vocabulary tables
# ---------------------------------------------------------------------------------------------

# fmt: off

EXAMPLE_BRIEF = "“Announce our new winter menu on LinkedIn and X tomorrow at 9am, link example.com/menu”"

# Words a brief uses for a network besides its name and platform aliases (core.platforms.resolve):
# the trade's verbs and nicknames.
BRIEF_NETWORK_WORDS = {
    "tweet": "x", "tweets": "x", "tweeting": "x", "skeet": "bluesky", "fediverse": "mastodon",
    "toot": "mastodon", "toots": "mastodon", "insta": "instagram", "linked-in": "linkedin",
}
# Network words that are also ordinary words ("Lumen x Nike", "threads of saffron", "a thread"):
# they only count next to words that introduce a network.
AMBIGUOUS_NETWORK_WORDS = frozenset({"x", "threads", "thread", "meta", "line", "skeet"})
UNSUPPORTED_NETWORKS = {
    "tiktok": "TikTok", "youtube": "YouTube", "pinterest": "Pinterest", "snapchat": "Snapchat",
    "reddit": "Reddit", "whatsapp": "WhatsApp", "telegram": "Telegram", "discord": "Discord",
    "tumblr": "Tumblr", "twitch": "Twitch", "wechat": "WeChat", "weibo": "Weibo", "vimeo": "Vimeo",
    "substack": "Substack", "snap": "Snapchat",
}

LANGUAGE_NAMES = {  # English and French names (and a few native ones) -> locale key
    "english": "en", "anglais": "en", "anglaise": "en",
    "french": "fr", "français": "fr", "francais": "fr", "française": "fr", "francaise": "fr",
    "german": "de", "allemand": "de", "allemande": "de", "deutsch": "de",
    "spanish": "es", "espagnol": "es", "espagnole": "es", "español": "es", "castellano": "es",
    "italian": "it", "italien": "it", "italienne": "it", "italiano": "it",
    "portuguese": "pt", "portugais": "pt", "portugaise": "pt", "português": "pt",
    "dutch": "nl", "néerlandais": "nl", "neerlandais": "nl", "néerlandaise": "nl", "nederlands": "nl",
}
UNSUPPORTED_LANGUAGES = {
    "japanese": "Japanese", "japonais": "Japanese", "chinese": "Chinese", "chinois": "Chinese",
    "mandarin": "Chinese", "cantonese": "Cantonese", "korean": "Korean", "coréen": "Korean",
    "arabic": "Arabic", "arabe": "Arabic", "russian": "Russian", "russe": "Russian", "hindi": "Hindi",
    "polish": "Polish", "polonais": "Polish", "swedish": "Swedish", "suédois": "Swedish",
    "danish": "Danish", "danois": "Danish", "norwegian": "Norwegian", "norvégien": "Norwegian",
    "finnish": "Finnish", "finnois": "Finnish", "turkish": "Turkish", "turc": "Turkish",
    "greek": "Greek", "grec": "Greek", "hebrew": "Hebrew", "hébreu": "Hebrew", "thai": "Thai",
    "vietnamese": "Vietnamese", "vietnamien": "Vietnamese", "indonesian": "Indonesian",
    "ukrainian": "Ukrainian", "ukrainien": "Ukrainian", "czech": "Czech", "tchèque": "Czech",
    "hungarian": "Hungarian", "hongrois": "Hungarian", "romanian": "Romanian", "roumain": "Romanian",
    "catalan": "Catalan", "klingon": "Klingon", "esperanto": "Esperanto", "latin": "Latin",
    "swahili": "Swahili", "tagalog": "Tagalog", "urdu": "Urdu", "persian": "Persian", "farsi": "Persian",
    "bengali": "Bengali",
}
UNSUPPORTED_CODES = {"ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "ru": "Russian",
                     "pl": "Polish", "sv": "Swedish", "tr": "Turkish", "el": "Greek", "uk": "Ukrainian"}
# "French press", "Turkish coffee", "Italian roast": a language adjective before these is food or
# kit, not a request to write in that language.
NOT_A_LANGUAGE_BEFORE = (
    "press|presses|roast|roasts|toast|fries|fry|oven|ovens|vanilla|style|cuisine|food|breakfast|bread|"
    "cheese|wine|wines|onion|door|doors|horn|kiss|braid|manicure|coffee|coffees|tea|teas|chocolate|"
    "blend|blends|pastry|pastries|bakery|restaurant|café|cafe|cafés|beans|curry|whisky|whiskey|beer|"
    "class|classes|lesson|lessons|course|courses|bulldog|ham|omelette|tart|tarts|dessert|desserts"
)

# Stop words that tell a French brief from an English one (words common to both are left out).
EN_STOPWORDS = _words(
    "the and to of is for with our we it this that about in at be are your you will from post write "
    "tomorrow next please an its by as have has out up just get new who what when")
FR_STOPWORDS = _words(
    "le la les des du de et un une pour sur avec notre nos nous est ce cette ces au aux qui que demain "
    "vous votre vos pas dans par mais ou il elle je rédige écris publie prochain prochaine nouveau "
    "nouvelle très leur leurs être sont")
FR_ELISION = re.compile(r"\b(?:l|d|qu|n|j|c|s)['’]\w", re.I)

# Goals, most specific first: a "launch party" is an event, a "launch sale" a promotion.
GOALS: tuple[tuple[str, str], ...] = (
    ("hiring", r"we(?:'|’)re hiring|hiring|join (?:our|the) team|job (?:opening|offer)s?|vacanc(?:y|ies)|"
               r"open (?:role|position)s?|recruit\w*|careers?|recrut\w*|offres? d['’]emploi|"
               r"rejoindre (?:notre|l['’])\s?équipe|rejoignez"),
    ("partnership", r"partner(?:ship)?s?|collab(?:oration)?s?|teamed up|team(?:ing)? up with|co-?branded|"
                    r"partenariat|partenaires?|en collaboration"),
    ("event", r"events?|webinars?|meetups?|meet-ups?|conferences?|workshops?|pop-?ups?|festivals?|"
              r"tastings?|launch party|live ?streams?|open house|salon|ateliers?|dégustations?|"
              r"événements?|evenements?|conférences?|rencontres?"),
    ("promotion", r"sales?|discounts?|\d+\s?%\s?off|promo(?:tion)?s?|promo codes?|coupons?|deals?|"
                  r"offers?|black friday|cyber monday|soldes|réductions?|remises?|codes? promo|"
                  r"free shipping|livraison offerte"),
    ("launch", r"launch\w*|introduc\w*|unveil\w*|new(?!\s+(?:post|tweet|caption|thread|draft|version)s?\b)|"
               r"now available|just dropped|releas\w*|(?:is|are)\s+back|back\s+in\s+stock|returns|de\s+retour|"
               r"lancement|lance[rz]?|lançons|nouveaux?|nouvelles?|nouveautés?|disponible"),
    ("milestone", r"anniversary|milestones?|celebrat\w*|\d+ years|birthday|anniversaire|\d+ ans"),
    ("announcement", r"announc\w*|news|updates?|annonc\w*|actualités?"),
)
DEFAULT_GOAL = "awareness"

# Hook lines by goal and locale: (with the brand name, without it).
HOOKS = {
    "launch": {"en": ("Something new from {brand}.", "Something new."),
               "fr": ("Du nouveau chez {brand}.", "Du nouveau.")},
    "event": {"en": ("Save the date.", "Save the date."), "fr": ("À vos agendas.", "À vos agendas.")},
    "promotion": {"en": ("A special offer from {brand}.", "A special offer."),
                  "fr": ("Une offre spéciale de {brand}.", "Une offre spéciale.")},
    "hiring": {"en": ("{brand} is hiring.", "We're hiring."), "fr": ("{brand} recrute.", "On recrute.")},
    "partnership": {"en": ("Better together.", "Better together."),
                    "fr": ("Mieux ensemble.", "Mieux ensemble.")},
    "milestone": {"en": ("A milestone for {brand}.", "A milestone worth celebrating."),
                  "fr": ("Une étape pour {brand}.", "Une étape à célébrer.")},
    "announcement": {"en": ("News from {brand}.", "Some news."),
                     "fr": ("Des nouvelles de {brand}.", "Des nouvelles.")},
    "awareness": {"en": ("From the {brand} team.", ""), "fr": ("De la part de l'équipe {brand}.", "")},
}
GOAL_EMOJI = {"launch": "✨", "event": "📅", "promotion": "🎁", "hiring": "🙌", "partnership": "🤝",
              "milestone": "🎉", "announcement": "📣", "awareness": "👋"}
CTA_EMOJI = "👉"
GOAL_TAGS = {
    "launch": {"en": ["NewRelease"], "fr": ["Nouveauté"]},
    "event": {"en": ["Event"], "fr": ["Événement"]},
    "promotion": {"en": ["SpecialOffer"], "fr": ["BonPlan"]},
    "hiring": {"en": ["Hiring", "JoinOurTeam"], "fr": ["Recrutement", "Emploi"]},
    "partnership": {"en": ["Partnership"], "fr": ["Partenariat"]},
    "milestone": {"en": ["Milestone"], "fr": ["Anniversaire"]},
    "announcement": {"en": ["News"], "fr": ["Actu"]},
}
LINK_IN_BIO = {"en": "Link in bio.", "fr": "Lien en bio."}
LINK_IN_BIO_INLINE = {"en": "the link in bio", "fr": "le lien en bio"}


@dataclass(frozen=True)
class Style:
    """How a network's template is laid out (the platform's tone, as a template sees it)."""

    layout: str  # "post" (hook, body, CTA, tags as paragraphs) | "short" (one paragraph) | "plain" | "caption"
    emoji: int  # emoji the template itself adds, before the brand's own limit
    tags: int  # how many optional tags the network's culture welcomes
    hook: bool
    camel_tags: bool = False  # Mastodon: CamelCase tags so screen readers say the words


STYLES = {
    "linkedin": Style("post", emoji=1, tags=3, hook=True),
    "facebook": Style("post", emoji=1, tags=2, hook=True),
    "x": Style("short", emoji=1, tags=2, hook=True),
    "bluesky": Style("short", emoji=1, tags=2, hook=True),
    "threads": Style("short", emoji=1, tags=2, hook=True),
    "mastodon": Style("plain", emoji=0, tags=4, hook=False, camel_tags=True),
    "instagram": Style("caption", emoji=2, tags=30, hook=True),
}
LAYOUT_NAMES = {"post": "hook + key message", "short": "short hook + key message",
                "plain": "plain key message", "caption": "caption"}

# Passages whose heading talks about these are the ones a template applies.
APPLIED_GUIDELINES = re.compile(
    r"voice|tone|style|emoji|hashtag|call[ -]to[ -]action|\bcta\b|banned|words?|vocabular|writing|"
    r"voix|\bton\b|mots?|appel à l['’]action|rédaction", re.I)
MAX_CITATIONS = 4

# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------

SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
SLACK_SPECIAL = re.compile(r"<[@#!][^>]*>")

NEGATION_BEFORE = re.compile(
    r"(?:\b(?:not|no|except|excluding|without|skip|sauf|sans|pas|hors|but not|other than)\s+"
    r"(?:on\s+|sur\s+|for\s+|pour\s+|to\s+|the\s+|de\s+|d['’])?"
    r"|\b(?:don['’]t|do not|never|ne)\s+(?:post|publish|share|publie[rz]?|poste[rz]?)\s+"
    r"(?:it\s+|this\s+|pas\s+)?(?:on|to|sur)\s+)$", re.I)
LIST_JOINER = re.compile(r"^\s*(?:,|and|or|nor|et|ou|ni|/|&|\+)\s*(?:on\s+|sur\s+)?$", re.I)
NETWORK_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:on|for|to|sur|pour|and|et|or|ou|via|onto|also)|[,/&+(]|^)\s*$", re.I)
NETWORK_CONTEXT_AFTER = re.compile(
    r"^(?:\s*(?:posts?|threads?|tweets?|versions?|captions?|and|et|or|ou|too|as well|only)\b|\s*[,/&+).:;!?]|\s*$)",
    re.I)
ALL_NETWORKS = re.compile(
    r"\b(?:all|every|each)\s+(?:the\s+|our\s+|of\s+our\s+)?(?:social\s+)?(?:networks?|platforms?|channels?|socials)\b"
    r"|\b(?:post|publish|share)\w*\s+(?:it\s+|this\s+)?everywhere\b"
    r"|\btous\s+(?:les\s+|nos\s+)?(?:réseaux|canaux)\b|\bpartout\b", re.I)

_LANG_ALT = "|".join(sorted(map(re.escape, {**LANGUAGE_NAMES, **UNSUPPORTED_LANGUAGES}), key=len, reverse=True))
_CODE_ALT = "|".join(sorted({*LOCALES, *UNSUPPORTED_CODES}))
LANGUAGE_NAME = re.compile(rf"(?<![\w-])(?:{_LANG_ALT})(?![\w-])", re.I)
# What makes a language name a request for that language rather than an adjective.
LANGUAGE_INTRO = re.compile(
    r"(?:\b(?:in|into|en|to|auf|versions?|translated?\s+(?:it\s+)?(?:in)?to|traduit\s+en|langues?|languages?"
    r"|locales?)\s*:?\s+(?:the\s+)?)$", re.I)
LANGUAGE_OUTRO = re.compile(
    r"^[\s-]+(?:versions?|translations?|copy|text|captions?|posts?|audiences?|followers|speakers|speaking|"
    r"too|as well|only|please)\b", re.I)
NOT_LANGUAGE_AFTER = re.compile(rf"^\s+(?:{NOT_A_LANGUAGE_BEFORE})\b", re.I)
LANGUAGE_JOINER = re.compile(r"^\s*(?:,|and|&|et|/|\+|or|ou)\s*(?:in\s+|en\s+)?$", re.I)
LOCALE_TAG = re.compile(rf"(?<![\w-])(?P<code>{_CODE_ALT})[-_][A-Za-z]{{2}}(?![\w-])", re.I)  # fr-FR, en_US
CODE_CHAIN = re.compile(rf"(?<![\w/.-])(?:{_CODE_ALT})(?:\s*/\s*(?:{_CODE_ALT}))+(?![\w/.-])", re.I)  # EN/FR
CODE_IN_BRACKETS = re.compile(rf"[(\[](?P<code>{_CODE_ALT.upper()})[)\]]")  # (FR), [EN]
CODE_LIST = re.compile(
    rf"\b(?:locales?|languages?|langs?|bilingual|bilingue)\s*:?\s*"
    rf"(?P<codes>(?:{_CODE_ALT})(?:\s*(?:,|/|&|and|et|\+)\s*(?:{_CODE_ALT}))*)(?![\w/-])", re.I)
BILINGUAL = re.compile(r"\b(?:bilingual|bilingue)\b", re.I)

CONSTRAINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:no|without|zero|avoid|sans|aucun|pas\s+d['’]|pas\s+de)\s*emojis?\b|\bemoji-?free\b", re.I),
     "no emoji"),
    (re.compile(r"\b(?:no|without|zero|avoid|sans|aucun|pas\s+de|pas\s+d['’])\s*hashtags?\b", re.I), "no hashtags"),
    (re.compile(r"\b(?:no|without|sans|pas\s+de)\s+links?\b|\bsans\s+lien\b", re.I), "no links"),
    (re.compile(r"\b(?:keep\s+it|make\s+it|keep\s+them)\s+(?:short|brief|tight|punchy|concise)"
                r"(?:\s+(?:and|&)\s+(?:sweet|simple|punchy|snappy))?\b"
                r"|\bshort\s+and\s+(?:sweet|punchy)\b|\b(?:fais|faites|reste|restez|soyez|sois)\s+(?:court|bref|concis)e?s?\b",
                re.I), "keep it short"),
    (re.compile(r"\b(?:formal|casual|playful|friendly|professional|fun|serious|witty|warm|upbeat)\s+tone\b"
                r"|\btone\s*:\s*\w+|\bton\s+(?:formel|décontracté|amical|professionnel|léger|chaleureux)\b",
                re.I), "tone"),
    (re.compile(r"\b(?:don['’]t|do\s+not|never|ne\s+pas)\s+mention\w*\s+[^.,;\n]{1,60}", re.I), "avoid"),
    (re.compile(r"\b(?:mention|tag|mentionne[rz]?|tague[rz]?|identifie[rz]?)\s+"
                r"(?:@[\w.@-]+(?:\s*(?:,|and|&|et)\s*@[\w.@-]+)*)", re.I), "mention"),
)

POST_VERB = re.compile(
    r"\b(?:post|posting|posted|publish\w*|schedul\w*|go(?:es)?\s+(?:live|out)|send|tweet\w*|share|"
    r"publie[rz]?|publication|poste[rz]?|programme[rz]?|diffuse[rz]?|partage[rz]?|mettre\s+en\s+ligne)\b",
    re.I)

# Words that only carry the request ("write a LinkedIn post about …"), not the message.
INSTRUCTION_VERBS = _words(
    "write draft create make prepare compose craft give generate post publish share schedule tweet put "
    "announce announcing promote promoting posting publishing sharing need want "
    "rédige rédiger rédigez écris écrire écrivez prépare préparer préparez crée créer créez fais faire "
    "faites publie publier publiez poste poster postez partage partager partagez programme programmer "
    "programmez annoncer annonçant propose proposer use include utilise utiliser ajoute")
INSTRUCTION_WORDS = INSTRUCTION_VERBS | _words(
    "a an the some me us it this that these them quick short little posts tweets thread threads caption "
    "captions update message messages copy content version versions draft drafts text for on to in at and "
    "or about regarding re saying via both each please pls plz thanks thank you can could would will i "
    "hey hi plume social socials media network networks platform platforms channel channels account "
    "accounts link links url lien liens also too as well then with except excluding not but without "
    "sauf hors sans pas avec "
    "un une des le la les l d petit petite publication publications légende sur pour à au aux en et ou "
    "de du qui que concernant propos stp svp merci peux tu pourrais pouvez ça cela aussi")

REQUEST_QUESTION = _words("can could would will pourrais peux pouvez pourriez")
WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w-]*")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
CLAUSE_SPLIT = re.compile(r"(\s+[—–]\s+|;\s+)")
TOKEN = re.compile(r"\uE000\d+\uE001|[\w@#$€£%][\w'’@#$€£%.,/&+-]*[\w%]|[\w@#$€£%]|\S")
KEY_MESSAGE_SENTENCES, KEY_MESSAGE_CHARS = 2, 280
REQUEST_JOINER = re.compile(
    r"[\s,;:/&+()–—-]*(?:(?:and|et|or|ou|on|sur|in|en|for|pour|to)\s+)?[\s,;:/&+()–—-]*", re.I)



# fmt: on
# ---------------------------------------------------------------------------------------------
# parse_brief
# ---------------------------------------------------------------------------------------------


@dataclass
class _Mark:
    """A span of the brief that a rule recognised (a network, a language, a date, a link…)."""

    start: int
    end: int
    kind: str  # network | language | date | link | constraint
    instruction: bool = True  # whether it belongs to the request rather than the message


def parse_brief(
    text: str,
    *,
    now: datetime,
    timezone: str,
    default_networks: list[str],
    default_locales: list[str],
) -> Brief:
    """Read a free-text brief with rules: networks, locales, wanted time, links, goal, message."""
    raw = _validated(text)
    local_now = when.local_now(now, when.zone_info(timezone))
    clean = _unslack(raw)
    marks: list[_Mark] = []
    warnings: list[str] = []

    links, link_marks = _links(clean)
    marks += link_marks
    # Rules read the brief with its links blanked out: "lumen.coffee/x" names no network.
    scan = _blank(clean, link_marks)
    constraints, constraint_marks = _constraints(scan)
    marks += constraint_marks
    networks, network_marks, network_warnings = _networks(scan, default_networks)
    marks += network_marks
    source = _source_locale(scan, default_locales)
    locales, language_marks, language_warnings = _locales(scan, source, default_locales)
    marks += language_marks
    goal = _goal(scan)
    not_before, date_marks, date_warnings = _wanted_time(
        scan, local_now, goal=goal, request=network_marks + language_marks
    )
    marks += date_marks
    warnings += network_warnings + language_warnings + date_warnings

    key_message = _key_message(clean, marks, french=source == "fr")
    if not key_message and not links:
        raise ValidationFailed(
            "I can see where and when, but not what to post about — add the message itself, "
            f"e.g. {EXAMPLE_BRIEF}."
        )
    return Brief(
        text=raw,
        goal=goal,
        key_message=key_message,
        networks=networks,
        locales=locales,
        timezone=timezone,
        not_before=not_before,
        links=links,
        constraints=constraints,
        warnings=warnings,
    )


def _validated(text: str) -> str:
    stripped = (text or "").strip()
    if not stripped:
        raise ValidationFailed(
            f"Tell me what to post about — e.g. {EXAMPLE_BRIEF}. A few sentences are enough: "
            "the message, the networks (X, Bluesky, Mastodon, LinkedIn, Threads, Instagram, "
            "Facebook), when, and any link."
        )
    if len(stripped) > MAX_BRIEF_CHARS:
        raise ValidationFailed(
            f"That brief is {len(stripped):,} characters; "
            f"briefs are limited to {MAX_BRIEF_CHARS:,} — "
            "paste the key points, or put long material in the brand kit."
        )
    return stripped


def _unslack(text: str) -> str:
    """Slack wraps links and mentions in <…>; keep what a person typed."""
    text = SLACK_LINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = SLACK_SPECIAL.sub(" ", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _blank(text: str, marks: list[_Mark]) -> str:
    """The text with the marked spans turned to spaces, so offsets still point at the same place."""
    for mark in marks:
        text = text[: mark.start] + " " * (mark.end - mark.start) + text[mark.end :]
    return text


# --- links ---------------------------------------------------------------------------------------


def _links(text: str) -> tuple[list[str], list[_Mark]]:
    """Links as the networks see them (with or without https://), in order, each once."""
    marks, cursor = [], 0
    for link in platforms.urls(text):
        start = text.index(link, cursor)
        cursor = start + len(link)
        marks.append(_Mark(start, cursor, "link"))
    return list(dict.fromkeys(text[m.start : m.end] for m in marks)), marks


# --- constraints ---------------------------------------------------------------------------------


def _constraints(text: str) -> tuple[list[str], list[_Mark]]:
    constraints: list[str] = []
    marks: list[_Mark] = []
    for pattern, kind in CONSTRAINTS:
        for m in pattern.finditer(text):
            if any(mark.start <= m.start() < mark.end for mark in marks):
                continue
            phrase = " ".join(m.group().split())
            if kind == "mention":
                constraints.append("mention " + " ".join(platforms.mentions(phrase)))
            elif kind in ("tone", "avoid"):
                constraints.append(phrase[0].lower() + phrase[1:])
            else:
                constraints.append(kind)
            marks.append(_Mark(m.start(), m.end(), "constraint"))
    return list(dict.fromkeys(constraints)), marks


# --- networks ------------------------------------------------------------------------------------


def _network_word(word: str) -> str | None:
    return platforms.resolve(word) or BRIEF_NETWORK_WORDS.get(word.lower())


def _in_network_context(text: str, start: int, end: int) -> bool:
    return bool(
        NETWORK_CONTEXT_BEFORE.search(text[max(0, start - 12) : start])
        or NETWORK_CONTEXT_AFTER.match(text[end : end + 16])
    )


@dataclass
class _Mention:
    start: int
    end: int
    name: str  # canonical network, or the label of an unsupported one
    supported: bool
    negated: bool = False


def _network_mentions(text: str) -> list[_Mention]:
    mentions: list[_Mention] = []
    for m in WORD.finditer(text):
        word, low = m.group(), m.group().lower()
        name = _network_word(word)
        if name:
            ambiguous = low in AMBIGUOUS_NETWORK_WORDS
            # "Threads" with a capital mid-sentence is the network; "threads of saffron" is not.
            capitalised = word == "Threads" and not re.search(
                r"(?:^|[.!?\n])\s*$", text[: m.start()]
            )
            if ambiguous and not capitalised and not _in_network_context(text, m.start(), m.end()):
                continue
            mentions.append(_Mention(m.start(), m.end(), name, True))
        elif low in UNSUPPORTED_NETWORKS and (
            low != "snap" or _in_network_context(text, m.start(), m.end())
        ):
            mentions.append(_Mention(m.start(), m.end(), UNSUPPORTED_NETWORKS[low], False))
    previous: _Mention | None = None
    for mention in mentions:
        before = text[max(0, mention.start - 40) : mention.start]
        chained = (
            previous is not None
            and previous.negated
            and LIST_JOINER.match(text[previous.end : mention.start])
        )
        mention.negated = bool(NEGATION_BEFORE.search(before) or chained)
        previous = mention
    return mentions


def _networks(text: str, default_networks: list[str]) -> tuple[list[str], list[_Mark], list[str]]:
    mentions = _network_mentions(text)
    everything = list(ALL_NETWORKS.finditer(text))
    excluded = {m.name for m in mentions if m.negated and m.supported}
    named = {m.name for m in mentions if not m.negated and m.supported}
    if everything:
        chosen = [n for n in NETWORKS if n not in excluded]
    elif named:
        chosen = [n for n in NETWORKS if n in named]
    else:
        chosen = [n for n in default_networks if n not in excluded]
    marks = [_Mark(m.start, m.end, "network") for m in mentions]
    marks += [_Mark(m.start(), m.end(), "network") for m in everything]

    unsupported = list(dict.fromkeys(m.name for m in mentions if not m.supported and not m.negated))
    warnings = []
    if unsupported:
        supported = _join(_labels(NETWORKS))
        verb, pronoun = ("isn't", "it") if len(unsupported) == 1 else ("aren't", "them")
        tail = f"I left {pronoun} out"
        if not named and not everything:
            tail += f" and used your default networks ({_join(_labels(chosen))})"
        warnings.append(
            f"{_join(unsupported)} {verb} supported yet — Plume drafts for {supported}; {tail}."
        )
    if not chosen:
        choices = _join(_labels(NETWORKS), "or")
        raise ValidationFailed(
            f"The brief leaves no network to post on — name at least one of {choices}."
        )
    return chosen, marks, warnings


def _labels(names) -> list[str]:
    return [platforms.get(n).label if n in NETWORKS else n for n in names]


def _join(items: list[str], last: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


# --- locales -------------------------------------------------------------------------------------


def _source_locale(text: str, default_locales: list[str]) -> str:
    words = re.findall(r"[^\W\d_]+", text.lower())
    english = sum(w in EN_STOPWORDS for w in words)
    french = sum(w in FR_STOPWORDS for w in words) + len(FR_ELISION.findall(text))
    if french > english:
        return "fr"
    if english > french:
        return "en"
    return default_locales[0] if default_locales else "en"


def _language_marks(text: str) -> list[tuple[int, int, str | None, str]]:
    """(start, end, locale or None, display name) for each language the brief asks for."""
    found = _named_languages(text)
    for m in LOCALE_TAG.finditer(text):
        found.append((m.start(), m.end(), m["code"].lower()))
    for m in CODE_CHAIN.finditer(text):
        found += [(m.start(), m.end(), code.strip().lower()) for code in m.group().split("/")]
    for m in CODE_IN_BRACKETS.finditer(text):
        found.append((m.start(), m.end(), m["code"].lower()))
    for m in CODE_LIST.finditer(text):
        codes = re.split(r"\s*(?:,|/|&|and|et|\+)\s*", m["codes"], flags=re.I)
        found += [(m.start(), m.end(), code.lower()) for code in codes if code]
    marks = []
    for start, end, key in sorted(found):
        code = LANGUAGE_NAMES.get(key) or (key if key in LOCALES else None)
        display = (
            LOCALES[code] if code else UNSUPPORTED_LANGUAGES.get(key) or UNSUPPORTED_CODES[key]
        )
        marks.append((start, end, code, display))
    return marks


def _named_languages(text: str) -> list[tuple[int, int, str]]:
    """Names that ask for a language: "in French", "French version", "French and English"."""
    names = [
        m for m in LANGUAGE_NAME.finditer(text) if not NOT_LANGUAGE_AFTER.match(text[m.end() :])
    ]
    spans: dict[int, tuple[int, int]] = {}
    for m in names:
        window = max(0, m.start() - 40)
        intro = LANGUAGE_INTRO.search(text[window : m.start()])
        if intro:
            spans[m.start()] = (window + intro.start(), m.end())
        elif LANGUAGE_OUTRO.match(text[m.end() :]):
            spans[m.start()] = m.span()
    # Two language names joined by "and", "/"… are a list of languages, not adjectives.
    for a, b in zip(names, names[1:], strict=False):
        if LANGUAGE_JOINER.match(text[a.end() : b.start()]):
            spans.setdefault(a.start(), a.span())
            spans.setdefault(b.start(), b.span())
    return [(*spans[m.start()], m.group().lower()) for m in names if m.start() in spans]


def _locales(
    text: str, source: str, default_locales: list[str]
) -> tuple[list[str], list[_Mark], list[str]]:
    found = _language_marks(text)
    named = list(dict.fromkeys(code for _, _, code, _ in found if code))
    if BILINGUAL.search(text) and len(named) < 2:
        named = list(dict.fromkeys([*named, "en", "fr"]))
    wanted = named or list(default_locales)
    # The brief's own language leads: it is the only text offline mode can write.
    locales = [source, *(code for code in wanted if code != source)]
    unsupported = list(dict.fromkeys(display for _, _, code, display in found if code is None))
    warnings = []
    if unsupported:
        verb, pronoun = ("isn't", "it") if len(unsupported) == 1 else ("aren't", "them")
        warnings.append(
            f"{_join(unsupported)} {verb} supported yet — Plume writes in "
            f"{_join(list(LOCALES.values()))}; I left {pronoun} out."
        )
    marks = [_Mark(s, e, "language") for s, e, _, _ in found]
    marks += [_Mark(m.start(), m.end(), "language") for m in BILINGUAL.finditer(text)]
    return locales, marks, warnings


# --- dates ---------------------------------------------------------------------------------------


def _wanted_time(
    text: str, now: datetime, *, goal: str, request: list[_Mark]
) -> tuple[str | None, list[_Mark], list[str]]:
    """The earliest wanted publication time, from the date phrases the brief contains.

    `request` holds the marks of the networks and languages asked for: a date listed with them
    ("…on LinkedIn and X in English, tomorrow morning") is part of the request too, unless the
    brief is about an event, whose own date belongs to the message."""
    phrases = when.find(text, now=now)
    anchored = [
        _anchored(text, p.start, p.end)
        or (goal != "event" and any(_listed_with(text, p.start, p.end, m) for m in request))
        for p in phrases
    ]
    marks = [_Mark(p.start, p.end, "date", instruction=a) for p, a in zip(phrases, anchored, strict=True)]
    chosen = next((p for p, a in zip(phrases, anchored, strict=True) if a), None)
    # An event's own date ("our pop-up on Friday evening") is when to be there, not when to post:
    # promoting it then would be too late, so only a date tied to posting counts for events.
    if chosen is None and goal != "event":
        chosen = phrases[0] if phrases else None
    if chosen is None or chosen.at is None:
        return None, marks, []
    if chosen.past:
        return (
            None,
            marks,
            [f"“{chosen.text}” is in the past — I'll propose the next good slot instead."],
        )
    return max(chosen.at, now).isoformat(), marks, []


def _listed_with(text: str, start: int, end: int, mark: _Mark) -> bool:
    """Whether only joiners ("and", ",", "on", "en"…) stand between a date and a request mark."""
    if start < mark.end and mark.start < end:
        return False
    gap = text[end : mark.start] if mark.start >= end else text[mark.end : start]
    return bool(REQUEST_JOINER.fullmatch(gap))


def _anchored(text: str, start: int, end: int) -> bool:
    """Whether a date phrase is about posting ("post tomorrow") rather than the news itself."""
    before = re.split(r"[.!?\n:;—]", text[max(0, start - 50) : start])[-1]
    after = re.split(r"[.!?\n]", text[end : end + 30])[0]
    if POST_VERB.search(before):
        return True
    # "Tomorrow at 9am, post…": a date that opens the sentence and is followed by the verb.
    opens = not re.search(r"\w", before)
    return opens and bool(re.match(r"^[\s,:—–-]*(?:please\s+)?" + POST_VERB.pattern, after, re.I))


# --- goal and key message ------------------------------------------------------------------------


def _goal(text: str) -> str:
    for goal, pattern in GOALS:
        if re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.I):
            return goal
    return DEFAULT_GOAL


def _key_message(text: str, marks: list[_Mark], *, french: bool) -> str:
    """The brief without its instructions: the first sentence or two of what to say."""
    masked, originals = _mask(text, marks)
    sentences: list[str] = []
    for sentence in SENTENCE_END.split(masked):
        kept = _strip_sentence(sentence, originals)
        if kept:
            sentences.append(kept)
    message = ""
    for sentence in sentences[:KEY_MESSAGE_SENTENCES]:
        candidate = f"{message} {sentence}".strip()
        if message and len(candidate) > KEY_MESSAGE_CHARS:
            break
        message = candidate
    return _tidy(message, french=french)


def _mask(text: str, marks: list[_Mark]) -> tuple[str, list[tuple[_Mark, str]]]:
    """Replace each recognised span with one placeholder token, so runs of them can be stripped."""
    chosen: list[_Mark] = []
    for mark in sorted(marks, key=lambda m: (m.start, -(m.end - m.start))):
        if not any(c.start < mark.end and mark.start < c.end for c in chosen):
            chosen.append(mark)
    originals: list[tuple[_Mark, str]] = []
    pieces, cursor = [], 0
    for mark in chosen:
        pieces.append(text[cursor : mark.start])
        pieces.append(f" \ue000{len(originals)}\ue001 ")
        originals.append((mark, text[mark.start : mark.end]))
        cursor = mark.end
    pieces.append(text[cursor:])
    return "".join(pieces), originals


def _strip_sentence(sentence: str, originals: list[tuple[_Mark, str]]) -> str:
    clauses = CLAUSE_SPLIT.split(sentence)
    kept: list[str] = []
    for index in range(0, len(clauses), 2):
        clause = _strip_clause(clauses[index], originals)
        if clause:
            if kept:
                kept.append(clauses[index - 1])
            kept.append(clause)
    return "".join(kept).strip()


def _strip_clause(clause: str, originals: list[tuple[_Mark, str]]) -> str:
    tokens = list(TOKEN.finditer(clause))
    kinds = [_token_kind(t.group(), originals) for t in tokens]
    if "content" not in kinds:
        return ""
    first = kinds.index("content")
    # A date that is not about posting ("join us on December 3") is part of the message.
    last = max(i for i, k in enumerate(kinds) if k in ("content", "soft"))
    stripped_lead = _request_words(kinds[:first], leading=True)
    start = tokens[first].start() if stripped_lead else 0
    end = tokens[last].end() if _request_words(kinds[last + 1 :], leading=False) else len(clause)
    closing = re.match(r"[.!?…]+", tokens[-1].group()) if end < len(clause) else None
    kept = _unmask(clause[start:end], originals).strip() + (closing.group() if closing else "")
    # "Can you draft a caption for our pop-up?": the question mark belonged to the request.
    asked = {t.group().lower() for t in tokens[:first]} & REQUEST_QUESTION
    return kept.rstrip("?").rstrip() if stripped_lead and asked else kept


def _token_kind(token: str, originals: list[tuple[_Mark, str]]) -> str:
    if token.startswith("\ue000"):
        mark = originals[int(token[1:-1])][0]
        if mark.kind in ("link", "constraint"):
            return "removed"
        return "marker" if mark.instruction else "soft"
    if not re.match(r"[\w@#$€£%]", token):
        return "punct"
    low = token.lower().strip("'’")
    if low in INSTRUCTION_VERBS:
        return "verb"
    if low in INSTRUCTION_WORDS or re.fullmatch(r"(?:l|d|qu)['’]", low):
        return "instruction"
    return "content"


def _request_words(kinds: list[str], *, leading: bool) -> bool:
    """Whether a run of non-message words around the message is the request itself."""
    if all(k == "punct" for k in kinds):
        return leading  # stray bullets and colons go; the sentence's own "!" stays
    if leading:
        # "Write a post about…", "LinkedIn, tomorrow: …" go; "The new blend…" keeps its article.
        return any(k in ("marker", "soft", "removed", "verb") for k in kinds)
    # At the end only where/when-to-post words go: "…our latest blog post" stays.
    return any(k in ("marker", "removed") for k in kinds)


def _unmask(text: str, originals: list[tuple[_Mark, str]]) -> str:
    def original(m: re.Match[str]) -> str:
        mark, value = originals[int(m.group(1))]
        return "" if mark.kind == "constraint" else value

    return re.sub(r"\s?\uE000(\d+)\uE001\s?", lambda m: f" {original(m)} ", text)


def _tidy(text: str, *, french: bool = False) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    # French sets a space before ; : ! ? — keep the writer's typography there.
    text = re.sub(r"\s+([,.…)])" if french else r"\s+([,.;:!?…)])", r"\1", text)
    text = re.sub(r"([(])\s+", r"\1", text)
    text = re.sub(r"^[\s,;:—–\-]+|[\s,;:—–\-]+$", "", text)
    text = re.sub(r"([,;:])(?=[.!?])", "", text)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------------------------


@dataclass
class _Parts:
    """The pieces a template is made of; fitting drops or shortens them in a fixed order."""

    hook: str = ""
    body: str = ""
    disclosure: str = ""  # a required disclosure that is not a hashtag ("Paid partnership")
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    cta: str = ""
    link_in_bio: str = ""
    disclosure_tags: list[str] = field(default_factory=list)  # never dropped
    required_tags: list[str] = field(default_factory=list)
    optional_tags: list[str] = field(default_factory=list)


def compose(
    brief: Brief, *, network: str, locale: str, profile: BrandProfile, passages: list[Passage]
) -> Variant:
    """A template draft of the brief for one network, in the brand's rules; never translated."""
    platform = platforms.get(network)
    # Offline mode can only write in the brief's own language, whatever locale is asked for.
    source = brief.locales[0] if brief.locales else locale
    style = STYLES.get(platform.name, STYLES["linkedin"])
    parts, notes = _fit(
        _parts(brief, locale=source, profile=profile, platform=platform, style=style),
        style,
        platform,
    )
    text = _render(parts, style)
    warnings = [OFFLINE_LABEL]
    if locale != source:
        text = local_hashtags(text, locale, profile)
        warnings.append(NEEDS_MODEL_WARNING)
    citations = _citations(passages, platform)
    return Variant(
        network=platform.name,
        locale=locale,
        text=text,
        offline=True,
        warnings=warnings + notes,
        citations=citations,
        rationale=_rationale(parts, style, platform.label, passages, citations),
    )


def _parts(
    brief: Brief, *, locale: str, profile: BrandProfile, platform: platforms.Platform, style: Style
) -> _Parts:
    asked = {c.split(" ", 1)[0] if c.startswith("mention ") else c for c in brief.constraints}
    short = "keep it short" in asked
    budget = 0 if (not profile.emoji.allowed or "no emoji" in asked) else max(profile.emoji.max, 0)

    # The brief's and the brand's own words first; the template's emoji only use what is left.
    message = _sentences(brief.key_message)[0] if short and brief.key_message else brief.key_message
    body = _terminated(_limit_emoji(_brand_text(message, profile, platform, locale), budget))
    budget -= len(platforms.emoji(body))
    cta = _limit_emoji(
        _brand_text(profile.call_to_action.get(locale, ""), profile, platform, locale), budget
    )
    budget -= len(platforms.emoji(cta))

    goal = brief.goal or DEFAULT_GOAL
    hook = _ban(_hook(goal, locale, profile), profile.banned) if style.hook and not short else ""
    template_emoji = min(style.emoji, budget)
    if hook and template_emoji > 0:
        hook, template_emoji = (
            f"{GOAL_EMOJI.get(goal, GOAL_EMOJI[DEFAULT_GOAL])} {hook}",
            template_emoji - 1,
        )
    if cta and style.layout == "caption" and template_emoji > 0:
        cta = f"{CTA_EMOJI} {cta}"

    cta, links, link_in_bio = _link_parts(
        [] if "no links" in asked else brief.links,
        body=body,
        cta=cta,
        platform=platform,
        locale=locale,
    )
    disclosure, disclosure_tags = _disclosures(brief, body, profile)
    body = _unhash(
        body, keep=min(platform.max_hashtags, profile.hashtags.max) - len(disclosure_tags)
    )
    required, optional = _hashtags(
        goal,
        locale,
        profile,
        platform,
        style,
        body,
        disclosure_tags,
        optional=("no hashtags" not in asked),
    )
    return _Parts(
        hook=hook,
        body=body,
        disclosure=disclosure,
        mentions=_mentions(brief.constraints, body, platform),
        links=links,
        cta=cta,
        link_in_bio=link_in_bio,
        disclosure_tags=disclosure_tags,
        required_tags=required,
        optional_tags=optional,
    )


def _brand_text(text: str, profile: BrandProfile, platform: platforms.Platform, locale: str) -> str:
    text = _ban(text, profile.banned)
    return _links_to_bio(text, locale) if platform.max_links == 0 else text


def _link_parts(
    wanted: list[str], *, body: str, cta: str, platform: platforms.Platform, locale: str
) -> tuple[str, list[str], str]:
    """The CTA, the links to add after the message and a "link in bio" line, within the limit."""
    in_text = set(platforms.urls(body))
    cta_links = set(platforms.urls(cta))
    if cta_links and len(in_text | set(wanted) | cta_links) > platform.max_links:
        cta, cta_links = "", set()  # the brief's links come before the one in the brand's CTA
    in_text |= cta_links
    links = [link for link in wanted if link not in in_text]
    room = max(platform.max_links - len(in_text), 0)
    pointer = LINK_IN_BIO_INLINE.get(locale, LINK_IN_BIO_INLINE["en"])
    bio = platform.max_links == 0 and len(links) > room and pointer not in f"{body} {cta}"
    return cta, links[:room], LINK_IN_BIO.get(locale, LINK_IN_BIO["en"]) if bio else ""


def _hook(goal: str, locale: str, profile: BrandProfile) -> str:
    with_brand, without = HOOKS.get(goal, HOOKS[DEFAULT_GOAL]).get(locale, ("", ""))
    named = profile.name.strip() and profile.name != BrandProfile().name
    return with_brand.format(brand=profile.name.strip()) if named else without


def _terminated(text: str) -> str:
    """End the message like a sentence, unless it ends with punctuation, a tag or an emoji."""
    text = text.strip()
    if not text or re.search(r"[.!?…:)\"”»]$|[#@]\w+$", text):
        return text
    found = platforms.emoji(text)
    return text if found and text.endswith(found[-1]) else text + "."


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?…])\s+", text.strip()) if s]


def _ban(text: str, banned: dict[str, str]) -> str:
    """Swap banned words for the brand's replacement in prose (links and handles are left alone)."""
    if not text or not banned:
        return text
    prose = platforms.blank(text)
    pieces, cursor = [], 0
    # Only runs of text that are prose (unchanged by blanking) are rewritten.
    for m in re.finditer(r"(?:[^ ]| (?! ))+", prose):
        if text[m.start() : m.end()] != m.group():
            continue
        pieces.append(text[cursor : m.start()])
        pieces.append(_ban_prose(m.group(), banned))
        cursor = m.end()
    pieces.append(text[cursor:])
    return re.sub(r"[ \t]{2,}", " ", "".join(pieces)).strip()


def _ban_prose(text: str, banned: dict[str, str]) -> str:
    for word in sorted(banned, key=len, reverse=True):
        if not word.strip():
            continue
        replacement = banned[word]
        words = r"\s+".join(map(re.escape, word.split()))
        # A word with no replacement is dropped along with the space before it.
        space = r"[ \t]?" if not replacement else ""
        pattern = re.compile(rf"{space}(?<![\w#])(?P<hash>#?){words}(?!\w)", re.I)
        text = pattern.sub(lambda m, r=replacement: _replacement(m, r), text)
    return text


def _replacement(match: re.Match[str], replacement: str) -> str:
    found = match.group().strip()
    if match["hash"]:  # inside a hashtag the replacement must stay one tag
        return _case_tag(replacement, "camel") if replacement else ""
    if not replacement:
        return ""
    if found.isupper() and len(found) > 1:
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _limit_emoji(text: str, allowed: int) -> str:
    """Keep the first `allowed` emoji of the text and drop the rest."""
    pieces, cursor, kept = [], 0, 0
    for emoji in platforms.emoji(text):
        at = text.index(emoji, cursor)
        pieces.append(text[cursor:at])
        if kept < allowed:
            pieces.append(emoji)
            kept += 1
        cursor = at + len(emoji)
    pieces.append(text[cursor:])
    return re.sub(r" +([.,])", r"\1", re.sub(r"[ \t]{2,}", " ", "".join(pieces))).strip()


def _unhash(text: str, *, keep: int) -> str:
    """Turn the message's hashtags past the limit (disclosures come first) into plain words."""
    for tag in list(dict.fromkeys(platforms.hashtags(text)))[max(keep, 0) :]:
        text = re.sub(rf"(?<!\w){re.escape(tag)}(?!\w)", tag[1:], text)
    return text


def _links_to_bio(text: str, locale: str) -> str:
    # Caption links are not clickable (and fail the link check): point to the bio instead.
    for link in platforms.urls(text):
        text = text.replace(link, LINK_IN_BIO_INLINE.get(locale, LINK_IN_BIO_INLINE["en"]), 1)
    return text


def _disclosures(brief: Brief, body: str, profile: BrandProfile) -> tuple[str, list[str]]:
    """Disclosures the brand requires for this brief (#ad for a partnership…), as checks sees it."""
    texts, tags = [], []
    for disclosure in profile.disclosures:
        if checks.disclosures(body, [disclosure], brief_text=brief.text).ok:
            continue
        if disclosure.tag.strip().startswith("#"):
            tags.append(_case_tag(disclosure.tag, profile.hashtags.casing))
        else:
            texts.append(_terminated(disclosure.tag))
    return " ".join(texts), tags


def _mentions(constraints: list[str], body: str, platform: platforms.Platform) -> list[str]:
    handles = [
        h
        for c in constraints
        if c.startswith("mention ")
        for h in c.split()[1:]
        if h.startswith("@")
    ]
    present = {h.lower() for h in platforms.mentions(body)}
    wanted = [h for h in dict.fromkeys(handles) if h.lower() not in present]
    return wanted[: max(platform.max_mentions - len(present), 0)]


def _hashtags(
    goal: str,
    locale: str,
    profile: BrandProfile,
    platform: platforms.Platform,
    style: Style,
    body: str,
    disclosure_tags: list[str],
    *,
    optional: bool,
) -> tuple[list[str], list[str]]:
    """Required tags first, then the brand's defaults, then the goal's, within every limit."""
    policy = profile.hashtags
    casing = (
        "camel"
        if policy.casing == "camel" or (style.camel_tags and policy.casing == "any")
        else policy.casing
    )
    taken = {t.lower().lstrip("#") for t in [*platforms.hashtags(body), *disclosure_tags]}
    forbidden = {t.lower().lstrip("#") for t in policy.forbidden}
    banned = [w.lower() for w in profile.banned if w.strip()]
    limit = min(platform.max_hashtags, policy.max) - len(taken)

    def usable(tags: list[str]) -> list[str]:
        chosen = []
        for tag in tags:
            cased = _case_tag(tag, casing)
            key = cased.lower().lstrip("#")
            if not key or key in taken or key in forbidden or any(w in key for w in banned):
                continue
            taken.add(key)
            chosen.append(cased)
        return chosen

    required = usable(list(policy.required))[: max(limit, 0)]
    if not optional:
        return required, []
    by_goal = GOAL_TAGS.get(goal, {})
    extra = usable([*profile.topical_hashtags(locale), *(by_goal.get(locale) or by_goal.get("en", []))])
    room = min(limit, max(style.tags, len(required))) - len(required)
    return required, extra[: max(room, 0)]


def local_hashtags(text: str, locale: str, profile: BrandProfile) -> str:
    """The text with each tag the brand swaps in `locale` replaced by the local one (brand.yaml
    hashtags.equivalents): an untranslated post still carries its audience's own tags."""
    equivalents = {k.casefold(): v for k, v in profile.hashtag_equivalents(locale).items()}
    for tag in dict.fromkeys(platforms.hashtags(text)):
        local = equivalents.get(tag.casefold())
        if local is None:
            continue
        tag_alone = rf"(?<![\w/#＃&]){re.escape(tag)}(?!\w)"
        if local.casefold() in {t.casefold() for t in platforms.hashtags(text)}:
            # The local tag is already there: drop this one rather than repeat it.
            text = re.sub(rf"[ \t]+{tag_alone}|{tag_alone}[ \t]*", "", text)
        else:
            text = re.sub(tag_alone, lambda _, local=local: local, text)
    return text


def _case_tag(tag: str, casing: str) -> str:
    words = [w for w in re.split(r"[\s_\-]+", tag.strip().lstrip("#")) if w]
    if casing == "lower":
        return "#" + "".join(words).lower()
    if casing == "camel":
        return "#" + "".join(w[:1].upper() + w[1:] for w in words)
    return "#" + "".join(words)


def _render(parts: _Parts, style: Style) -> str:
    body = " ".join(x for x in (parts.body, parts.disclosure, " ".join(parts.mentions)) if x)
    action = " ".join(x for x in (parts.cta, " ".join(parts.links), parts.link_in_bio) if x)
    tags = " ".join([*parts.disclosure_tags, *parts.required_tags, *parts.optional_tags])
    if style.layout == "short":
        blocks = [" ".join(x for x in (parts.hook, body, action, tags) if x)]
    elif style.layout == "plain":
        blocks = [" ".join(x for x in (parts.hook, body, action) if x), tags]
    else:  # post and caption: hook, body, call to action and tags as their own paragraphs
        blocks = [parts.hook, body, action, tags]
    return "\n\n".join(b for b in blocks if b)


def _fit(parts: _Parts, style: Style, platform: platforms.Platform) -> tuple[_Parts, list[str]]:
    """Shorten to the network's limit: optional tags, CTA, hook, then the body; never cut a URL."""

    def fits(candidate: _Parts) -> bool:
        return platform.length(_render(candidate, style)) <= platform.max_length

    if fits(parts):
        return parts, []
    full = parts
    while parts.optional_tags and not fits(parts):
        parts = replace(parts, optional_tags=parts.optional_tags[:-1])
    for name in ("cta", "hook"):
        if not fits(parts):
            parts = replace(parts, **{name: ""})
    if not fits(parts):
        parts = _trim_body(parts, fits)
        # Whole sentences may leave room: give back what was dropped, most useful first.
        for name in ("hook", "cta"):
            if not getattr(parts, name) and fits(
                candidate := replace(parts, **{name: getattr(full, name)})
            ):
                parts = candidate
        for count in range(len(parts.optional_tags) + 1, len(full.optional_tags) + 1):
            if not fits(candidate := replace(parts, optional_tags=full.optional_tags[:count])):
                break
            parts = candidate
    # Last resort, in order: mentions, extra links, required tags. Disclosures always stay.
    while not fits(parts) and (parts.mentions or len(parts.links) > 1 or parts.required_tags):
        if parts.mentions:
            parts = replace(parts, mentions=parts.mentions[:-1])
        elif len(parts.links) > 1:
            parts = replace(parts, links=parts.links[:-1])
        else:
            parts = replace(parts, required_tags=parts.required_tags[:-1])
    owner = platform.label + ("'" if platform.label.endswith("s") else "'s")
    limit = f"{owner} {platform.max_length:,}-character limit"
    return parts, [f"shortened to fit {limit}" if fits(parts) else f"still over {limit}"]


def _trim_body(parts: _Parts, fits) -> _Parts:
    # Whole sentences first (a finished thought reads better than "…"), then whole words, so a
    # URL is kept whole or moved out. Longer prefixes are never shorter, so search by halves.
    sentences = _sentences(parts.body)
    kept = _longest(len(sentences) - 1, lambda n: fits(_with_body(parts, " ".join(sentences[:n]))))
    if kept:
        return _with_body(parts, " ".join(sentences[:kept]))
    words = sentences[0].split() if sentences else []
    kept = _longest(len(words) - 1, lambda n: fits(_with_body(parts, _ellipsis(words[:n]))))
    return _with_body(parts, _ellipsis(words[:kept]) if kept else "")


def _longest(most: int, ok) -> int:
    """The largest n in 1..most for which ok(n) holds (0 if none), for ok true up to some point."""
    low, high = 0, max(most, 0)
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _with_body(parts: _Parts, body: str) -> _Parts:
    # A link cut out of the message still goes with the post, after it.
    lost = [
        link for link in platforms.urls(parts.body) if link not in body and link not in parts.links
    ]
    return replace(parts, body=body, links=[*parts.links, *lost])


def _ellipsis(words: list[str]) -> str:
    return re.sub(r"[\s,;:—–\-.]+$", "", " ".join(words)) + "…"


def for_network(passages: list[Passage], network: str) -> list[Passage]:
    """The passages a draft for `network` may use: none that is about other networks only
    ("Per-network notes › LinkedIn" is no guidance for an X post)."""
    return [p for p in passages if network in (named := platforms.named_in(p.label)) or not named]


def _citations(passages: list[Passage], platform: platforms.Platform) -> list[str]:
    """The guidelines a template applies: the best match, and those about this network or style."""
    usable = for_network(passages, platform.name)
    if not usable:
        return []
    top = max(usable, key=lambda p: p.score)
    applied = [
        p.id
        for p in usable
        if p is top
        or platform.name in platforms.named_in(p.label)
        or APPLIED_GUIDELINES.search(p.heading)
    ]
    return list(dict.fromkeys(applied))[:MAX_CITATIONS]


def _rationale(
    parts: _Parts, style: Style, label: str, passages: list[Passage], citations: list[str]
) -> str:
    used = [LAYOUT_NAMES[style.layout] if parts.hook else "key message"]
    if parts.mentions:
        used.append("mentions")
    if parts.cta:
        used.append("CTA")
    if parts.links or parts.link_in_bio:
        used.append("link in bio" if parts.link_in_bio else "link")
    line = f"Template: {label} {' + '.join(used)}"
    tags = [*parts.disclosure_tags, *parts.required_tags, *parts.optional_tags]
    if tags:
        line += f", brand tags {' '.join(tags)}"
    if citations:
        line += f"; follows {next(p for p in passages if p.id == citations[0]).label}"
    return line + "; offline, no model."
