"""Regions and branches in the HQ console: list, add, edit, deactivate, and the branches CSV import."""

from __future__ import annotations

import html as htmllib
import io
import re

import pytest
from survey.extensions import db
from survey.hq import places
from survey.hq.forms import parse_branch_csv
from survey.models import Branch, Region

from .conftest import Staff

HEADER = "code,name,region_code,address\n"


@pytest.fixture
def regions(make_region):
    return {code: make_region(code) for code in ("NORTH", "SOUTH")}


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def main_of(response) -> str:
    """Return the page's own content, without the flashed messages under the console's menu."""
    html = text_of(response)
    return re.sub(r'<div class="flash" role="status">.*?</div>', "", html[html.index("<main"):], flags=re.S)


def field_block(html: str, name: str) -> str:
    """Return the markup of one form field: its label, hint, messages and control."""
    start = html.rfind('<div class="field', 0, html.index(f'name="{name}"', html.index("<main")))
    return html[start:html.index("</div>", start)]


def branches() -> dict[str, tuple[str, str, str, bool]]:
    db.session.expire_all()
    return {b.code: (b.name, b.region.code, b.address, b.active) for b in db.session.scalars(db.select(Branch))}


def upload(hq: Staff, content: bytes, filename: str = "branches.csv"):
    response = hq.post("/hq/branches/import", {"file": (io.BytesIO(content), filename)})
    response.get_data()
    return response


# ---------------------------------------------------------------- regions


def test_the_regions_list_counts_active_branches(hq, make_branch):
    make_branch("BR-001", "NORTH")
    make_branch("BR-002", "NORTH").active = False
    make_branch("BR-003", "SOUTH")
    db.session.commit()

    html = text_of(hq.get("/hq/regions"))

    north = html[html.index("<code>NORTH</code>"):]
    assert 'href="/hq/branches?region=NORTH">1</a>' in north


def test_adding_a_region(hq):
    response = hq.post("/hq/regions/new", {"code": "EAST", "name": "East"})

    assert response.status_code == 302
    assert db.session.scalar(db.select(Region).filter_by(code="EAST")).name == "East"
    assert "Added the region East (EAST)." in text_of(hq.get("/hq/regions"))


@pytest.mark.parametrize("code, message", [
    ("NORTH", "The code \u201cNORTH\u201d is already used by North."),
    ("EAST SIDE", "Use only letters, digits, '-', '_' or '.'"),
    ("", "Enter the region's code."),
    ("X" * 33, "Keep the code to 32 characters."),
])
def test_a_bad_region_code_is_refused_beside_the_field(hq, regions, code, message):
    response = hq.post("/hq/regions/new", {"code": code, "name": "East side"})

    html = text_of(response)
    assert response.status_code == 422
    assert message in field_block(html, "code")
    assert 'value="East side"' in field_block(html, "name")
    assert db.session.scalar(db.select(db.func.count(Region.id))) == 2


