"""Localization through the graph: each locale's variant carries the brand's hashtags for it."""

import app
from agents.runner import thread_id_for
from core import checks
from core.domain import NEEDS_MODEL_WARNING
from tests.fakes.copywriter import Copywriter, system_text
from tests.fakes.openai_server import ToolCall

BRIEF = "Announce our new Ethiopia Guji roast on LinkedIn in English and French https://tidewren.coffee/guji"


def start(plume, name):
    return plume.runner.start(thread_id=thread_id_for("test", name), text=BRIEF, actor="mia")


def by_locale(outcome):
    return {p.locale: p for p in outcome.posts}


def local_check(post):
    return next(c for c in post.checks if c["name"] == checks.LOCAL_HASHTAGS)


def test_offline_french_variant_gets_the_french_tags_and_keeps_the_source_prose(make_settings):
    with app.assemble(make_settings(), quiet=True) as plume:
        posts = by_locale(start(plume, "offline"))
    english, french = posts["en"], posts["fr"]
    assert "#SpecialtyCoffee" in english.text and "#Tidewren" in english.text
    assert "#CaféDeSpécialité" in french.text and "#SpecialtyCoffee" not in french.text
    assert "#Tidewren" in french.text  # the brand's own tag is never swapped
    assert french.text.split("#")[0] == english.text.split("#")[0]  # no fake translation
    assert NEEDS_MODEL_WARNING in french.warnings
    assert local_check(french)["ok"]
    assert checks.LOCAL_HASHTAGS not in {c["name"] for c in english.checks}


def test_the_model_is_given_the_french_tags_and_a_kept_english_one_is_flagged(make_settings, fake_model):
    writer = Copywriter()

    def keeps_english_tag(request):
        if "adapt social media posts" in system_text(request):
            text = "Nouveauté chez Tidewren : notre torréfaction Guji. #Tidewren #SpecialtyCoffee"
            return ToolCall("Drafts", {"posts": [{"network": "linkedin", "text": text, "cited": []}]})
        return writer.script(request)

    fake_model.set_script(keeps_english_tag)
    settings = make_settings(plume_model="fake-model", openai_base_url=fake_model.base_url,
                             openai_api_key="k", plume_llm_retries=0)
    with app.assemble(settings, quiet=True) as plume:
        french = by_locale(start(plume, "model"))["fr"]
    prompts = [" ".join(system_text(r).split()) for r in fake_model.requests]
    localize = next(p for p in prompts if "adapt social media posts" in p)
    assert "#SpecialtyCoffee → #CaféDeSpécialité" in localize and "#DirectTrade → #CommerceDirect" in localize
    assert "French topical hashtags of the brand: #CaféDeSpécialité" in localize
    assert "keep the brand's own (#Tidewren) exactly as written" in localize
    draft = next(p for p in prompts if "copywriter" in p)
    assert "topical hashtags to prefer: #SpecialtyCoffee #DirectTrade" in draft
    check = local_check(french)
    assert not check["ok"] and check["severity"] == checks.WARNING
    assert check["message"] == "In French posts, use #CaféDeSpécialité instead of #SpecialtyCoffee"
