"""Keyword search: words match without accents or plurals; rare words weigh most; rankings fuse."""

from knowledge.lexical import LexicalIndex, fuse, terms


def test_terms_fold_accents_drop_function_words_and_plural_s():
    assert terms("Évitez les anglicismes, s'il vous plaît !") == ["evitez", "anglicisme", "plait"]
    assert terms("How many hashtags does the post need?") == ["hashtag", "post", "need"]
    assert terms("Café") == terms("cafe") == ["cafe"]


def test_the_text_with_the_rare_word_comes_first_and_unrelated_texts_not_at_all():
    index = LexicalIndex(
        ["voice", "rules", "glossary", "weather"],
        [
            "Our voice is warm. We write about coffee, farms and coffee people.",
            "Words to avoid: never call coffee cheap. Direct trade claims need proof.",
            "Direct trade: we buy from the farm or the washing station ourselves.",
            "Tomorrow will be sunny.",
        ],
    )
    found = index.search("What does direct trade mean?", 10)
    assert [ident for ident, _ in found] == ["glossary", "rules"]
    assert found[0][1] > found[1][1] > 0
    assert [ident for ident, _ in index.search("washing stations", 1)] == ["glossary"]
    assert index.search("the and of", 5) == [] and index.search("hashtags", 5) == []
    assert LexicalIndex([], []).search("coffee", 3) == []


def test_fusion_prefers_what_both_rankings_agree_on():
    fused = fuse([["a", "b", "c"], ["c", "a"]])
    assert sorted(fused, key=fused.get, reverse=True) == ["a", "c", "b"]
    assert fused["a"] == 1 / 61 + 1 / 62
