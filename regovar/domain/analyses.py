"""Analyses: a proband (or a family) of a project, filtered with inheritance modes.

An analysis names its samples and their roles (proband, mother, father, sibling, other), with
the sex and affected status that the inheritance modes use; they are prefilled from the
subjects' pedigree (PED) and can be set per analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from regovar.domain import filter_json, inheritance
from regovar.domain import variant_filter as vf
from regovar.domain.access import readable, require_role, require_user, visible_projects
from regovar.domain.audit import record
from regovar.domain.common import (
    Page,
    check_page,
    checked_description,
    checked_name,
    storable_json,
)
from regovar.domain.errors import Conflict, InvalidInput, NotFound
from regovar.domain.principal import Principal
from regovar.domain.variants import VariantRow, check_query, run_query
from regovar.models import Analysis, AnalysisSample, FilterVersion, Sample, Subject
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory
from regovar.repositories.variant_query import Placement

ROLES = ("proband", "mother", "father", "sibling", "other")
STATUSES = ("open", "in_review", "closed")
_SEX = {"unknown": 0, "male": 1, "female": 2}
_AFFECTED = {"unknown": 0, "unaffected": 1, "affected": 2}
GENE_COUNTS = 500  # genes listed with their count of variants, most first


@dataclass(frozen=True)
class MemberSpec:
    """A sample of a new analysis; None means: from the pedigree."""

    sample_id: int
    role: str | None = None
    sex: str | None = None  # unknown, male, female
    affected: str | None = None  # unknown, unaffected, affected


@dataclass(frozen=True)
class CreateAnalysis:
    project_id: int
    name: str
    samples: tuple[MemberSpec, ...]  # the first is the proband unless a role says otherwise
    description: str = ""
    with_family: bool = True  # add the samples of the proband's parents and siblings


@dataclass(frozen=True)
class UpdateAnalysis:
    """What changes (None: unchanged)."""

    analysis_id: int
    name: str | None = None
    description: str | None = None
    status: str | None = None  # open, in_review, closed
    members: tuple[MemberSpec, ...] = ()  # new role, sex or affected status of some samples
    settings: dict[str, Any] | None = None  # the analysis's own settings (a JSON object)


@dataclass(frozen=True)
class MemberView:
    sample_id: int
    sample: str
    role: str
    sex: str
    affected: str


@dataclass(frozen=True)
class AnalysisView:
    analysis: Analysis
    members: list[MemberView]


@dataclass(frozen=True)
class AnalysisResults:
    analysis_id: int
    mode: str | None  # the inheritance mode and, for compound het, its evidence (":trio")
    page: Page[VariantRow]
    genes: list[tuple[str, int]] = field(default_factory=list)  # variants per gene
    filter_id: int | None = None  # the saved filter and version that produced the result
    filter_version: int | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know of the result


@dataclass(frozen=True)
class VariantDetail:
    row: VariantRow
    transcripts: list[dict[str, Any]]  # source, gene, feature, consequences, impact, hgvsc...


@dataclass(frozen=True)
class Prepared:
    """An analysis ready to be queried: its family and where its samples' values are."""

    analysis: Analysis
    family: inheritance.Family
    sample_ids: tuple[int, ...]
    placements: dict[int, Placement]
    project_imports: tuple[int, ...]  # the project's finished imports (in-house by project)
    names: dict[int, str] = field(default_factory=dict)  # sample id -> sample name


async def readable_analysis(uow: UnitOfWork, principal: Principal, analysis_id: int) -> Analysis:
    """An analysis of a project the principal may read (others do not exist for them)."""
    require_user(principal)
    analysis = await uow.analyses.get(analysis_id)
    if analysis is None or not await readable(uow, principal, {analysis.id: analysis}):
        raise NotFound(f"analysis {analysis_id} not found", id=analysis_id)
    return analysis


async def prepare(uow: UnitOfWork, principal: Principal, analysis_id: int) -> Prepared:
    analysis = await readable_analysis(uow, principal, analysis_id)
    pairs = await uow.analyses.member_samples(analysis.id)
    assembly = await _assembly(uow, [s for _, s in pairs])
    members = tuple(inheritance.Member(m.sample_id, m.role, m.sex, m.affected) for m, _ in pairs)
    return Prepared(
        analysis,
        inheritance.Family(members, assembly),
        tuple(m.sample_id for m, _ in pairs),
        {s.id: Placement(s.import_id, s.column) for _, s in pairs},
        tuple(await uow.imports.done_ids(analysis.project_id)),
        {s.id: s.name for _, s in pairs},
    )


