"""The ``flask`` commands (SPEC §5) through Flask's CLI runner: exit codes and what they print."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date, timedelta
from statistics import mean

import pytest
from survey import create_app
from survey.extensions import db
from survey.models import (
    Assignment,
    AssignmentState,
    Branch,
    Checklist,
    ChecklistVersion,
    Region,
    Role,
    Submission,
    User,
    Wave,
    hash_token,
)
from survey.submissions import TOKEN_RE, checklist_of, create_assignments

from .conftest import CHECKLISTS, good_answers, hidden_fields

STANDARDS = CHECKLISTS / "standards.yaml"
STORE_VISIT = CHECKLISTS / "store-visit.yaml"


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def line_of(text: str, marker: str) -> int:
    """Return the 1-based line of the first line containing ``marker``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


@pytest.fixture
def files(tmp_path):
    """Copies of the shipped standards and store-visit checklist that a test may change."""
    shutil.copy(STANDARDS, tmp_path / "standards.yaml")
    shutil.copy(STORE_VISIT, tmp_path / "store-visit.yaml")
    return tmp_path


@pytest.fixture
def cli(runner):
    """Invoke a command line as ``flask <args>`` would; return the click result."""

    def invoke(*args: str):
        db.session.remove()  # the command works in its own session; read afresh afterwards
        result = runner.invoke(args=list(args))
        db.session.remove()
        return result

    return invoke


# ---------------------------------------------------------------- checklist validate


def test_validate_accepts_the_shipped_files(cli):
    paths = sorted(str(p) for p in CHECKLISTS.glob("*.yaml"))
    result = cli("checklist", "validate", *paths)
    assert result.exit_code == 0, result.output
    assert f"{len(paths)} files valid." in result.output
    assert count(Checklist) == 0  # validating publishes nothing


BROKEN = """\
slug: broken
title: Broken visit
channel: visit
sections:
  - key: one
    title: One
    questions:
      - key: greeted
        text: Were you greeted?
        type: yes_no
        standard: speed
        weight: 0
      - key: polite
        txet: typo here
        text: How polite?
        type: scale
        min: 1
        max: 5
        standard: communication
      - key: outcome
        text: How did it end?
        type: choice
        standard: problem_solving
        options:
          - {key: fine, label: yes, score: 1}
          - {key: bad, label: Badly, score: 0}
      - key: Wrong_Key
        text: Anything else?
        type: text
"""


def test_validate_lists_every_error_with_file_and_line(cli, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)

    result = cli("checklist", "validate", str(STANDARDS), str(path))

    assert result.exit_code == 1
    out = result.output
    expected = [
        (line_of(BROKEN, "weight: 0"), "sections[0].questions[0].weight", "must be > 0"),
        (line_of(BROKEN, "txet:"), "sections[0].questions[1].txet", "unknown key (did you mean 'text'?)"),
        (line_of(BROKEN, "label: yes"), "sections[0].questions[2].options[0].label", "quotes"),
        (line_of(BROKEN, "Wrong_Key"), "sections[0].questions[3].key", "lower_snake_case"),
    ]
    for line, where, words in expected:
        found = [row for row in out.splitlines() if row.startswith(f"broken.yaml:{line} {where}:")]
        assert found, f"no error for {where} at line {line} in:\n{out}"
        assert words in found[0]
    assert "4 errors; nothing imported." in out
    assert count(Checklist) == 0


def test_validate_reports_invalid_yaml_with_its_line(cli, tmp_path):
    path = tmp_path / "torn.yaml"
    path.write_text("slug: torn\ntitle: [unclosed\nchannel: visit\n")
    result = cli("checklist", "validate", str(path))
    assert result.exit_code == 1
    assert re.search(r"^torn\.yaml:\d+: not valid YAML", result.output, re.M), result.output


