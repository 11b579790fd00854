"""The Open Graph locale of each of the site's languages, from the formatting locales."""

from awards.social import og_locale, share_links


def test_each_language_has_its_country():
    assert [og_locale(code) for code in ("kk", "ru", "en")] == ["kk_KZ", "ru_RU", "en_GB"]
    assert og_locale("xx-unknown") == "ru_RU"


def test_share_links_quote_the_address_and_text_whole():
    links = {key: href for key, _name, href in share_links("https://a.kz/p?x=1", "A & B")}
    assert links["telegram"] == ("https://t.me/share/url?url=https%3A%2F%2Fa.kz%2Fp%3Fx%3D1"
                                 "&text=A%20%26%20B")
    assert list(links) == ["telegram", "whatsapp", "facebook", "x"]