@dataclass(frozen=True)
class ChosenFilter:
    document: Any
    tree: vf.Node | None
    mode: str | None
    saved: FilterVersion | None  # when a saved filter was named


async def choose_filter(
    uow: UnitOfWork, prepared: Prepared, document: Any, saved: tuple[int, int | None] | None
) -> ChosenFilter:
    """A filter document, or the saved one (filter id, version or None for the latest), read
    against the analysis."""
    if document is None and saved is None:
        raise InvalidInput("give a filter document or a saved filter", field="filter")
    if document is not None and saved is not None:
        raise InvalidInput("give a filter document or a saved filter, not both", field="filter")
    used = None
    if saved is not None:
        used = await saved_version(uow, prepared.analysis, *saved)
        document = used.document
    tree, mode = filter_json.parse(
        document, prepared.family, prepared.analysis.id, prepared.project_imports
    )
    return ChosenFilter(document, tree, mode, used)


async def saved_version(
    uow: UnitOfWork, analysis: Analysis, filter_id: int, version: int | None
) -> FilterVersion:
    """A version of a filter of this analysis or a preset of its project."""
    saved = await uow.filters.get(filter_id)
    if saved is None or saved.project_id != analysis.project_id or saved.analysis_id not in (
        None, analysis.id
    ):  # fmt: skip
        raise NotFound(f"filter {filter_id} not found for this analysis", id=filter_id)
    found = (
        await uow.filters.latest(filter_id)
        if version is None
        else await uow.filters.version(filter_id, version)
    )
    if found is None:
        raise NotFound(f"filter {filter_id} has no version {version}", id=filter_id)
    return found