def test_validate_needs_an_existing_file(cli, tmp_path):
    result = cli("checklist", "validate", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


# ---------------------------------------------------------------- checklist import / export


def test_import_publishes_version_one_then_nothing_for_unchanged_content(cli, files):
    first = cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml"))
    assert first.exit_code == 0, first.output
    assert "store-visit: published version 1" in first.output
    assert "standards:" in first.output

    again = cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml"))

    assert again.exit_code == 0, again.output
    assert "store-visit: unchanged (version 1)" in again.output
    assert "standards: 0 added, 0 updated" in again.output
    assert count(ChecklistVersion) == 1


def test_a_changed_file_publishes_version_two_and_old_submissions_keep_version_one(
        cli, files, client, make_branch):
    assert cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml")).exit_code == 0
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug="store-visit"))
    (assignment, token), = create_assignments(checklist, make_branch("BR-001"), 1,
                                              not_before=date.today() - timedelta(days=3))
    db.session.commit()
    page = client.get(f"/s/{token}")
    version_one = checklist_of(assignment.version)
    data = {**hidden_fields(page.get_data(as_text=True)), **good_answers(version_one)}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    text = (files / "store-visit.yaml").read_text()
    (files / "store-visit.yaml").write_text(text.replace("\ntitle: ", "\ntitle: Revised ", 1))

    result = cli("checklist", "import", str(files / "store-visit.yaml"))

    assert result.exit_code == 0, result.output
    assert "store-visit: published version 2" in result.output
    submission = db.session.scalar(db.select(Submission))
    assert submission.version.number == 1
    assert db.session.scalars(db.select(ChecklistVersion.number).order_by(ChecklistVersion.number)).all() == [1, 2]
    assert checklist_of(submission.version).title == version_one.title
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug="store-visit"))
    assert checklist.latest.number == 2 and checklist_of(checklist.latest).title.startswith("Revised ")


def test_a_file_with_an_error_is_refused_as_a_whole(cli, files, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    result = cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml"), str(broken))
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert count(ChecklistVersion) == 0


def test_export_then_import_publishes_nothing(cli, files, tmp_path):
    assert cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml")).exit_code == 0
    out = tmp_path / "exported.yaml"

    exported = cli("checklist", "export", "store-visit", "-o", str(out))

    assert exported.exit_code == 0, exported.output
    assert f"Wrote {out}" in exported.output
    assert out.read_text().startswith("slug: store-visit")
    assert cli("checklist", "validate", str(out)).exit_code == 0
    again = cli("checklist", "import", str(out))
    assert again.exit_code == 0, again.output
    assert "store-visit: unchanged (version 1)" in again.output
    assert count(ChecklistVersion) == 1


def test_export_to_standard_output_and_unknown_slug(cli, files):
    assert cli("checklist", "import", str(files / "standards.yaml"), str(files / "store-visit.yaml")).exit_code == 0
    shown = cli("checklist", "export", "store-visit")
    assert shown.exit_code == 0 and shown.output.startswith("slug: store-visit\n")
    missing = cli("checklist", "export", "no-such-list")
    assert missing.exit_code == 2
    assert "no checklist with slug 'no-such-list'" in missing.output
    nowhere = cli("checklist", "export", "store-visit", "-o", str(files / "no-such-dir" / "out.yaml"))
    assert nowhere.exit_code == 2
    assert "Error: cannot write" in nowhere.output and "No such file or directory" in nowhere.output


# ---------------------------------------------------------------- assign


def test_assign_prints_one_url_per_link_and_stores_only_token_hashes(cli, client, published, make_branch):
    make_branch("BR-001")

    result = cli("assign", "--checklist", "store-visit", "--branch", "BR-001", "--count", "3", "--wave", "2026 Q4")

    assert result.exit_code == 0, result.output
    urls = result.output.split()
    assert len(urls) == 3 and len(set(urls)) == 3
    tokens = []
    for url in urls:
        assert url.startswith("http://shop.test/s/")
        token = url.removeprefix("http://shop.test/s/")
        assert TOKEN_RE.fullmatch(token)
        tokens.append(token)
    assignments = db.session.scalars(db.select(Assignment)).all()
    assert len(assignments) == 3
    assert {a.token_hash for a in assignments} == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    assert {a.wave.name for a in assignments} == {"2026 Q4"}
    assert {a.state for a in assignments} == {AssignmentState.open}
    assert {(a.not_before, a.due) for a in assignments} == {(date.today(), date.today() + timedelta(days=30))}
    # No token text anywhere in the database, in any table.
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for table in db.metadata.sorted_tables for row in conn.execute(table.select()))
    for token in tokens:
        assert token not in dump
    assert client.get(f"/s/{tokens[0]}").status_code == 200


