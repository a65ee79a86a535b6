"""Whatever a shopper types prints as a real glyph from a shipped font, never as an empty box.

The check reads the PDF the way a viewer does. WeasyPrint embeds each font with a
ToUnicode map (glyph → the text it stands for) and, when Pango found no font for a
character, draws it with a code that the font's encoding maps to CID 0, .notdef: the
empty box. Text extraction still returns such characters (the ToUnicode map names
them), so the text tests elsewhere cannot see an empty box; this module looks at the
glyphs, and at the shipped font file behind each PDF font.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO

import pytest
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from reports.pdf import ASSETS, STYLESHEET, render_report
from tests import report_samples as samples

#: The comment the issue asks for: emoji (with a skin tone and a presentation selector),
#: Chinese, Japanese, Korean, Devanagari, and symbols.
WORLD = (
    "Loved it 😀👍🏽❤️🎉 中文 日本語 한국어 हिन्दी ★ ✓ € ₹ → ∑ ♥ ☎ "
    "🛒 🧾 ⭐ ✅ ⚠️ 🙏 ½ ° № ™ ≠ ≤ ∞ ♪ ☺ ✈ ⌚"
)
#: A branch name HQ typed: it prints in the heading and in every later page's header.
BRANCH_NAME = "新宿 Shinjuku 🏬"
#: A line for each other shipped fallback font, so that a font report.css does not
#: declare fails here.
SCRIPTS = [
    "বাংলা ভাষা",          # Bengali
    "ਪੰਜਾਬੀ",              # Gurmukhi
    "ગુજરાતી",             # Gujarati
    "ଓଡ଼ିଆ",               # Oriya
    "தமிழ் மொழி",          # Tamil
    "తెలుగు",              # Telugu
    "ಕನ್ನಡ",               # Kannada
    "മലയാളം",             # Malayalam
    "සිංහල",               # Sinhala
    "ภาษาไทย",             # Thai
    "ພາສາລາວ",             # Lao
    "ភាសាខ្មែរ",            # Khmer
    "မြန်မာဘာသာ",          # Myanmar
    "አማርኛ ትግርኛ",         # Ethiopic
    "བོད་ཡིག",              # Tibetan
    "ދިވެހި",               # Thaana
    "ქართული Հայերեն",     # Georgian, Armenian
    "𝓗𝓮𝓵𝓵𝓸 𝄞 🜂 ⏻ ⯑ 🮕 ⎈ ↈ 🄰 🅐",  # symbols beyond DejaVu: math letters, music, alchemy...
    "繁體中文 臺灣 香港 ひらがな カタカナ 훈민정음",  # more CJK: traditional, kana, Hangul
]
#: Scripts DejaVu already draws: they must keep printing in DejaVu, with no fallback font.
DEJAVU_ONLY = (
    "Friendly staff, café & crème brûlée, €12.99 – “quoted” ▲▼● "
    "Дружелюбный персонал Ευγενικό προσωπικό موظفون ودودون צוות אדיב"
)
#: Characters that print as no glyph of their own (besides white space): selectors and
#: joiners, which shaping folds into the emoji or letter before them.
INVISIBLE = {"\u200c", "\u200d", *map(chr, range(0xFE00, 0xFE10))}
#: The font families report.css declares for DejaVu; anything else is a fallback font.
DEJAVU_FAMILIES = {"Report Sans", "Report Display"}


def font_faces() -> dict[tuple[str, str], str]:
    """Map (family, weight) to the file report.css's @font-face rules give it."""
    faces: dict[tuple[str, str], str] = {}
    for rule in re.findall(r"@font-face\s*{([^}]*)}", STYLESHEET.read_text(encoding="utf-8")):
        family = re.search(r'font-family:\s*"([^"]+)"', rule)[1]
        weight = (re.search(r"font-weight:\s*(\w+)", rule) or [None, "400"])[1]
        key = (family, {"normal": "400", "bold": "700"}.get(weight, weight))
        # WeasyPrint makes one PDF font of the files sharing a family and weight.
        assert key not in faces, f"{key} names two files"
        faces[key] = re.search(r"src:\s*url\(([^)]+)\)", rule)[1]
    return faces


@cache
def shipped_cmap(path: str) -> frozenset[int]:
    with TTFont(ASSETS / path, lazy=True) as font:
        return frozenset(font.getBestCmap())


@dataclass
class Glyphs:
    """What one PDF draws, read back from its embedded fonts."""

    drawn: dict[str, set[str]] = field(default_factory=dict)  # character → families drawing it
    missing: str = ""  # characters drawn as .notdef (CID 0)
    blank: str = ""  # characters drawn with a glyph that has no outline
    foreign: str = ""  # characters drawn by a PDF font whose shipped file does not have them
    families: set[str] = field(default_factory=set)
    base_fonts: set[str] = field(default_factory=set)
    subtypes: set[str] = field(default_factory=set)


def _resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _fonts(resources, seen: set[int]):
    """Yield every font dictionary reachable from a resources dictionary, form XObjects included."""
    resources = _resolve(resources) or {}
    for ref in (_resolve(resources.get("/Font")) or {}).values():
        font = _resolve(ref)
        if id(font) not in seen:
            seen.add(id(font))
            yield font
    for ref in (_resolve(resources.get("/XObject")) or {}).values():
        xobject = _resolve(ref)
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            yield from _fonts(xobject["/Resources"], seen)