def test_editing_a_region_may_keep_its_own_code_but_not_take_another(hq, regions):
    north = regions["NORTH"]
    assert hq.post(f"/hq/regions/{north.id}/edit", {"code": "NORTH", "name": "The North"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Region, north.id).name == "The North"

    response = hq.post(f"/hq/regions/{north.id}/edit", {"code": "SOUTH", "name": "Typed"})

    assert response.status_code == 422
    assert "is already used by South" in field_block(text_of(response), "code")
    assert 'value="Typed"' in text_of(response)
    db.session.expire_all()
    assert (db.session.get(Region, north.id).code, db.session.get(Region, north.id).name) == ("NORTH", "The North")


def test_a_deactivated_region_is_offered_for_no_new_branch_or_wave(hq, regions, published, make_branch):
    make_branch("BR-009", "SOUTH")
    south = regions["SOUTH"]

    assert hq.post(f"/hq/regions/{south.id}/deactivate").status_code == 302

    db.session.expire_all()
    assert db.session.get(Region, south.id).active is False
    assert "Inactive" in text_of(hq.get("/hq/regions"))
    assert f'value="{south.id}"' not in field_block(text_of(hq.get("/hq/branches/new")), "region_id")
    wave_form = main_of(hq.get("/hq/waves/new"))
    assert "BR-009" not in wave_form and f'name="region_ids" value="{south.id}"' not in wave_form

    hq.post(f"/hq/regions/{south.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(Region, south.id).active is True


# ---------------------------------------------------------------- branches


def listed_codes(response) -> list[str]:
    return re.findall(r'<tr id="b-([^"]+)"', response.get_data(as_text=True))


def test_the_branches_list_pages_lose_no_branch_and_keep_the_region(hq, make_branch, monkeypatch):
    monkeypatch.setattr(places, "BRANCH_PAGE_SIZE", 3)
    made = [make_branch(f"BR-{n:03d}", "NORTH" if n % 3 else "SOUTH") for n in range(1, 11)]
    db.session.get(Branch, made[4].id).active = False  # inactive ones come last
    db.session.commit()

    seen, url = [], "/hq/branches"
    while url:
        page = hq.get(url)
        html = page.get_data(as_text=True)
        seen += listed_codes(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert "10 branches, page 4 of 4" in text_of(hq.get("/hq/branches?page=4"))
    assert len(seen) == len(set(seen)) == 10  # every branch once: none lost, none doubled
    assert seen[-1] == "BR-005"
    assert sorted(seen) == sorted(b.code for b in made)

    north = hq.get("/hq/branches?region=NORTH")
    html = north.get_data(as_text=True)
    assert "7 branches, page 1 of 3" in text_of(north)
    following = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "region=NORTH" in following and "page=2" in following
    assert all(code in {b.code for b in made if b.region.code == "NORTH"}
               for code in listed_codes(north) + listed_codes(hq.get(following)))
    # Past the end: the last page; not a number: the first.
    assert listed_codes(hq.get("/hq/branches?region=NORTH&page=99")) == listed_codes(
        hq.get("/hq/branches?region=NORTH&page=3"))
    assert listed_codes(hq.get("/hq/branches?page=x")) == listed_codes(hq.get("/hq/branches"))


def test_the_branches_list_filters_by_region(hq, make_branch):
    make_branch("BR-001", "NORTH", name="Harbour Street")
    make_branch("BR-005", "SOUTH", name="Riverside")

    everything = text_of(hq.get("/hq/branches"))
    north = text_of(hq.get("/hq/branches?region=NORTH"))

    assert "Harbour Street" in everything and "Riverside" in everything
    assert "Harbour Street" in north and "Riverside" not in north
    assert hq.get("/hq/branches?region=NOWHERE").status_code == 404


def test_adding_a_branch(hq, regions):
    response = hq.post("/hq/branches/new", {"code": "BR-100", "name": "Quayside", "region_id": str(regions["SOUTH"].id),
                                            "address": "1 Quay"})

    assert response.status_code == 302
    assert branches() == {"BR-100": ("Quayside", "SOUTH", "1 Quay", True)}


def test_a_branch_needs_a_region_and_a_free_code(hq, regions, make_branch):
    make_branch("BR-001", "NORTH", name="Harbour Street")

    response = hq.post("/hq/branches/new", {"code": "BR-001", "name": "Quayside", "region_id": "", "address": "1 Quay"})

    html = text_of(response)
    assert response.status_code == 422
    assert "The code \u201cBR-001\u201d is already used by Harbour Street." in field_block(html, "code")
    assert "Choose the region this branch belongs to." in field_block(html, "region_id")
    assert 'value="Quayside"' in field_block(html, "name")
    assert "1 Quay</textarea>" in field_block(html, "address")
    assert list(branches()) == ["BR-001"]


def test_a_tampered_region_is_refused(hq, regions):
    response = hq.post("/hq/branches/new", {"code": "BR-100", "name": "Quayside", "region_id": "987654"})

    assert response.status_code == 422
    assert "Choose one of the listed regions." in field_block(text_of(response), "region_id")
    assert branches() == {}


def test_editing_a_branch_moves_it_and_keeps_its_history(hq, regions, make_branch):
    branch = make_branch("BR-001", "NORTH", name="Harbour Street")

    response = hq.post(f"/hq/branches/{branch.id}/edit", {"code": "BR-001", "name": "Harbour St",
                                                          "region_id": str(regions["SOUTH"].id),
                                                          "address": "12 Harbour St"})

    assert response.status_code == 302
    assert branches() == {"BR-001": ("Harbour St", "SOUTH", "12 Harbour St", True)}


def test_a_deactivated_branch_gets_no_new_links_until_reactivated(hq, published, make_branch):
    branch = make_branch("BR-001", "NORTH", name="Harbour Street")

    assert hq.post(f"/hq/branches/{branch.id}/deactivate").status_code == 302
    assert branches()["BR-001"][3] is False
    assert "Harbour Street" not in main_of(hq.get("/hq/waves/new"))
    assert "Inactive" in text_of(hq.get("/hq/branches"))

    hq.post(f"/hq/branches/{branch.id}/reactivate")
    assert branches()["BR-001"][3] is True
    assert "Harbour Street" in main_of(hq.get("/hq/waves/new"))


def test_each_row_of_the_branches_list_acts_on_its_own_branch(client, hq, make_branch):
    """The list's Edit links and Deactivate/Reactivate buttons, as a browser sends them (the page's token)."""
    for n in range(1, 4):
        make_branch(f"BR-00{n}", "NORTH", name=f"Shop {n}")

    def row(code: str) -> str:
        html = hq.get("/hq/branches").get_data(as_text=True)
        return re.search(rf'<tr id="b-{code}".*?</tr>', html, re.S).group(0)

    edit = re.search(r'<a class="button secondary" href="([^"]+)" aria-label="Edit BR-002 Shop 2">', row("BR-002"))
    assert 'value="BR-002"' in field_block(text_of(hq.get(edit.group(1))), "code")
    form = re.search(r'<form method="post" action="([^"]+)".*?name="csrf_token" value="([^"]+)"', row("BR-002"), re.S)
    assert client.post(form.group(1), data={"csrf_token": form.group(2)}).status_code == 302
    assert {code: active for code, (_, _, _, active) in branches().items()} == {
        "BR-001": True, "BR-002": False, "BR-003": True}
    again = re.search(r'<form method="post" action="([^"]+)".*?name="csrf_token" value="([^"]+)".*?>Reactivate<',
                      row("BR-002"), re.S)
    assert client.post(again.group(1), data={"csrf_token": again.group(2)}).status_code == 302
    assert all(active for _, _, _, active in branches().values())


# ---------------------------------------------------------------- CSV import


def test_a_good_file_adds_branches_and_a_second_import_updates_them_by_code(hq, regions, make_branch):
    make_branch("BR-001", "NORTH", name="Old name")
    content = (
        HEADER + "BR-001,Harbour Street,NORTH,12 Harbour Street\n"
        "\n"
        'BR-002,"Millgate, upper floor",SOUTH,"4 Millgate Square"\n'
    ).encode()

    response = upload(hq, content)

    assert response.status_code == 302
    assert branches() == {"BR-001": ("Harbour Street", "NORTH", "12 Harbour Street", True),
                          "BR-002": ("Millgate, upper floor", "SOUTH", "4 Millgate Square", True)}
    assert "Imported 2 branches: 1 added, 1 updated, 0 unchanged." in text_of(hq.get("/hq/branches"))

    again = upload(hq, (HEADER + "BR-002,Millgate,NORTH,4 Millgate Square\n"
                        "BR-001,Harbour Street,NORTH,12 Harbour Street\n").encode())

    assert again.status_code == 302
    assert branches()["BR-002"] == ("Millgate", "NORTH", "4 Millgate Square", True)
    assert "Imported 2 branches: 0 added, 1 updated, 1 unchanged." in text_of(hq.get("/hq/branches"))


def test_a_spreadsheet_export_with_a_byte_order_mark_and_crlf_imports(hq, regions):
    content = "\ufeffcode,name,region_code,address\r\nBR-010,Westbrook,NORTH,\r\n".encode()

    assert upload(hq, content).status_code == 302
    assert branches() == {"BR-010": ("Westbrook", "NORTH", "", True)}


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(hq, regions):
    content = (HEADER
               + "BR-001,Harbour Street,NORTH,12 Harbour Street\n"   # line 2: good
               + "BR-002,Millgate,EAST,4 Millgate Square\n"          # 3: unknown region
               + ",Nameless,NORTH,\n"                                # 4: empty code
               + "BR-004,,NORTH,\n"                                  # 5: empty name
               + "BR-001,Harbour again,NORTH,\n"                     # 6: duplicate of line 2
               + "BR-006," + "N" * 201 + ",NORTH,\n"                 # 7: name too long
               + "BR-007,Long address,NORTH," + "A" * 501 + "\n"     # 8: address too long
               + "B" * 33 + ",Long code,NORTH,\n"                    # 9: code too long
               + "BR-009,Two problems,,\n"                           # 10: empty region
               + "BR-010,Too few,NORTH\n"                            # 11: three values
               + "BR 011,Space in code,NORTH,\n"                     # 12: bad characters
               ).encode()

    response = upload(hq, content)

    html = text_of(response)
    assert response.status_code == 422
    block = html[html.index('id="e-file"'):]
    expected = [
        "Line 3: unknown region \u201cEAST\u201d.",
        "Line 4: the code is empty.",
        "Line 5: the name is empty.",
        "Line 6: the code BR-001 is already on line 2.",
        "Line 7: the name is longer than 200 characters.",
        "Line 8: the address is longer than 500 characters.",
        "Line 9: the code is longer than 32 characters.",
        "Line 10: the region_code is empty.",
        "Line 11: expected 4 values (code, name, region_code, address), found 3.",
        "Line 12: the code \u201cBR 011\u201d has characters other than letters, digits, '-', '_' or '.'.",
    ]
    for message in expected:
        assert message in block
    assert "10 lines have problems. Nothing was imported: fix the file and upload it again." in block
    assert "Line 2" not in block
    assert branches() == {}


def test_a_row_with_several_problems_lists_them_all(hq, regions):
    response = upload(hq, (HEADER + ",,EAST,\n").encode())

    assert "Line 2: the code is empty; the name is empty; unknown region \u201cEAST\u201d." in text_of(response)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"code;name;region_code;address\nBR-1;A;NORTH;x\n",
            "Line 1: the header must be exactly code,name,region_code,address "
            "(found \u201ccode;name;region_code;address\u201d). "
            "Separate the columns with commas, not semicolons.",
        ),
        (
            b"name,code,region_code,address\nA,BR-1,NORTH,x\n",
            "Line 1: the header must be exactly code,name,region_code,address",
        ),
        (
            "code,name,region_code,address\nBR-1,Caf\u00e9,NORTH,x\n".encode("latin-1"),
            "Line 2: the file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d and upload it again.",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00binary", "This is not a CSV file (it holds binary data)."),
        (b'code,name,region_code,address\nBR-1,"Unclosed,NORTH,x\n', "Line 2: this is not valid CSV"),
        (b'code,name,region_code,address\nBR-1,"Mill"gate,NORTH,x\n', "Line 2: this is not valid CSV"),
        (b"", "The file is empty."),
        (b"code,name,region_code,address\n\n", "The file has no branches below its header."),
    ],
)
def test_a_file_that_is_not_a_branches_csv_is_refused_with_a_clear_message(hq, regions, content, message):
    response = upload(hq, content)

    assert response.status_code == 422
    assert message in text_of(response)
    assert branches() == {}


def test_the_upload_size_is_limited(hq, regions, app):
    app.config["HQ_IMPORT_MAX_BYTES"] = 2048
    content = (HEADER + "".join(f"BR-{i:04},Branch {i},NORTH,Somewhere\n" for i in range(200))).encode()

    response = upload(hq, content)

    assert response.status_code == 422
    assert "The file is larger than 2 KB. Split it and upload each part." in text_of(response)
    assert branches() == {}


def test_importing_without_a_file_asks_for_one(hq, regions):
    response = hq.post("/hq/branches/import", {})

    assert response.status_code == 422
    assert "Choose a CSV file to upload." in text_of(response)


# ---------------------------------------------------------------- the reader alone


def test_the_reader_counts_lines_of_quoted_fields_that_span_lines():
    content = (HEADER + 'BR-1,"Two\nlines",NORTH,x\nBR-2,,NORTH,x\n').encode()

    rows, problems = parse_branch_csv(content, {"NORTH"})

    assert [r.code for r in rows] == ["BR-1"] and rows[0].name == "Two\nlines"
    assert problems == ["Line 4: the name is empty."]


def test_the_reader_trims_spaces_and_matches_the_header_loosely():
    rows, problems = parse_branch_csv(b" Code , NAME ,region_code,address\n BR-1 , Mill ,NORTH, x \n", {"NORTH"})

    assert problems == []
    assert (rows[0].code, rows[0].name, rows[0].address, rows[0].line) == ("BR-1", "Mill", "x", 2)


# ---------------------------------------------------------------- codes in capitals, names once, inactive shown


def confirm_of(html: str, action: str) -> str:
    """Return the question a POST button asks (data-confirm) before it posts to ``action``."""
    form = html[html.index(f'action="{action}"'):]
    button = form[:form.index("</button>")]
    assert 'data-confirm="' in button, f"the button posting to {action} asks nothing first"
    return button[button.index('data-confirm="') + 14:].split('"', 1)[0]


def test_a_region_code_is_stored_in_capitals(hq, regions):
    response = hq.post("/hq/regions/new", {"code": " east ", "name": "East"})

    assert response.status_code == 302
    assert db.session.scalar(db.select(Region).filter_by(name="East")).code == "EAST"
    assert "Added the region East (EAST)." in text_of(hq.get("/hq/regions"))


@pytest.mark.parametrize("code, name, field, message", [
    ("north", "Northern hills", "code", "The code \u201cNORTH\u201d is already used by North."),
    ("EAST", "north", "name", "There is already a region called \u201cNorth\u201d (NORTH)."),
    ("EAST", "  SOUTH ", "name", "There is already a region called \u201cSouth\u201d (SOUTH)."),
])
def test_a_region_code_or_name_is_used_once_whatever_the_case(hq, regions, code, name, field, message):
    response = hq.post("/hq/regions/new", {"code": code, "name": name})

    html = text_of(response)
    assert response.status_code == 422
    assert message in field_block(html, field)
    assert f'value="{code.upper()}"' in field_block(html, "code")
    assert f'value="{name.strip()}"' in field_block(html, "name")
    assert db.session.scalar(db.select(db.func.count(Region.id))) == 2


def test_an_older_lower_case_code_still_counts_as_taken(hq, regions):
    db.session.add(Region(code="west", name="West"))
    db.session.commit()

    response = hq.post("/hq/regions/new", {"code": "West", "name": "Far west"})

    assert response.status_code == 422
    assert "already used by West (west)." in field_block(text_of(response), "code")


def test_a_region_may_keep_its_name_in_another_case(hq, regions):
    north = regions["NORTH"]

    response = hq.post(f"/hq/regions/{north.id}/edit", {"code": "north", "name": "NORTH"})

    assert response.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Region, north.id).code, db.session.get(Region, north.id).name) == ("NORTH", "NORTH")


