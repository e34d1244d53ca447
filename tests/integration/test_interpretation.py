"""Selections, tags, comments and classifications on the real GIAB trio."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.errors import InvalidInput, NotFound, PermissionDenied
from regovar.domain.interpretation import Note
from regovar.domain.principal import SYSTEM, Principal
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project, new_user, samples_of

DE_NOVO = {"version": 1, "filter": {"inheritance": "de_novo"}}


async def _trio_analysis(container, prefix: str):
    project = await new_project(container, prefix)
    job = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"{prefix}-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    return project, view.analysis.id


@pytest.fixture(scope="module")
async def trio(container):
    project, analysis_id = await _trio_analysis(container, "interp")
    result = await container.analyses.results(SYSTEM, analysis_id, DE_NOVO, limit=10)
    keys = [r.variant_key for r in result.page.items if r.genes][:3]
    assert len(keys) == 3
    return project, analysis_id, keys


async def _filtered(container, analysis_id: int, node: dict) -> list[str]:
    result = await container.analyses.results(
        SYSTEM, analysis_id, {"version": 1, "filter": node}, limit=1000
    )
    return [r.variant_key for r in result.page.items]


async def test_notes_add_up_and_the_history_keeps_every_step(container, trio):
    _, analysis_id, (a, b, c) = trio
    add = container.interpretation.add
    await add(SYSTEM, Note(analysis_id, (a, b), "select", reason="de novo, good depth"))
    await add(SYSTEM, Note(analysis_id, (b,), "unselect", reason="seen in the lab's controls"))
    await add(SYSTEM, Note(analysis_id, (a, c), "tag", "candidate"))
    await add(SYSTEM, Note(analysis_id, (c,), "untag", "candidate"))
    await add(SYSTEM, Note(analysis_id, (a,), "comment", "confirm by Sanger"))
    await add(SYSTEM, Note(analysis_id, (a,), "classify", "likely_pathogenic",
                           ("ps2", "PM2_supporting"), "de novo, absent from gnomAD"))  # fmt: skip

    states = {
        i.variant_key: i
        for i in await container.interpretation.of_variants(SYSTEM, analysis_id, [a, b, c])
    }
    assert (states[a].selected, states[a].tags, states[a].comments) == (True, ["candidate"], 1)
    assert states[a].classification.value == "likely_pathogenic"
    assert states[a].classification.criteria == ["PS2", "PM2_Supporting"]
    assert (states[b].selected, states[b].tags) == (False, [])
    assert (states[c].selected, states[c].tags, states[c].classification) == (False, [], None)

    history = await container.interpretation.history(SYSTEM, analysis_id, b)
    assert [(n.kind, n.reason, n.actor) for n in history] == [
        ("select", "de novo, good depth", "system"),
        ("unselect", "seen in the lab's controls", "system"),
    ]
    assert history[0].variant.startswith("1:") and ">" in history[0].variant

    # the notes are conditions of the filter: the selection, a tag, a class
    assert await _filtered(container, analysis_id, {"selected": True}) == [a]
    assert set(await _filtered(container, analysis_id, {"all": [
        {"inheritance": "de_novo"}, {"selected": False}]})) >= {b, c}  # fmt: skip
    assert await _filtered(container, analysis_id, {"tagged": "candidate"}) == [a]
    assert await _filtered(container, analysis_id, {"classified": ["likely_pathogenic"]}) == [a]
    made = await container.exports.export(
        SYSTEM, analysis_id, "tsv", {"version": 1, "filter": {"selected": True}}
    )
    assert made.rows == 1
    lines = [line.split("\t") for line in made.data.decode().splitlines() if line[:2] != "##"]
    row = dict(zip(lines[0], lines[1], strict=True))
    assert (row["variant_key"], row["selected"], row["tags"], row["class"], row["criteria"]) == (
        a, "yes", "candidate", "likely_pathogenic", "PS2,PM2_Supporting"
    )


async def test_classifications_show_in_other_analyses_without_their_reason(container, trio):
    _, analysis_id, (_, _, c) = trio
    await container.interpretation.add(
        SYSTEM, Note(analysis_id, (c,), "classify", "benign", ("BA1",), "common in our cohort")
    )
    # the same file imported again into another project: the variant keeps its class
    _, other = await _trio_analysis(container, "interp-other")
    (seen,) = await container.interpretation.of_variants(SYSTEM, other, [c])
    assert seen.classification.value == "benign" and seen.classification.criteria == ["BA1"]
    assert seen.classification.reason is None and seen.classification.analysis_id is None
    assert seen.selected is False and seen.tags == []
    assert c in await _filtered(container, other, {"classified": ["benign"]})
    history = await container.interpretation.history(SYSTEM, other, c)
    assert [(n.kind, n.value, n.reason) for n in history] == [("classify", "benign", None)]


async def test_notes_are_append_only(container, trio):
    _, analysis_id, (a, _, _) = trio
    await container.interpretation.add(SYSTEM, Note(analysis_id, (a,), "comment", "first"))
    async with container.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            await conn.execute(text("UPDATE variant_notes SET value = 'rewritten'"))


async def test_bad_notes_are_refused(container, trio):
    project, analysis_id, (a, _, _) = trio
    add = container.interpretation.add
    cases = [
        (Note(analysis_id, (a,), "classify", "probably_bad"), "unknown class"),
        (Note(analysis_id, (a,), "classify", "benign", ("PZ9",)), "unknown ACMG criterion"),
        (Note(analysis_id, (a,), "tag", "Has Spaces"), "a tag is one of"),
        (Note(analysis_id, (a,), "comment", "  "), "needs a text"),
        (Note(analysis_id, ("nothex",), "select"), "not a variant key"),
        (Note(analysis_id, (a,), "erase"), "unknown note"),
    ]
    for note, words in cases:
        with pytest.raises(InvalidInput, match=words):
            await add(SYSTEM, note)
    with pytest.raises(NotFound, match="not in the analysis"):
        await add(SYSTEM, Note(analysis_id, ("00" * 16,), "select"))
    viewer = await new_user(container, "viewer")
    await container.members.set(SYSTEM, project.id, viewer.login, "viewer")
    as_viewer = Principal(viewer.id, viewer.login)
    with pytest.raises(PermissionDenied):
        await add(as_viewer, Note(analysis_id, (a,), "select"))
    assert await container.interpretation.of_variants(as_viewer, analysis_id, [a])