def _hex_pairs(cmap: bytes, section: str) -> list[tuple[int, bytes]]:
    """Read the ``<code> <value>`` or ``<code> cid`` lines of a CMap's ``begin<section>`` blocks."""
    pairs = []
    name = section.encode()
    for block in re.findall(rb"begin" + name + rb"(.*?)end" + name, cmap, re.S):
        for code, value in re.findall(rb"<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]*>|\d+)", block):
            pairs.append((int(code, 16), value))
    return pairs


def read_glyphs(document: bytes) -> Glyphs:
    """Map each character the PDF prints to the fonts that draw it, and find the empty boxes."""
    reader = PdfReader(BytesIO(document))
    faces = font_faces()
    seen: set[int] = set()
    out = Glyphs()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), seen):
            out.subtypes.add(font["/Subtype"])
            out.base_fonts.add(str(font["/BaseFont"]))
            if font["/Subtype"] != "/Type0":
                continue
            cid_font = _resolve(font["/DescendantFonts"][0])
            descriptor = _resolve(cid_font["/FontDescriptor"])
            family = str(descriptor.get("/FontFamily"))
            out.families.add(family)
            bold = "Bold" in str(font["/BaseFont"])
            source = faces.get((family, "700" if bold else "400")) or faces.get((family, "400"))
            covers = shipped_cmap(source) if source else frozenset()
            program = next(
                _resolve(descriptor[k]) for k in ("/FontFile2", "/FontFile3") if k in descriptor)
            ttfont = TTFont(BytesIO(program.get_data()))
            glyph_set, order = ttfont.getGlyphSet(), ttfont.getGlyphOrder()
            encoding = _resolve(font["/Encoding"])
            cids = {} if encoding == "/Identity-H" else {
                code: int(cid) for code, cid in _hex_pairs(encoding.get_data(), "cidchar")}
            for code, value in _hex_pairs(_resolve(font["/ToUnicode"]).get_data(), "bfchar"):
                text = bytes.fromhex(value.strip(b"<>").decode()).decode("utf-16-be")
                cid = cids.get(code, code)
                if cid == 0:
                    out.missing += text
                    continue
                pen = ControlBoundsPen(glyph_set)
                glyph_set[order[cid]].draw(pen)
                if pen.bounds is None:
                    out.blank += text
                for char in text:
                    if ord(char) not in covers:
                        out.foreign += char
                    out.drawn.setdefault(char, set()).add(family)
    return out


def printable(text: str) -> list[str]:
    """The characters of ``text`` that must each come out as a visible glyph."""
    return [c for c in dict.fromkeys(text) if not c.isspace() and c not in INVISIBLE]


def names(chars) -> str:
    return ", ".join(f"{c} U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in chars)


def branch_with_comments(*texts: str, name: str | None = None) -> dict:
    data = samples.branch_sample(3)
    if name:
        data["branch"]["name"] = name
    data["comments"] = [
        {"date": "2026-05-01", "question": "Describe who served you", "text": text}
        for text in texts
    ]
    return data


_rendered: dict[str, bytes] = {}


@pytest.fixture
def world_pdf(app):
    """One branch PDF with every test comment, rendered once per run (a render takes a second)."""
    if "world" not in _rendered:
        _rendered["world"] = render_report(branch_with_comments(WORLD, *SCRIPTS, name=BRANCH_NAME))
    return _rendered["world"]


def test_no_character_of_a_comment_prints_as_an_empty_box(world_pdf):
    glyphs = read_glyphs(world_pdf)
    typed = WORLD + "".join(SCRIPTS) + BRANCH_NAME
    assert glyphs.missing == "", f".notdef drawn for: {names(dict.fromkeys(glyphs.missing))}"
    unprinted = [c for c in printable(typed) if c not in glyphs.drawn]
    assert not unprinted, f"no embedded font draws: {names(unprinted)}"
    foreign = [c for c in printable(glyphs.foreign) if c in typed]
    assert not foreign, f"drawn by a font whose file lacks them: {names(foreign)}"
    blank = [c for c in printable(glyphs.blank) if c in typed]
    assert not blank, f"drawn with an empty glyph: {names(blank)}"


def test_every_glyph_comes_from_a_shipped_font(world_pdf):
    """A font of the server's own (fontconfig's fallback) would make the PDF depend on the machine.

    Known exception: Pango looks emoji up in fontconfig's family "emoji", which prefers
    any colour emoji font installed on the machine (fonts-noto-color-emoji, say) to the
    shipped one; on such a machine this test fails, naming that font.
    """
    glyphs = read_glyphs(world_pdf)
    assert glyphs.subtypes == {"/Type0"}
    others = [name for name in glyphs.base_fonts if not name.split("+", 1)[1].startswith("Report-")]
    assert not others, others


def test_latin_keeps_dejavu_beside_other_scripts(world_pdf):
    glyphs = read_glyphs(world_pdf)
    for char in printable("Loved it Describe who served you 0123456789 €"):
        assert glyphs.drawn[char] <= DEJAVU_FAMILIES, (char, glyphs.drawn[char])


def test_a_report_without_such_characters_embeds_no_fallback_font(app):
    """Keeps a plain report as small as before: fallback fonts cost bytes only when used."""
    glyphs = read_glyphs(render_report(branch_with_comments(DEJAVU_ONLY)))
    assert glyphs.missing == ""
    assert glyphs.families <= DEJAVU_FAMILIES, glyphs.families
    assert not [c for c in printable(DEJAVU_ONLY) if c not in glyphs.drawn]