def test_a_branches_file_may_name_its_region_in_any_case(hq, regions):
    response = upload(hq, (HEADER + "BR-001,Harbour Street,north,1 Quay\n").encode())

    assert response.status_code == 302
    assert branches()["BR-001"][1] == "NORTH"


def test_deactivating_asks_first_and_says_what_happens(hq, published, make_branch, make_assignment):
    branch = make_branch("BR-001", "NORTH", name="Harbour Street")
    make_branch("BR-002", "NORTH")
    make_assignment(branch=branch)
    north = db.session.scalar(db.select(Region).filter_by(code="NORTH"))

    regions_page = text_of(hq.get("/hq/regions"))
    branches_page = text_of(hq.get("/hq/branches"))

    assert confirm_of(regions_page, f"/hq/regions/{north.id}/deactivate") == (
        "Deactivate the region North (NORTH)? Its 2 active branches will get no new links until you reactivate it. "
        "Links already sent keep working; its history stays in reports.")
    assert confirm_of(branches_page, f"/hq/branches/{branch.id}/deactivate") == (
        "Deactivate BR-001 Harbour Street? It will get no new links until you reactivate it. "
        "Its 1 open link keeps working; its history stays in reports.")
    for page in (regions_page, branches_page):
        assert '<script src="/static/editor.js" defer></script>' in page
    # reactivating undoes it, so it needs no question
    hq.post(f"/hq/regions/{north.id}/deactivate")
    assert "data-confirm" not in text_of(hq.get("/hq/regions")).split(f"/hq/regions/{north.id}/reactivate")[1][:300]


