"""Slack mrkdwn decoding (formats.md §1.7) and safe HTML rendering."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from afteraction.adapters import mrkdwn
from afteraction.adapters.mrkdwn import (
    DecodedText,
    Token,
    decode,
    decode_parts,
    render_html,
    tokenize,
    unescape,
)

USERS = {"U0BMS113R": "doubledeez", "U1": "alice"}
CHANNELS = {"C0JGLMMNX": "enrique"}


def test_entities_are_decoded_once_only() -> None:
    assert decode("talks&amp;nbsp; here").plain == "talks&nbsp; here"
    assert unescape("&amp;lt; &lt;b&gt; a &amp; b &quot;") == "&lt; <b> a & b &quot;"


def test_control_sequences_are_split_before_unescaping() -> None:
    tokens = tokenize("x <https://a.b/?q=1&amp;r=2|A &amp; B> y")
    assert tokens[1] == Token(
        "link", "<https://a.b/?q=1&amp;r=2|A &amp; B>", "https://a.b/?q=1&r=2", "A & B"
    )
    decoded = decode("x <https://a.b/?q=1&amp;r=2|A &amp; B> y")
    assert decoded.plain == "x A & B y"
    assert decoded.links == ("https://a.b/?q=1&r=2",)


def test_label_split_at_first_pipe_only() -> None:
    assert decode("<http://x.y/|a|b>").plain == "a|b"


def test_user_mentions_resolve_to_names_where_known() -> None:
    decoded = decode("<@U0BMS113R>: hi <@U2|bob> and <@U3> and <@U0BMS113R>", USERS)
    assert decoded.plain == "@doubledeez: hi @bob and @U3 and @doubledeez"
    assert decoded.mentions == ("U0BMS113R", "U2", "U3")


def test_channels_broadcasts_groups_dates_and_commands() -> None:
    text = (
        "<#C0JGLMMNX> <#C9|other> <#C8> <!here> <!channel> <!group> <!everyone|everyone> "
        "<!subteam^S1|@ops> <!subteam^S2> <!date^1392734382^{date_pretty}|Feb 18> <!foo> <!foo|bar>"
    )
    decoded = decode(text, USERS, CHANNELS)
    assert decoded.plain == (
        "#enrique #other #C8 @here @channel @channel @everyone @ops @S2 Feb 18 <foo> <bar>"
    )
    assert decoded.channels == ("C0JGLMMNX", "C9", "C8")
    assert decoded.broadcasts == ("here", "channel", "everyone")
    assert decoded.usergroups == ("S1", "S2")


def test_literal_at_everyone_is_not_a_broadcast() -> None:
    assert decode("@everyone look").broadcasts == ()


def test_mailto_and_tel_links() -> None:
    decoded = decode("<mailto:bob@example.com> <tel:28919.8689279|28919.8689279>")
    assert decoded.plain == "bob@example.com 28919.8689279"
    assert decoded.links == ("mailto:bob@example.com", "tel:28919.8689279")


def test_angle_text_without_a_scheme_is_plain_text() -> None:
    decoded = decode("<not a link>")
    assert decoded.plain == "<not a link>"
    assert decoded.links == ()


def test_quote_arrives_escaped_and_decodes_to_gt() -> None:
    assert decode("&gt; quoted").plain == "> quoted"


def test_render_formatting_marks() -> None:
    html = render_html("*bold* _it_ ~gone~ `x < y` snake_case_name 2*3*4")
    assert html == (
        "<strong>bold</strong> <em>it</em> <del>gone</del> <code>x &lt; y</code> "
        "snake_case_name 2*3*4"
    )


def test_render_pre_quote_and_newlines() -> None:
    html = render_html("&gt; one\n&gt; two\nafter\n```a *b*\n<c>```")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.blockquote is not None and soup.blockquote.get_text("|") == "one|two"
    assert soup.pre is not None and soup.pre.get_text() == "a *b*\n<c>"
    assert soup.strong is None


def test_render_links_and_mentions() -> None:
    html = render_html(
        "<@U1> see <https://example.com/a_b_c|the docs> in <#C0JGLMMNX>", USERS, CHANNELS
    )
    soup = BeautifulSoup(html, "html.parser")
    link = soup.find("a")
    assert link is not None
    assert link["href"] == "https://example.com/a_b_c"
    assert set(link["rel"]) == {"nofollow", "noopener"}
    assert link.get_text() == "the docs"
    spans = soup.find_all("span")
    assert [(s["class"], s["data-id"], s.get_text()) for s in spans] == [
        (["mention"], "U1", "@alice"),
        (["channel"], "C0JGLMMNX", "#enrique"),
    ]


HOSTILE = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<script>alert(1)</script>",
    "<javascript:alert(1)|click me>",
    "<JavaScript:alert(1)>",
    "<data:text/html;base64,PHNjcmlwdD4=|x>",
    '<https://e.com/"onmouseover="alert(1)|x>',
    "<https://e.com/x' onclick='alert(1)|y>",
    '<@U1|"><img src=x onerror=alert(1)>>',
    '<#C1|"><svg onload=alert(1)>>',
    "*<img src=x onerror=alert(1)>*",
    "```</pre><script>alert(1)</script>```",
    "`<iframe src=javascript:alert(1)>`",
    "&gt; <style>body{}</style>",
    "\x00\x000\x00 <b>\x000\x00</b>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_render_never_lets_script_or_attributes_through(text: str) -> None:
    html = render_html(text, USERS, CHANNELS)
    soup = BeautifulSoup(html, "html.parser")
    allowed = {"a", "strong", "em", "del", "code", "pre", "blockquote", "br", "span"}
    for tag in soup.find_all(True):
        assert tag.name in allowed
        assert set(tag.attrs) <= {"href", "rel", "class", "data-id"}
        assert not str(tag.get("href", "https:")).lower().startswith(("javascript", "data"))
    lowered = html.lower()
    assert "<script" not in lowered and "<style" not in lowered
    assert "<img" not in lowered and "<svg" not in lowered and "<iframe" not in lowered


def test_hostile_text_survives_as_visible_text() -> None:
    html = render_html("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert BeautifulSoup(html, "html.parser").get_text() == "<script>alert(1)</script>"


def test_unsafe_link_schemes_render_as_text() -> None:
    html = render_html("<javascript:alert(1)|click me>")
    assert html == "click me"


def test_decode_parts_with_one_memo_for_many_texts_decodes_each_as_decode_does() -> None:
    users, channels = {"U1": "ada"}, {"C1": "general"}
    texts = [
        "hi <@U1> and <@U2|bob> in <#C1> <#C9|old-name> <!here> <!subteam^S1|@oncall>",
        "again <@U1> &amp; <@U1>, <https://x.example/a?b=1&amp;c=2|link &lt;1&gt;>",
        "<@U1>",
        "<!date^1392734382^{date}|Feb 18>",
        "<mailto:a@b.example|a> <foo> &gt;",
        "talks&amp;nbsp; <https://x.example/a?b=1&amp;c=2>",
        "<!channel> <!group> <!weird>",
    ]
    memo: dict[str, tuple[str, str, str]] = {}
    for _ in range(2):  # the second pass reads every sequence from the memo
        for text in texts:
            assert DecodedText(*decode_parts(text, users, channels, memo)) == decode(
                text, users, channels
            )
    assert "@U1" in memo and memo["@U1"] == ("user", "U1", "@ada")


PIECES = st.sampled_from(
    ["<@U1>", "<@U2|ana>", "<#C1>", "<#C2|general>", "<!here>", "*bold*", "_it_", "~gone~",
     "`code`", "```pre```", "> quoted\n", "&amp;", "&lt;b&gt;", "<https://x.example/a?b=1|x>",
     "<javascript:alert(1)|y>", "plain words ", "\n", "\x00", "<U3>", "<@U1|&lt;x&gt;>"]
)  # fmt: skip
NAMES = st.dictionaries(st.sampled_from(["U1", "U2", "U3", "C1", "C2"]),
                        st.sampled_from(["Ana", "", "<b>", "ops & sre"]))  # fmt: skip


@given(st.lists(PIECES, max_size=12), NAMES)
def test_a_kept_rendering_is_the_rendering(pieces: list[str], names: dict[str, str]) -> None:
    """The HTML kept per text and mentioned names is what rendering it afresh gives."""
    text = "".join(pieces)
    users = {k: v for k, v in names.items() if k.startswith("U")}
    channels = {k: v for k, v in names.items() if k.startswith("C")}
    fresh = mrkdwn._render(text.replace("\x00", ""), users, channels)
    assert render_html(text, users, channels) == fresh
    assert render_html(text, users, channels) == fresh  # the kept one, the second time


def test_a_renamed_person_is_shown_by_the_new_name() -> None:
    assert ">@Ana<" in render_html("hi <@U1>", {"U1": "Ana"})
    assert ">@Ana Ortiz<" in render_html("hi <@U1>", {"U1": "Ana Ortiz"})
    assert ">#ops<" in render_html("see <#C1>", channels={"C1": "ops"})
    assert ">#C1<" in render_html("see <#C1>")