class AnalysisManager:
    def __init__(self, uow: UnitOfWorkFactory, max_page_size: int) -> None:
        self.uow = uow
        self.max_page_size = max_page_size

    async def create(self, principal: Principal, command: CreateAnalysis) -> AnalysisView:
        require_user(principal)
        name = checked_name(command.name, "an analysis")
        description = checked_description(command.description)
        if not command.samples:
            raise InvalidInput("an analysis needs at least one sample", field="samples")
        if len(command.samples) > vf.MAX_SAMPLES:
            raise InvalidInput(f"at most {vf.MAX_SAMPLES} samples", field="samples")
        async with self.uow() as uow:
            await require_role(uow, principal, command.project_id, "editor")
            if await uow.analyses.by_name(command.project_id, name) is not None:
                raise Conflict(f"the project has an analysis named {name!r}", field="name")
            members = await self._members(uow, principal, command)
            analysis = await uow.analyses.add(
                Analysis(
                    project_id=command.project_id,
                    name=name,
                    description=description,
                    created_by=principal.user_id,
                    updated_by=principal.user_id,
                ),
                members,
            )
            await record(uow, principal, "analysis.create", "analysis", analysis.id,
                         project_id=command.project_id, name=name,
                         samples=[m.sample_id for m in members])  # fmt: skip
            await uow.commit()
            return await self._view(uow, analysis)

    async def update(self, principal: Principal, command: UpdateAnalysis) -> AnalysisView:
        """Renames, describes, moves through its statuses, or sets roles, sex and status of
        its samples; the editor role; who changed it is recorded (and in the audit trail)."""
        require_user(principal)
        async with self.uow() as uow:
            analysis = await readable_analysis(uow, principal, command.analysis_id)
            await require_role(uow, principal, analysis.project_id, "editor")
            changes: dict[str, Any] = {}
            if command.name is not None:
                name = checked_name(command.name, "an analysis")
                other = await uow.analyses.by_name(analysis.project_id, name)
                if other is not None and other.id != analysis.id:
                    raise Conflict(f"the project has an analysis named {name!r}", field="name")
                analysis.name = changes["name"] = name
            if command.description is not None:
                text = checked_description(command.description)
                analysis.description = changes["description"] = text
            if command.status is not None:
                if command.status not in STATUSES:
                    raise InvalidInput(f"unknown status {command.status!r}; expected one of "
                                       f"{STATUSES}", field="status")  # fmt: skip
                analysis.status = changes["status"] = command.status
            if command.settings is not None:
                if not isinstance(command.settings, dict) or len(repr(command.settings)) > 65_536:
                    raise InvalidInput("settings are a JSON object of at most 64 KiB",
                                       field="settings")  # fmt: skip
                if not storable_json(command.settings):
                    raise InvalidInput("settings hold a NUL or an invalid character",
                                       field="settings")  # fmt: skip
                analysis.settings = command.settings
                changes["settings"] = True
            if command.members:
                changes["members"] = await _set_members(uow, analysis.id, command.members)
            await uow.analyses.touch(analysis, principal.user_id)
            await record(uow, principal, "analysis.update", "analysis", analysis.id,
                         project_id=analysis.project_id, **changes)  # fmt: skip
            await uow.commit()
            return await self._view(uow, analysis)

    async def page(
        self, principal: Principal, project_id: int | None, offset: int = 0, limit: int = 100
    ) -> Page[AnalysisView]:
        require_user(principal)
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            if project_id is not None:
                await require_role(uow, principal, project_id, "viewer")
            visible = await visible_projects(uow, principal)
            items, total = await uow.analyses.page(project_id, offset, limit, visible)
            members = await uow.analyses.member_samples_of([a.id for a in items])
            views = [_view_of(a, members.get(a.id, [])) for a in items]
            return Page(views, total, offset, limit)

    async def get(self, principal: Principal, analysis_id: int) -> AnalysisView:
        async with self.uow() as uow:
            analysis = await self._readable(uow, principal, analysis_id)
            return await self._view(uow, analysis)

    async def find(self, principal: Principal, project_id: int, name_or_id: str) -> AnalysisView:
        """The CLI names analyses by name (in a project) or id."""
        require_user(principal)
        async with self.uow() as uow:
            await require_role(uow, principal, project_id, "viewer")
            found = await uow.analyses.by_name(project_id, name_or_id)
            if found is None and name_or_id.isdigit() and int(name_or_id) < 2**31:
                found = await uow.analyses.get(int(name_or_id))
            if found is None or found.project_id != project_id:
                raise NotFound(f"analysis {name_or_id!r} not found", name=name_or_id)
            return await self._view(uow, found)

    async def results(
        self,
        principal: Principal,
        analysis_id: int,
        document: Any = None,
        *,
        saved: tuple[int, int | None] | None = None,
        sort: tuple[vf.SortKey, ...] = (vf.SortKey(),),
        offset: int = 0,
        limit: int = 100,
        gene_counts: bool = False,
    ) -> AnalysisResults:
        """The analysis's variants kept by a filter: a document in the JSON form (see
        filter_json), or ``saved`` = (filter id, version or None for the latest)."""
        require_user(principal)
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            chosen = await choose_filter(uow, prepared, document, saved)
            used, mode = chosen.saved, chosen.mode
            query = vf.VariantQuery(prepared.sample_ids, chosen.tree, sort, offset, limit)
            check_query(query, self.max_page_size)
            page, genes = await run_query(
                uow, query, prepared.placements, genes=GENE_COUNTS if gene_counts else 0
            )
        label = inheritance.mode_label(mode, prepared.family) if mode else None
        return AnalysisResults(
            prepared.analysis.id, label, page, genes,
            filter_id=used.filter_id if used else None,
            filter_version=used.version if used else None,
            notes=_notes(mode, prepared),
        )  # fmt: skip

    async def variant(
        self, principal: Principal, analysis_id: int, variant_key: str
    ) -> VariantDetail:
        """One variant of the analysis: every sample's call and every transcript's annotation."""
        require_user(principal)
        try:
            key = bytes.fromhex(variant_key)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise InvalidInput("a variant key is 32 hexadecimal digits", field="variantKey")
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            query = vf.VariantQuery(prepared.sample_ids, vf.VariantKey((key,)), limit=1)
            page, _ = await run_query(uow, query, prepared.placements)
            if not page.items:
                raise NotFound(f"variant {variant_key} is not in the analysis", id=variant_key)
            imports = list(dict.fromkeys(p.import_id for p in prepared.placements.values()))
            transcripts = await uow.variant_query.transcripts(imports, key)
            return VariantDetail(page.items[0], transcripts)

    async def _readable(self, uow: UnitOfWork, principal: Principal, analysis_id: int) -> Analysis:
        return await readable_analysis(uow, principal, analysis_id)

    async def _view(self, uow: UnitOfWork, analysis: Analysis) -> AnalysisView:
        return _view_of(analysis, await uow.analyses.member_samples(analysis.id))

    async def _members(
        self, uow: UnitOfWork, principal: Principal, command: CreateAnalysis
    ) -> list[AnalysisSample]:
        ids = [m.sample_id for m in command.samples]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a sample is listed twice", field="samples")
        samples = await readable(uow, principal, await uow.samples.get_many(ids))
        for sid in ids:
            sample = samples.get(sid)
            if sample is None or sample.project_id != command.project_id:
                raise NotFound(f"sample {sid} not found in the project", id=sid)
        specs = {m.sample_id: m for m in command.samples}
        proband_id = next((m.sample_id for m in command.samples if m.role == "proband"), ids[0])
        subject_ids = [s.subject_id for s in samples.values() if s.subject_id]
        subjects = await uow.subjects.get_many(subject_ids)
        if command.with_family:
            extra = await _relatives(uow, samples[proband_id], subjects, set(ids))
            for sample in extra:
                samples[sample.id] = sample
                ids.append(sample.id)
            subjects = await uow.subjects.get_many(
                [s.subject_id for s in samples.values() if s.subject_id]
            )
        await _assembly(uow, list(samples.values()))
        proband = subjects.get(samples[proband_id].subject_id or -1)
        members = []
        for position, sid in enumerate(ids):
            spec = specs.get(sid, MemberSpec(sid))
            subject = subjects.get(samples[sid].subject_id or -1)
            role = spec.role or ("proband" if sid == proband_id else _role(subject, proband))
            if role not in ROLES:
                raise InvalidInput(f"unknown role {role!r}; expected one of {ROLES}")
            sex = _code(spec.sex, _SEX, "sex") if spec.sex else (subject.sex if subject else 0)
            if spec.affected:
                affected = _code(spec.affected, _AFFECTED, "affected")
            else:
                affected = subject.affected if subject else 0
                if role == "proband" and affected == 0:
                    affected = 2  # the analysis is about the proband's disease
            _parent_sex(role, sex, samples[sid].name)
            members.append(
                AnalysisSample(
                    sample_id=sid, position=position, role=role, sex=sex, affected=affected
                )
            )
        for unique in ("proband", "mother", "father"):
            holders = [samples[m.sample_id].name for m in members if m.role == unique]
            if len(holders) > 1:
                raise InvalidInput(
                    f"an analysis has at most one {unique}, not {', '.join(holders)} (the "
                    "pedigree names some roles: give others to the rest, or leave out the "
                    "family)",
                    field="samples",
                )
        if not any(m.role == "proband" for m in members):
            raise InvalidInput("an analysis needs a proband", field="samples")
        return members


