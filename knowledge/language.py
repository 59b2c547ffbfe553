"""A cheap guess of the language a search query is written in, from its function words."""

from __future__ import annotations

import re

# Short, frequent words that mostly belong to one language. A guess needs a clear winner, so
# shared words ("a", "de", "en") count for every language that has them and cancel out.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "the a an of to and or is are be we our us you your how what which who when "
        "where why can do does should must may in on for with about it this that these "
        "there many much any",
        "fr": "le la les un une des du de et ou est sont nous notre nos vous votre vos "
        "comment quel quelle quels quelles qui quand où pourquoi peut faut doit dans sur "
        "pour avec au aux ce cette ces il elle on pas ne combien quoi en que faire se sa son "
        "ses leur leurs par plus être avoir",
        "de": "der die das ein eine und oder ist sind wir unser sie ihr wie was welche wer "
        "wann wo warum kann muss soll in auf für mit zu den dem nicht einen einem einer im "
        "auch wenn dass über unter nach bei vom zum zur unsere unseren wird werden",
        "es": "el la los las un una y o es son nosotros nuestro usted cómo qué cuál quién "
        "cuándo dónde por para con en del al no puede debe cuántos de a se lo su sus "
        "tiene hay también cada este esta estos nuestra nuestros",
        "it": "il lo la gli le un una e o è sono noi nostro voi come che quale chi quando "
        "dove perché può deve per con in del della non quanti",
        "pt": "o a os as um uma e ou é são nós nosso você como que qual quem quando onde "
        "por para com em do da não pode deve quantos",
        "nl": "de het een en of is zijn wij ons onze jij jullie hoe wat welke wie wanneer "
        "waar waarom kan moet in op voor met niet hoeveel",
    }.items()
}
# Every language's function words: words a keyword search should not match on.
FUNCTION_WORDS = frozenset().union(*_FUNCTION_WORDS.values())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def guess_locale(text: str) -> str | None:
    """The locale whose function words the text uses most, or None when no language stands out.

    "Combien d'émojis par publication ?" → "fr"; "how many emoji" → "en"; "hashtags" → None.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    # French elisions ("d'émojis", "l'Atelier", "qu'on") are a strong sign on their own.
    elided = sum(1 for w in words if re.match(r"^(?:[dljmnst]|qu)['’]", w))
    scores = {
        code: sum(1 for w in words if w in vocabulary) + (elided if code == "fr" else 0)
        for code, vocabulary in _FUNCTION_WORDS.items()
    }
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, runner_up) = ranked[0], ranked[1]
    return best if top > runner_up else None