def test_assign_takes_a_window(cli, published, make_branch):
    make_branch("BR-001")
    start, end = date.today() + timedelta(days=2), date.today() + timedelta(days=9)
    result = cli("assign", "--checklist", "store-visit", "--branch", "BR-001",
                 "--not-before", start.isoformat(), "--due", end.isoformat())
    assert result.exit_code == 0, result.output
    assignment = db.session.scalar(db.select(Assignment))
    assert (assignment.not_before, assignment.due, assignment.wave) == (start, end, None)


def test_assign_finds_a_branch_whatever_the_case_of_its_code(cli, published, make_branch):
    branch_id = make_branch("BR-001").id
    result = cli("assign", "--checklist", "store-visit", "--branch", "br-001")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(Assignment)).branch_id == branch_id


@pytest.mark.parametrize("args, message", [
    (["--checklist", "store-visit", "--branch", "BR-999"], "no branch with code 'BR-999'"),
    (["--checklist", "no-such-list", "--branch", "BR-001"], "no published checklist with slug 'no-such-list'"),
    (["--checklist", "store-visit", "--branch", "BR-001", "--due", "2000-01-01"],
     "--due is before the start of the window"),
])
def test_assign_refuses_unknown_names_with_a_clear_message(cli, published, make_branch, args, message):
    make_branch("BR-001")
    result = cli("assign", *args)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.output
    assert "http" not in result.output
    assert count(Assignment) == 0 and count(Wave) == 0


def test_assign_refuses_a_bad_count(cli, published, make_branch):
    make_branch("BR-001")
    result = cli("assign", "--checklist", "store-visit", "--branch", "BR-001", "--count", "0")
    assert result.exit_code == 2
    assert "--count" in result.output
    assert count(Assignment) == 0


# ---------------------------------------------------------------- seed-demo


def test_seed_demo_is_idempotent_and_makes_history_worth_reporting(cli, client):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    counts = {m.__name__: count(m) for m in (Submission, Branch, Region, User, Assignment, ChecklistVersion)}

    second = cli("seed-demo")

    assert second.exit_code == 0, second.output
    assert {m.__name__: count(m) for m in (Submission, Branch, Region, User, Assignment, ChecklistVersion)} == counts
    for out in (first.output, second.output):
        assert "hq@example.com" in out and "manager.north@example.com" in out
        assert "password for all" in out
    links = re.findall(r"http://shop\.test/s/[A-Za-z0-9_-]{32}", first.output)
    assert len(links) >= 3
    assert re.findall(r"http://shop\.test/s/[A-Za-z0-9_-]{32}", second.output) == links
    page = client.get(links[0].removeprefix("http://shop.test"))
    assert page.status_code == 200 and "Store visit" in page.get_data(as_text=True)
    for link in links:  # HQ finds each printed link on its wave page by how its address starts
        token = link.rsplit("/", 1)[1]
        assert db.session.scalar(db.select(Assignment.token_hint).filter_by(token_hash=hash_token(token))) == token[:4]

    submissions = db.session.scalars(db.select(Submission)).all()
    assert len(submissions) >= 250
    today = date.today()
    months = {(s.visit_date.year, s.visit_date.month) for s in submissions}
    assert len(months) >= 12
    assert all(today - timedelta(days=366) <= s.visit_date < today for s in submissions)
    by_branch: dict[str, list[float]] = {}
    for s in submissions:
        by_branch.setdefault(s.branch.code, []).append(s.score)
    assert mean(by_branch["BR-003"]) > mean(by_branch["BR-007"]) + 0.15
    assert any(s.critical_fail for s in submissions)
    roles = {u.email: u.role for u in db.session.scalars(db.select(User))}
    assert roles["hq@example.com"] == Role.hq
    assert all(u.check_password("demo-pass-2026") for u in db.session.scalars(db.select(User)))