def _view_of(analysis: Analysis, pairs: list[tuple[AnalysisSample, Sample]]) -> AnalysisView:
    sex = {v: k for k, v in _SEX.items()}
    affected = {v: k for k, v in _AFFECTED.items()}
    return AnalysisView(
        analysis,
        [MemberView(m.sample_id, s.name, m.role, sex[m.sex], affected[m.affected])
         for m, s in pairs],
    )  # fmt: skip


async def _set_members(
    uow: UnitOfWork, analysis_id: int, specs: tuple[MemberSpec, ...]
) -> list[dict[str, Any]]:
    members = {m.sample_id: m for m in await uow.analyses.members(analysis_id)}
    names = {sid: s.name for sid, s in (await uow.samples.get_many(list(members))).items()}
    # Parents swapped in one update (S10 father, Ana mother): the one-proband/mother/father
    # index would see two mothers for a moment; the members changing role step aside first.
    moving = [members[s.sample_id] for s in specs
              if s.role is not None and s.sample_id in members
              and members[s.sample_id].role != s.role]  # fmt: skip
    if len(moving) > 1:
        for stepping in moving:
            stepping.role = "other"
        await uow.analyses.flush()
    changed = []
    for spec in specs:
        member = members.get(spec.sample_id)
        if member is None:
            raise NotFound(f"sample {spec.sample_id} is not in the analysis", id=spec.sample_id)
        if spec.role is not None:
            if spec.role not in ROLES:
                raise InvalidInput(f"unknown role {spec.role!r}; expected one of {ROLES}")
            member.role = spec.role
        if spec.sex is not None:
            member.sex = _code(spec.sex, _SEX, "sex")
        if spec.affected is not None:
            member.affected = _code(spec.affected, _AFFECTED, "affected")
        _parent_sex(member.role, member.sex, names.get(member.sample_id, "a sample"))
        changed.append({"sample": spec.sample_id, "role": member.role, "sex": member.sex,
                        "affected": member.affected})  # fmt: skip
    for unique in ("proband", "mother", "father"):
        if sum(m.role == unique for m in members.values()) > 1:
            raise InvalidInput(f"an analysis has at most one {unique}", field="samples")
    if not any(m.role == "proband" for m in members.values()):
        raise InvalidInput("an analysis needs a proband", field="samples")
    await uow.analyses.flush()
    return changed


