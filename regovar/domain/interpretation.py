"""Interpretation of an analysis's variants: selection, tags, comments, classification.

Everything is a note added to an append-only history (who, when, why); nothing is changed or
removed: unselecting or removing a tag adds a note. Notes are keyed by the variant's key
(assembly, chrom, pos, ref, alt), so they survive re-imports. A **classification** (ACMG-style
class with the criteria used) is about the variant itself: the latest one, made in any analysis,
shows in every analysis of the server, with who made it and when, but its reason only in the
analysis where it was made (a reason may speak of a patient).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from regovar.domain import variant_filter as vf
from regovar.domain.access import require_role, require_user
from regovar.domain.analyses import prepare
from regovar.domain.audit import record
from regovar.domain.common import storable
from regovar.domain.errors import InvalidInput, NotFound
from regovar.domain.principal import Principal
from regovar.domain.variants import VariantRow, run_query
from regovar.models import VariantNote
from regovar.models.variant_filter import CLASSES
from regovar.repositories.notes import NoteState
from regovar.repositories.uow import UnitOfWorkFactory

TAGS = ("candidate", "causal", "artefact", "incidental", "carrier", "to_confirm", "confirmed")
# ACMG/AMP 2015 criteria, optionally with a strength (PM2_Supporting, PS3_Moderate, PVS1_Strong)
_CRITERION = re.compile(
    r"^(PVS1|PS[1-4]|PM[1-6]|PP[1-5]|BA1|BS[1-4]|BP[1-7])"
    r"(_(VeryStrong|Strong|Moderate|Supporting|Standalone))?$",
    re.IGNORECASE,
)
_STRENGTHS = {s.lower(): s for s in ("VeryStrong", "Strong", "Moderate", "Supporting",
                                      "Standalone")}  # fmt: skip


def _criterion(text: str) -> str:
    """PM2_supporting -> PM2_Supporting: criteria are compared as written in the guidelines."""
    code, _, strength = text.partition("_")
    return code.upper() + (f"_{_STRENGTHS[strength.lower()]}" if strength else "")
_CUSTOM_TAG = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_TEXT = 10_000
MAX_KEYS = 1_000


@dataclass(frozen=True)
class Note:
    analysis_id: int
    variant_keys: tuple[str, ...]  # hex keys, as results give them
    kind: str  # select, unselect, tag, untag, comment, classify
    value: str = ""  # the tag, the comment, the class
    criteria: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class NoteView:
    id: int
    analysis_id: int | None
    variant_key: str
    variant: str
    kind: str
    value: str
    criteria: list[str]
    reason: str | None  # None: made in another analysis
    actor: str
    at: str


@dataclass(frozen=True)
class Interpretation:
    variant_key: str
    selected: bool
    tags: list[str]
    comments: int
    classification: NoteView | None


class InterpretationManager:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def add(self, principal: Principal, note: Note) -> list[NoteView]:
        """Adds the note to each variant (they must be variants of the analysis)."""
        require_user(principal)
        value, criteria, reason = _checked(note)
        keys = _keys(note.variant_keys)
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, note.analysis_id)
            analysis = prepared.analysis
            await require_role(uow, principal, analysis.project_id, "editor")
            query = vf.VariantQuery(
                prepared.sample_ids, vf.VariantKey(tuple(keys)),
                limit=len(keys),
            )  # fmt: skip
            page, _ = await run_query(uow, query, prepared.placements)
            found = {bytes.fromhex(r.variant_key): r for r in page.items}
            missing = [k.hex() for k in keys if k not in found]
            if missing:
                raise NotFound(f"variant {missing[0]} is not in the analysis", id=missing[0])
            notes = [
                VariantNote(
                    project_id=analysis.project_id,
                    analysis_id=analysis.id,
                    vkey=k,
                    variant=_label(found[k]),
                    kind=note.kind,
                    value=value,
                    criteria=criteria,
                    reason=reason,
                    actor_id=principal.user_id,
                    actor=principal.login,
                )
                for k in keys
            ]
            await uow.notes.add_many(notes)
            await record(uow, principal, f"variant.{note.kind}", "analysis", analysis.id,
                         project_id=analysis.project_id, variants=len(keys), value=value,
                         criteria=criteria)  # fmt: skip
            await uow.commit()
            return [_view(n, analysis.id) for n in notes]

    async def history(
        self, principal: Principal, analysis_id: int, variant_key: str
    ) -> list[NoteView]:
        """Every note of the analysis on the variant, and its classifications from anywhere."""
        require_user(principal)
        (key,) = _keys((variant_key,))
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            notes = await uow.notes.history(prepared.analysis.id, key)
            return [_view(n, analysis_id) for n in notes]

    async def of_variants(
        self, principal: Principal, analysis_id: int, variant_keys: Sequence[str]
    ) -> list[Interpretation]:
        """The current state of each variant (for a page of results)."""
        require_user(principal)
        keys = _keys(tuple(variant_keys)) if variant_keys else []
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            states = await uow.notes.states(prepared.analysis.id, keys)
        empty = NoteState()
        out = []
        for k in keys:
            s = states.get(k, empty)
            c = s.classification
            out.append(Interpretation(k.hex(), s.selected, list(s.tags), s.comments,
                                      _view(c, analysis_id) if c else None))  # fmt: skip
        return out


def _checked(note: Note) -> tuple[str, list[str], str]:
    kinds = ("select", "unselect", "tag", "untag", "comment", "classify")
    if note.kind not in kinds:
        raise InvalidInput(f"unknown note {note.kind!r}; expected one of {kinds}", field="kind")
    value, reason = note.value.strip(), note.reason.strip()
    for name, text in (("value", value), ("reason", reason)):
        if len(text) > MAX_TEXT or not storable(text, control=True):
            raise InvalidInput(
                f"a {name} has at most {MAX_TEXT:,} characters, none of them NUL or invalid",
                field=name,
            )
    criteria: list[str] = []
    if note.kind in ("tag", "untag"):
        if value not in TAGS and not _CUSTOM_TAG.match(value):
            raise InvalidInput(
                f"a tag is one of {TAGS} or a word of lower-case letters, digits, - and _",
                field="value",
            )
    elif note.kind == "comment":
        if not value:
            raise InvalidInput("a comment needs a text", field="value")
    elif note.kind == "classify":
        if value not in CLASSES:
            raise InvalidInput(f"unknown class {value!r}; expected one of {CLASSES}", field="value")
        given = [c.strip() for c in note.criteria if c.strip()]
        bad = [c for c in given if not _CRITERION.match(c)]
        if bad:
            raise InvalidInput(
                f"unknown ACMG criterion {bad[0]!r} (e.g. PVS1, PM2_Supporting, BA1)",
                field="criteria",
            )
        criteria = list(dict.fromkeys(_criterion(c) for c in given))
    elif value:
        raise InvalidInput(f"a {note.kind} note has no value; give the reason", field="value")
    return value, criteria, reason


def _keys(hex_keys: tuple[str, ...]) -> list[bytes]:
    if not hex_keys:
        raise InvalidInput("name at least one variant", field="variantKeys")
    if len(hex_keys) > MAX_KEYS:
        raise InvalidInput(f"at most {MAX_KEYS:,} variants at once", field="variantKeys")
    keys = []
    for text in hex_keys:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise InvalidInput(f"{text[:40]!r} is not a variant key (32 hexadecimal digits)",
                               field="variantKeys")  # fmt: skip
        keys.append(key)
    return list(dict.fromkeys(keys))


def _label(r: VariantRow) -> str:
    ref = r.ref if len(r.ref) <= 20 else f"{r.ref[:10]}...({len(r.ref)})"
    alt = r.alt if len(r.alt) <= 20 else f"{r.alt[:10]}...({len(r.alt)})"
    return f"{r.chrom}:{r.pos} {ref}>{alt}"


def _view(n: VariantNote, analysis_id: int) -> NoteView:
    here = n.analysis_id == analysis_id
    return NoteView(
        n.id, n.analysis_id if here else None, n.vkey.hex(), n.variant, n.kind, n.value,
        list(n.criteria),
        n.reason if here else None, n.actor, n.at.isoformat(timespec="seconds"),
    )  # fmt: skip
