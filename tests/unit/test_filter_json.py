"""The filter's JSON form, read into filter trees (no database)."""

from __future__ import annotations

import pytest

from regovar.domain import filter_json, inheritance
from regovar.domain.errors import InvalidInput
from regovar.models import variant_filter as vf

FAMILY = inheritance.Family(
    (
        inheritance.Member(11, "proband", 1, 2),
        inheritance.Member(12, "mother", 2, 1),
        inheritance.Member(13, "father", 1, 1),
    ),
    "GRCh38",
)


def parse(node):
    return filter_json.parse({"version": 1, "filter": node}, FAMILY)


def test_roles_become_sample_ids_and_leaves_their_nodes():
    tree, mode = parse({"all": [
        {"genotype": {"sample": "mother", "is": ["het", "hom_alt"]}},
        {"sample_value": {"sample": 13, "field": "gq", "op": "ge", "value": 20}},
        {"regions": ["chr1:1,000-2,000", "chrX"]},
        {"not": {"type": ["sv"]}},
        {"alleles": {"alt": "g"}},
        {"filter": {"pass": True, "missing_is_pass": True}},
        {"info": {"name": "gnomAD_AF", "op": "lt", "value": 0.001}},
    ]})  # fmt: skip
    assert mode is None
    assert tree == vf.And((
        vf.Genotype(12, ("het", "hom_alt")),
        vf.SampleValue(13, "gq", "ge", 20.0),
        vf.Or((vf.Region("chr1", 1000, 2000), vf.Region("chrX", None, None))),
        vf.Not(vf.VariantType(("sv",))),
        vf.Alleles(None, "G"),
        vf.Filters(True, True, ()),
        vf.Info("gnomAD_AF", "lt", 0.001),
    ))  # fmt: skip


def test_operators_are_read_in_any_case_and_an_info_comparison_needs_a_value():
    # 'GE' (as GraphQL's enum and the CLI show it) was refused in a saved filter; GraphQL's
    # INFO condition with an operator and no value matched nothing, silently.
    tree, _ = parse({"all": [{"qual": {"op": "GE", "value": 30}},
                             {"info": {"name": "DB", "op": "Exists"}},
                             {"sample_value": {"sample": 13, "field": "dp", "op": "Lt",
                                               "value": 5}}]})  # fmt: skip
    assert tree == vf.And((vf.Qual("ge", 30.0), vf.Info("DB", "exists"),
                           vf.SampleValue(13, "dp", "lt", 5.0)))  # fmt: skip
    with pytest.raises(InvalidInput, match="unknown operator '>='; expected one of eq, ne, "):
        parse({"qual": {"op": ">=", "value": 30}})
    from regovar.domain.variant_filter import validate

    with pytest.raises(InvalidInput, match="INFO DP ge: no value to compare with"):
        validate(vf.Info("DP", "ge", None), ())
    validate(vf.Info("DB", "exists", None), ())


def test_a_mode_comes_first_and_compound_het_keeps_its_candidates():
    tree, mode = parse({"all": [{"impact": "HIGH"}, {"inheritance": "compound_heterozygous"}]})
    assert mode == "compound_heterozygous"
    # the proband (11) is male: his X outside the PARs has one copy, as Y and MT do
    par = tuple(vf.Not(vf.Region("chrX", a, b)) for a, b in inheritance.PAR["GRCh38"])
    haploid = vf.Or((vf.Chromosome("Y"), vf.Chromosome("MT"),
                     vf.And((vf.Chromosome("X"), *par))))  # fmt: skip
    assert tree == vf.And((
        vf.CompoundHet(vf.And((vf.Not(haploid), vf.And((vf.MinImpact("HIGH"),)))), 11, 12, 13),
        vf.MinImpact("HIGH"),
    ))  # fmt: skip
    assert inheritance.mode_label(mode, FAMILY) == "compound_heterozygous:trio"


def test_x_linked_modes_exclude_the_assembly_pars():
    tree, _ = parse({"inheritance": "x_linked_dominant"})
    assert isinstance(tree, vf.And)
    outside = tree.children[0]
    assert outside == vf.And((
        vf.Chromosome("X"),
        vf.Not(vf.Region("chrX", 10_001, 2_781_479)),
        vf.Not(vf.Region("chrX", 155_701_383, 156_030_895)),
    ))  # fmt: skip


def test_affected_quantifiers_expand_over_the_members():
    tree, _ = parse({"unaffected": {"quantifier": "all", "is": "hom_ref"}})
    assert tree == vf.And((vf.Genotype(12, ("hom_ref",)), vf.Genotype(13, ("hom_ref",))))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "filter: a filter is a JSON object"),
        ({"version": 1, "filters": {}}, "filter: unknown key 'filters'"),
        ({"version": 1, "filter": {"all": {"genes": ["A"]}}}, "filter.all: expected a list"),
        ({"version": 1, "filter": {"genes": []}}, "filter.genes: at least one gene"),
        ({"version": 1, "filter": {"region": "1:5-2"}}, "filter.region: start 5 is after end 2"),
        ({"version": 1, "filter": {"genotype": {"sample": "proband", "is": ["hetero"]}}},
         "filter.genotype.is[0]: unknown zygosity 'hetero'"),
        ({"version": 1, "filter": {"genotype": {"sample": 99, "is": "het"}}},
         "filter.genotype.sample: 99 is not a sample of the analysis"),
        ({"version": 1, "filter": {"info": {"name": "AF; DROP", "op": "lt", "value": 1}}},
         "filter.info.name: invalid INFO field name"),
        ({"version": 1, "filter": {"info": {"name": "CLNSIG", "op": "gt", "value": "x"}}},
         "filter.info.op: texts compare with eq or ne"),
        ({"version": 1, "filter": {"qual": {"op": "ge", "value": float("nan")}}},
         "filter.qual.value: expected a finite number"),
        ({"version": 1, "filter": {"all": [{"inheritance": "de_novo"},
                                           {"inheritance": "autosomal_dominant"}]}},
         "filter.all[1]: only one inheritance mode per filter"),
    ],
)  # fmt: skip
def test_bad_documents_name_the_place(document, message):
    with pytest.raises(InvalidInput) as err:
        filter_json.parse(document, FAMILY)
    assert err.value.message.startswith(message), err.value.message


def test_nesting_is_bounded():
    node: dict = {"genes": ["A"]}
    for _ in range(40):
        node = {"not": node}
    with pytest.raises(InvalidInput, match="nested deeper"):
        parse(node)