_STATUS_MODES = ("autosomal_dominant", "autosomal_recessive", "x_linked_recessive",
                 "x_linked_dominant", "mitochondrial")  # fmt: skip
_SIBLING_MODES = ("de_novo", "compound_heterozygous")


def _notes(mode: str | None, prepared: Prepared) -> list[str]:
    """Modes that read affected statuses: say whose status is unknown (not constrained). De
    novo and compound heterozygous read the parents by their role, the siblings by status."""
    if mode in _SIBLING_MODES:
        roles: tuple[str, ...] = ("sibling",)
    elif mode in _STATUS_MODES:
        roles = ("mother", "father", "sibling", "other")
    else:
        return []
    unknown = [m for m in prepared.family.members if m.affected == 0 and m.role in roles]
    if not unknown:
        return []
    who = ", ".join(f"{prepared.names.get(m.sample_id, m.sample_id)} ({m.role})" for m in unknown)
    return [f"{who}: affected status unknown, so not constrained by the mode; set it with "
            "`regovar analyses update` (GraphQL updateAnalysis)"]  # fmt: skip


def _parent_sex(role: str, sex: int, name: str) -> None:
    """A mother is not male, nor a father female: the X-linked and de novo modes read the
    parents by their role (a swap of the parents passed unnoticed)."""
    if (role, sex) in (("mother", 1), ("father", 2)):
        said = "male" if sex == 1 else "female"
        raise InvalidInput(f"{name} is {said} (from its pedigree, or as given) and cannot be "
                           f"the {role}: give the right role, or its sex", field="samples")


def _code(value: str, codes: dict[str, int], name: str) -> int:
    if value not in codes:
        raise InvalidInput(f"unknown {name} {value!r}; expected one of {list(codes)}", field=name)
    return codes[value]


def _role(subject: Subject | None, proband: Subject | None) -> str:
    if subject is None or proband is None:
        return "other"
    if subject.id == proband.mother_id:
        return "mother"
    if subject.id == proband.father_id:
        return "father"
    shares = {subject.mother_id, subject.father_id} & {proband.mother_id, proband.father_id}
    return "sibling" if shares - {None} else "other"


async def _relatives(
    uow: UnitOfWork, proband: Sample, subjects: dict[int, Subject], taken: set[int]
) -> list[Sample]:
    """The latest sample of each parent and sibling of the proband, in the same project."""
    subject = subjects.get(proband.subject_id or -1)
    if subject is None:
        return []
    wanted = await uow.subjects.relatives(subject)
    if not wanted:
        return []
    latest = await uow.samples.latest_of_subjects(proband.project_id, [s.id for s in wanted])
    order = {"mother": 0, "father": 1}
    chosen = [s for s in latest if s.id not in taken]
    chosen.sort(key=lambda s: order.get(_role(_by_id(wanted, s.subject_id), subject), 2))
    return chosen


def _by_id(subjects: list[Subject], subject_id: int | None) -> Subject | None:
    return next((s for s in subjects if s.id == subject_id), None)


async def _assembly(uow: UnitOfWork, samples: list[Sample]) -> str:
    imports = await uow.imports.get_many(sorted({s.import_id for s in samples}))
    if any(i.state != "done" for i in imports.values()):
        raise InvalidInput("a sample's import is not finished yet")
    assemblies = {i.assembly for i in imports.values()}
    if len(assemblies) > 1:
        raise InvalidInput("the samples come from different genome assemblies")
    return assemblies.pop() or "GRCh38"
