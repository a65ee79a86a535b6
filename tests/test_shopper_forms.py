"""The shopper form's question fields are copies of fields bound once (forms.ChecklistBaseForm.Meta).

These tests hold the copies to what WTForms' own binding gives, field by field, so that a
WTForms upgrade adding state to a field, or a change that mutates a shared part, fails here
instead of leaking one shopper's answers or messages into another's form.
"""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from survey.checklist.conditions import slots
from survey.shopper import forms
from survey.shopper.fields import slot_name
from survey.caches import checklist_of

from .conftest import good_answers

SLUGS = ["store-visit", "phone-call", "email-inquiry"]


def ordinary_class(form_class):
    """The same fields on a plain FlaskForm, bound the ordinary way."""
    return type("Ordinary", (FlaskForm,), {name: field for name, field in form_class._unbound_fields})


def question_names(form):
    return [field.name for field in form if field.name.startswith("q_")]


def other_answers(checklist) -> dict:
    """A second shopper's answers, each unlike good_answers': the other yes/no, the lowest
    point, the last option, another number, other words."""
    good = good_answers(checklist)
    data = {}
    for _, _, q, slot in slots(checklist):  # a repeated section as often as good_answers fills it
        name = slot_name(slot)
        if q.type == "yes_no":
            data[name] = "no" if good[name] == "yes" else "yes"
        elif q.type == "scale":
            data[name] = str(q.min)
        elif q.type == "choice":
            data[name] = next(o.key for o in reversed(q.options) if o.key != good[name])
        elif q.type == "multi":
            data[name] = q.options[-1].key
        elif q.type == "number":
            data[name] = "7"
        elif q.type == "text":
            data[name] = "Someone else's words."
    return data


@pytest.mark.parametrize("slug", SLUGS)
def test_copied_fields_match_fields_bound_by_wtforms(app, published, slug):
    version = published[slug].latest
    checklist = checklist_of(version)
    form_class = forms.build_form_class(checklist)
    data = good_answers(checklist)
    with app.test_request_context(f"/s/{slug}", method="POST", data=data):
        form_class()  # the first form binds the originals; this one and later ones copy them
        copied, ordinary = form_class(), ordinary_class(form_class)()
        names = question_names(copied)
        assert names and names == question_names(ordinary)
        assert len(form_class.__dict__["_prototypes"]) == len(names)  # the copies are in use
        assert all(p._form is None for p in form_class.__dict__["_prototypes"].values())
        for name in names:
            mine, theirs = copied[name], ordinary[name]
            assert set(vars(mine)) == set(vars(theirs)), name
            assert mine._form is copied and mine.meta is copied.meta, name  # not the first shopper's
            assert (mine.data, mine.raw_data, mine.label.text, mine.description) == \
                   (theirs.data, theirs.raw_data, theirs.label.text, theirs.description), name
            assert str(mine()) == str(theirs()), name  # every option, checked as posted


@pytest.mark.parametrize("slug", SLUGS)
def test_two_shoppers_forms_share_no_answers_or_messages(app, published, slug):
    version = published[slug].latest
    checklist = checklist_of(version)
    form_class = forms.form_class(version.id, version.content_hash, checklist)
    first_data, second_data = good_answers(checklist), other_answers(checklist)
    with app.test_request_context(f"/s/{slug}", method="POST", data=first_data):
        first = form_class()
        for name in question_names(first):
            first[name].errors = ["First shopper's message"]
    with app.test_request_context(f"/s/{slug}", method="POST", data=second_data):
        second = form_class()
    changed = [name for name in second_data if name.startswith("q_")]
    assert changed
    for name in changed:
        assert second[name].data != first[name].data or second[name].raw_data != first[name].raw_data, name
    for name in question_names(second):
        assert not second[name].errors, name
        assert "First shopper" not in str(second[name]()), name
    with app.test_request_context(f"/s/{slug}"):
        blank = form_class(formdata=None, meta={"csrf": False})
        assert all(blank[name].data in (None, "", []) for name in question_names(blank))
        assert " checked" not in "".join(str(blank[name]()) for name in question_names(blank))