def test_an_inactive_region_is_marked_and_counts_no_active_branches(hq, make_branch):
    make_branch("BR-001", "NORTH")
    make_branch("BR-002", "NORTH")
    make_branch("BR-003", "SOUTH").active = False
    make_branch("BR-004", "SOUTH")
    db.session.commit()
    north = db.session.scalar(db.select(Region).filter_by(code="NORTH"))
    hq.post(f"/hq/regions/{north.id}/deactivate")

    html = main_of(hq.get("/hq/regions"))

    row = html[html.index('id="r-NORTH"'):html.index("</tr>", html.index('id="r-NORTH"'))]
    assert 'class="off"' in row and '<span class="tag inactive">Inactive</span>' in row
    assert 'href="/hq/branches?region=NORTH">0</a>' in row and "+ 2 inactive with the region" in row
    south = html[html.index('id="r-SOUTH"'):html.index("</tr>", html.index('id="r-SOUTH"'))]
    assert 'href="/hq/branches?region=SOUTH">1</a>' in south and "+ 1 inactive" in south
    assert "Inactive" not in south.replace("+ 1 inactive", "")

    branch_list = main_of(hq.get("/hq/branches"))
    row = branch_list[branch_list.index('id="b-BR-001"'):branch_list.index("</tr>", branch_list.index('id="b-BR-001"'))]
    assert 'class="off"' in row and '<span class="tag inactive">Region inactive</span>' in row
    assert "North (NORTH) – inactive</option>" in branch_list
    # the dashboard counts the branches that can get links, as the regions page does
    assert "1 active branch." in text_of(hq.get("/hq/"))


