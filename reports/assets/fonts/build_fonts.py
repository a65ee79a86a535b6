"""Rebuild the Noto fallback fonts in this folder from their published packages, reproducibly.

Run from the project root (under a minute, most of it subsetting the CJK font):

    .venv/bin/python reports/assets/fonts/build_fonts.py           # fetch, check, build, write
    .venv/bin/python reports/assets/fonts/build_fonts.py --check   # build elsewhere, compare
    .venv/bin/python reports/assets/fonts/build_fonts.py --sources DIR  # packages already in DIR

Why a script: shoppers type emoji, Chinese, Japanese, Korean, Indic scripts and symbols that
DejaVu does not draw, so the reports ship Noto fonts as fallbacks. Most are small and are
copied unmodified; Noto Sans CJK is 19 MB per weight, so only a subset of it is shipped, and
this script is how that subset is made and can be made again, byte for byte (with the same
fontTools: the shipped files were made with 4.68.0).

Sources, each fetched with its ordinary package client and checked against the SHA-256 below:
Debian bookworm's ``fonts-noto-core`` and ``fonts-noto-cjk`` (``apt-get download``) and npm's
``@expo-google-fonts/noto-emoji`` (``npm pack``: the monochrome Noto Emoji as a static
Regular TrueType; Debian ships only the colour bitmap one). All are under the SIL Open Font
License 1.1 (LICENSE-Noto.txt). Needs ``dpkg-deb`` for the Debian packages and fontTools
(a WeasyPrint dependency, so it is in the virtualenv).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent

CORE = "fonts-noto-core=20201225-1"
CJK = "fonts-noto-cjk=1:20220127+repack1-1"
EMOJI = "@expo-google-fonts/noto-emoji@0.4.7"
#: Package → (file name as fetched, SHA-256 of that file).
PACKAGES = {
    CORE: (
        "fonts-noto-core_20201225-1_all.deb",
        "58f4f0bb6720f919f92096b3508e1412a0f1544424ade6c5b5bf1eb694dd64ba",
    ),
    CJK: (
        "fonts-noto-cjk_1%3a20220127+repack1-1_all.deb",
        "4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502",
    ),
    EMOJI: (
        "expo-google-fonts-noto-emoji-0.4.7.tgz",
        "6a25fd5a4da5bb34bbc2d300531bbf32de86afd866e119314d7e358f61a6104d",
    ),
}

NOTO_CORE = "usr/share/fonts/truetype/noto/"
#: Shipped file → (package, path inside it). Copied unmodified. The scripts are Unicode's
#: "recommended" scripts (UAX #31, table 5) that DejaVu does not draw; Arabic, Armenian,
#: Cyrillic, Georgian, Greek, Hebrew, Lao and Latin are DejaVu's.
COPIED = {
    **{
        f"NotoSans{script}-Regular.ttf": (CORE, f"{NOTO_CORE}NotoSans{script}-Regular.ttf")
        for script in (
            "Bengali", "Devanagari", "Ethiopic", "Gujarati", "Gurmukhi", "Kannada", "Khmer",
            "Malayalam", "Myanmar", "Oriya", "Sinhala", "Tamil", "Telugu", "Thaana", "Thai",
            "Symbols", "Symbols2", "Math",
        )
    },
    # Debian's Noto of 2020 has Tibetan only as a serif; Tibetan has little sans/serif contrast.
    "NotoSerifTibetan-Regular.ttf": (CORE, f"{NOTO_CORE}NotoSerifTibetan-Regular.ttf"),
    "NotoMusic-Regular.ttf": (CORE, f"{NOTO_CORE}NotoMusic-Regular.ttf"),
    "NotoEmoji-Regular.ttf": (EMOJI, "package/400Regular/NotoEmoji_400Regular.ttf"),
}

CJK_OUT = "NotoSansCJKsc-Regular-subset.otf"
CJK_SOURCE = (CJK, "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
#: Face 2 of the collection is Simplified Chinese: one face has to be chosen, and it draws
#: Japanese and Korean text too (ideographs in their Chinese forms).
CJK_FACE = 2
#: Everything but the ideographs, whole: punctuation, kana, Bopomofo, Hangul (every syllable:
#: a name or a word may need any of them), radicals, enclosed and full-width forms. And the
#: space: Pango draws a space between two ideographs with their font, whatever its coverage.
CJK_BLOCKS = [
    (0x0020, 0x0020), (0x00A0, 0x00A0),
    (0x1100, 0x11FF), (0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0x2FF0, 0x2FFF), (0x3000, 0x303F),
    (0x3040, 0x309F), (0x30A0, 0x30FF), (0x3100, 0x312F), (0x3130, 0x318F), (0x3190, 0x319F),
    (0x31A0, 0x31BF), (0x31C0, 0x31EF), (0x31F0, 0x31FF), (0x3200, 0x32FF), (0x3300, 0x33FF),
    (0xA960, 0xA97F), (0xAC00, 0xD7A3), (0xD7B0, 0xD7FF), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F),
    (0xFE50, 0xFE6F), (0xFF00, 0xFFEF), (0x1F200, 0x1F2FF),
]


#: The OpenType features HarfBuzz applies to horizontal text by default. Left out: vertical
#: forms, which a report never sets, and ``locl``, which would switch ideographs to their
#: Japanese, Korean or Traditional forms on the language Pango guesses for a run, so that the
#: same comment could print differently from one server to another. Leaving them out
#: shrinks the file from 6.4 to about 4 MB.
CJK_FEATURES = ["calt", "ccmp", "kern", "liga", "ljmo", "mark", "tjmo", "vjmo"]


def _double_byte(codec: str, leads, trails) -> set[int]:
    chars = set()
    for lead in leads:
        for trail in trails:
            try:
                text = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                chars.add(ord(text))
    return chars


def common_ideographs() -> set[int]:
    """Return the ideographs of the national character sets everyday text is written in.

    GB 2312 (6,763 simplified hanzi), Big5 level 1 (5,401 common traditional hanzi), JIS X 0208
    (6,355 kanji, levels 1 and 2) and KS X 1001 (4,888 hanja): 10,831 ideographs together,
    read from Python's codecs so the set is the same wherever the script runs.
    """
    big5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    chars = (
        _double_byte("gb2312", range(0xA1, 0xFF), range(0xA1, 0xFF))
        | _double_byte("big5", range(0xA4, 0xC7), big5_trails)  # level 1: A440–C67E
        | _double_byte("shift_jis", [*range(0x81, 0xA0), *range(0xE0, 0xF0)], range(0x40, 0xFD))
        | _double_byte("euc_kr", range(0xA1, 0xFF), range(0xA1, 0xFF))
    )
    return {c for c in chars if 0x3400 <= c <= 0x9FFF or 0xF900 <= c <= 0xFAFF or c >= 0x20000}


def cjk_unicodes() -> set[int]:
    blocks = {c for low, high in CJK_BLOCKS for c in range(low, high + 1)}
    return blocks | common_ideographs()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(folder: Path) -> None:
    """Download the source packages with apt-get and npm into ``folder`` (only those missing)."""
    for package, (name, _) in PACKAGES.items():
        if (folder / name).exists():
            continue
        if package.startswith("@"):
            subprocess.run(["npm", "pack", "--silent", package], cwd=folder, check=True,
                           stdout=subprocess.DEVNULL)
        else:
            subprocess.run(["apt-get", "download", "-q", package], cwd=folder, check=True)


def unpack(folder: Path) -> dict[str, Path]:
    """Check each package's SHA-256 and unpack it; return package → unpacked folder."""
    roots = {}
    for package, (name, digest) in PACKAGES.items():
        archive = folder / name
        if sha256(archive) != digest:
            sys.exit(f"{archive}: SHA-256 {sha256(archive)} is not the pinned {digest}")
        root = folder / (name + ".d")
        if not root.exists():
            root.mkdir()
            if name.endswith(".deb"):
                subprocess.run(["dpkg-deb", "-x", str(archive), str(root)], check=True)
            else:
                with tarfile.open(archive) as tar:
                    tar.extractall(root, filter="data")
        roots[package] = root
    return roots


