"""The branch PDF's two-column parts (checklists' sections, the appendix's rules and weights) read in order.

They are filled in the template (``reports.pdf.column_rows``) rather than by CSS columns, which
WeasyPrint balances by laying them out again and again; the reader must not notice the difference.
"""

from __future__ import annotations

import copy
import re
from io import BytesIO

from pypdf import PdfReader

from reports.pdf import column_rows, halves, render_report
from tests import report_samples as samples

APPENDIX = "Appendix · How the scores are computed"


def pdf_pages(body: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(BytesIO(body)).pages]


def tall(size: int) -> int:
    return size


def test_halves_keeps_the_order_and_makes_the_taller_column_as_short_as_it_can():
    # Checklists of 10, 7 and 7 lines: 10 | 7 + 7 has a 14-line column, 10 + 7 | 7 a 17-line one.
    assert halves([10, 7, 7], tall) == [[10], [7, 7]]
    # Even runs split evenly; of two equal splits the left column is the taller, as in CSS columns.
    assert halves([1, 1, 1, 1], tall) == [[1, 1], [1, 1]]
    assert halves([1, 1, 1], tall) == [[1, 1], [1]]
    assert halves([4, 4, 1, 1, 1, 1], tall) == [[4, 4], [1, 1, 1, 1]]
    assert halves([5], tall) == [[5], []]
    assert halves([], tall) == [[], []]


def test_column_rows_start_a_new_row_before_two_columns_grow_taller_than_the_limit():
    # At most 10 a column: 6 + 6 + 6 would need 18 in two columns of at most 10 → a second row.
    assert column_rows([6, 6, 6], tall, 10) == [[[6], [6]], [[6], []]]
    # An item taller than the limit has a row to itself, and the order is kept.
    assert column_rows([2, 30, 2, 2], tall, 10) == [[[2], []], [[30], []], [[2], [2]]]
    assert column_rows([3, 3, 3], tall, 10) == [[[3, 3], [3]]]


def test_many_checklists_read_in_order_even_over_a_page_break(app):
    data = copy.deepcopy(samples.BRANCH)
    section = data["checklists"][0]["sections"][0]
    # Five checklists, the third with 45 sections: taller than a page.
    data["checklists"] = [
        {"checklist": f"c{i}", "title": f"Checklist {chr(65 + i)}", "visits": 3 + i,
         "sections": [dict(section, title=f"Part {chr(65 + i)}{j}") for j in range(45 if i == 2 else 8)]}
        for i in range(5)
    ]
    text = " ".join(pdf_pages(render_report(data)))
    part = text[text.index("Sections, checklist by checklist"):text.index("Visit log")]
    headings = [part.index(f"Checklist {letter} ") for letter in "ABCDE"]
    assert headings == sorted(headings), "a checklist is read out of order"
    for letter in "ABCDE":
        rows = [m.start() for m in re.finditer(rf"Part {letter}\d+ ", part)]
        assert len(rows) == (45 if letter == "C" else 8)
        assert rows[0] > part.index(f"Checklist {letter} ")  # every section under its own checklist
        if letter != "E":
            assert rows[-1] < part.index(f"Checklist {chr(ord(letter) + 1)} ")


def test_weights_are_listed_checklist_by_checklist_in_their_order(app):
    data = samples.BRANCH
    pages = pdf_pages(render_report(data))
    text = " ".join(pages)
    appendix = text[text.index(APPENDIX):]
    weights = appendix[appendix.index("Weights A section's weight"):]
    heads = [f"{s['checklist']} v{s['version']} · {s['title']}" for s in data["method"]["sections"]]
    positions = [weights.index(head) for head in heads]
    assert positions == sorted(positions)
    # Every question printed once, under its own section (before the next section's head).
    for s, start, end in zip(data["method"]["sections"], positions, positions[1:] + [len(weights)]):
        for q in s["questions"]:
            assert q["text"] in weights[start:end], (s["title"], q["text"])
    # The rules read in their order too, the left column's three before the right column's four.
    rules = ["One visit", "Questions left out", "Bonuses and deductions", "Critical questions",
             "Across visits", "Likely range, spread", "Points lost per visit"]
    found = [appendix.index(f"{rule} ") for rule in rules]
    assert found == sorted(found)