# ---------------------------------------------------------------- user create


def test_user_create_with_a_password(cli):
    result = cli("user", "create", "--email", " Boss@Example.com ", "--role", "hq", "--password", "long-enough-1")
    assert result.exit_code == 0, result.output
    assert "Created hq boss@example.com" in result.output
    user = db.session.scalar(db.select(User))
    assert (user.email, user.role, user.regions) == ("boss@example.com", Role.hq, [])
    assert user.check_password("long-enough-1")
    assert "long-enough-1" not in user.password_hash


def test_user_create_prompts_for_the_password(cli, runner):
    db.session.remove()
    result = runner.invoke(args=["user", "create", "--email", "q@example.com", "--role", "hq"],
                           input="typed-secret-9\ntyped-secret-9\n")
    db.session.remove()
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(User)).check_password("typed-secret-9")


def test_user_create_manager_with_regions(cli, make_region):
    make_region("NORTH")
    make_region("WEST")
    result = cli("user", "create", "--email", "m@example.com", "--role", "manager",
                 "--region", "NORTH", "--region", "WEST", "--password", "long-enough-1")
    assert result.exit_code == 0, result.output
    assert [r.code for r in db.session.scalar(db.select(User)).regions] == ["NORTH", "WEST"]


@pytest.mark.parametrize("args, message", [
    (["--role", "manager"], "a manager needs at least one --region"),
    (["--role", "manager", "--region", "NOWHERE"], "no region with code 'NOWHERE'"),
    (["--role", "hq", "--password", "short"], "at least 8 characters"),
    (["--role", "hq", "--email", "not-an-address"], "Enter a valid e-mail address."),
])
def test_user_create_refuses_bad_input(cli, make_region, args, message):
    make_region("NORTH")
    base = {"--email": "m@example.com", "--password": "long-enough-1"}
    given = dict(zip(args[::2], args[1::2]))
    line = [x for k, v in {**base, **given}.items() for x in (k, v)]
    result = cli("user", "create", *line)
    assert result.exit_code == 2
    assert message in result.output
    assert count(User) == 0


def test_user_create_refuses_a_second_account_for_the_same_email(cli):
    args = ("user", "create", "--email", "a@example.com", "--role", "hq", "--password", "long-enough-1")
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code == 2
    assert "a user a@example.com already exists" in again.output
    assert count(User) == 1


# ---------------------------------------------------------------- a new installation


@pytest.fixture
def new_installation(tmp_path):
    """The app on a database that ``flask db upgrade`` never touched: no tables at all."""
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
                        "SECRET_KEY": "test"})
    runner = fresh.test_cli_runner()
    yield lambda *args: runner.invoke(args=list(args))
    with fresh.app_context():
        db.engine.dispose()


def test_validate_on_a_new_installation_uses_the_standards_given_or_says_what_to_run(new_installation):
    alone = new_installation("checklist", "validate", str(STORE_VISIT))
    assert alone.exit_code == 2
    assert alone.output.strip() == ("Error: the database has no tables yet: run `flask --app wsgi db upgrade` "
                                    "first, or give standards.yaml along with the checklists")
    together = new_installation("checklist", "validate", str(STANDARDS), str(STORE_VISIT))
    assert together.exit_code == 0, together.output
    assert "2 files valid." in together.output
    importing = new_installation("checklist", "import", str(STANDARDS), str(STORE_VISIT))
    assert importing.exit_code == 2
    assert importing.output.strip() == ("Error: the database has no tables yet: run "
                                        "`flask --app wsgi db upgrade` first")


@pytest.mark.parametrize("address", ["hq@shop.test", "nobody", "two@@example.com"])
def test_user_create_refuses_an_address_the_login_form_refuses(cli, address):
    result = cli("user", "create", "--email", address, "--role", "hq", "--password", "long-enough-1")
    assert result.exit_code == 2
    assert f"Error: {address}: Enter a valid e-mail address." in result.output
    assert count(User) == 0