def build_cjk(source: Path, target: Path) -> None:
    """Subset one face of Noto Sans CJK to ``cjk_unicodes()`` and ``CJK_FEATURES``."""
    options = subset.Options()
    options.layout_features = CJK_FEATURES
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False  # WeasyPrint drops hints from the fonts it embeds anyway
    font = TTFont(source, fontNumber=CJK_FACE, recalcTimestamp=False, recalcBBoxes=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=cjk_unicodes())
    subsetter.subset(font)
    font.save(target, reorderTables=True)


def build(roots: dict[str, Path], out: Path) -> None:
    for name, (package, inner) in COPIED.items():
        shutil.copyfile(roots[package] / inner, out / name)
    build_cjk(roots[CJK_SOURCE[0]] / CJK_SOURCE[1], out / CJK_OUT)


def shipped() -> list[str]:
    return sorted([*COPIED, CJK_OUT])


def write_sums(folder: Path) -> str:
    return "".join(f"{sha256(folder / name)}  {name}\n" for name in shipped())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, help="folder holding (or to get) the packages")
    parser.add_argument("--check", action="store_true",
                        help="rebuild elsewhere and compare with SHA256SUMS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="noto-") as scratch:
        sources = args.sources or Path(scratch)
        sources.mkdir(parents=True, exist_ok=True)
        fetch(sources)
        roots = unpack(sources)
        out = Path(scratch) / "out" if args.check else HERE
        out.mkdir(exist_ok=True)
        build(roots, out)
        sums = write_sums(out)
        if args.check:
            expected = (HERE / "SHA256SUMS").read_text(encoding="utf-8")
            if sums != expected:
                print("Rebuilt fonts differ from SHA256SUMS:\n" + sums, file=sys.stderr)
                return 1
            print("Rebuilt fonts match SHA256SUMS.")
            return 0
        (HERE / "SHA256SUMS").write_text(sums, encoding="utf-8")
        for name in shipped():
            print(f"{(out / name).stat().st_size / 1024:9.0f} KB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