def test_a_message_sits_under_the_console_menu(hq, regions):
    """What the last action did is said next to the page it is about, not above the menus."""
    region = regions["NORTH"]
    page = text_of(hq.post(f"/hq/regions/{region.id}/deactivate", follow_redirects=True))
    assert page.index('<nav class="console"') < page.index('<div class="flash"') < page.index("<h1")
    assert page.count('<div class="flash"') == 1


@pytest.mark.parametrize("region", ["\u00b2", "9" * 30, "-1", "abc"])
def test_an_odd_region_in_the_new_branch_link_is_ignored_not_a_server_error(hq, regions, region):
    response = hq.get("/hq/branches/new", query_string={"region": region})
    assert response.status_code == 200
    assert 'name="region_id"' in text_of(response)  # the form, with no region picked in advance


def test_a_branch_code_is_stored_in_capitals_and_used_once_whatever_the_case(hq, regions, make_branch):
    make_branch("BR-001", "NORTH", name="Harbour Street")

    taken = hq.post("/hq/branches/new", {"code": "br-001", "name": "Quayside", "region_id": str(regions["SOUTH"].id)})
    assert taken.status_code == 422
    assert "The code \u201cBR-001\u201d is already used by Harbour Street." in field_block(text_of(taken), "code")

    added = hq.post("/hq/branches/new", {"code": " br-100 ", "name": "Quayside", "region_id": str(regions["SOUTH"].id)})
    assert added.status_code == 302
    assert sorted(branches()) == ["BR-001", "BR-100"]


def test_a_branches_file_updates_a_branch_named_in_another_case(hq, regions, make_branch):
    db.session.add(Branch(code="br-7", name="Old", region=regions["NORTH"], address=""))  # from before capitals
    db.session.commit()
    make_branch("BR-001", "NORTH", name="Harbour Street")

    response = upload(
        hq,
        (
            HEADER + "br-001,Harbour Street,NORTH,12 Harbour Street\nBR-7,Seventh,SOUTH,\nbr-200,New one,SOUTH,\n"
        ).encode(),
    )

    assert response.status_code == 302
    assert branches() == {"BR-001": ("Harbour Street", "NORTH", "12 Harbour Street", True),
                          "br-7": ("Seventh", "SOUTH", "", True),
                          "BR-200": ("New one", "SOUTH", "", True)}
    assert "1 added, 2 updated, 0 unchanged." in text_of(hq.get("/hq/branches"))
