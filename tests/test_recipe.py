import pytest
import yaml

from corpusmill.corpus import open_corpus
from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.mixers.recipe import default_recipe, load_recipe, recipe_from_dict
from corpusmill.mixers.selection import validate_sql
from tests.mix_corpus import write_corpus


def stage(**kw):
    base = {
        "name": "s",
        "seq_len": 128,
        "budget_tokens": 1000,
        "buckets": [{"name": "all", "where": "TRUE", "share": 1.0}],
    }
    return {**base, **kw}


def test_default_recipes_model_qwen3():
    r = default_recipe("qwen3")
    assert [s.name for s in r.stages] == ["s1", "s2", "s3"]
    assert [s.seq_len for s in r.stages] == [4096, 4096, 32768]
    s3 = r.stages[2]
    assert s3.packing == "pack" and {b.name: b.share for b in s3.buckets} == {"long": 0.75, "medium": 0.25}
    scaled = r.with_budget(3_550_000)
    assert [s.budget_tokens for s in scaled.stages] == [3_000_000, 500_000, 50_000]
    assert load_recipe("s2").stages[0].name == "s2"
    assert [s.budget_tokens for s in scaled.with_stage_budgets({"s3": 7}).stages] == [3_000_000, 500_000, 7]
    with pytest.raises(ConfigError, match="no stage"):
        r.with_stage_budgets({"s9": 1})


def test_yaml_roundtrip(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"stages": [stage(budget_tokens="2e6")]}))
    assert load_recipe(str(path)).stages[0].budget_tokens == 2_000_000
    with pytest.raises(InputNotFoundError):
        load_recipe(str(tmp_path / "nope.yaml"))
    path.write_text("stages: [unclosed")
    with pytest.raises(ConfigError, match="YAML"):
        load_recipe(str(path))


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"stages": [stage(colour="red")]}, "unknown keys"),
        ({"stages": []}, "at least one stage"),
        ({"stages": [stage(seq_len=0)]}, "seq_len"),
        ({"stages": [stage(budget_tokens=-5)]}, "budget_tokens"),
        ({"stages": [stage(packing="zip")]}, "packing"),
        ({"stages": [stage(long_documents="truncate")]}, "long_documents"),
        ({"stages": [stage(buckets=[])]}, "at least one bucket"),
        ({"stages": [stage(buckets=[{"name": "a", "where": "TRUE", "share": 0.7}])]}, "sum to 0.7"),
        (
            {
                "stages": [
                    stage(
                        buckets=[
                            {"name": "a", "where": "TRUE", "share": 0.7},
                            {"name": "b", "where": "TRUE", "share": 0.6},
                        ]
                    )
                ]
            },
            "> 1",
        ),
        ({"stages": [stage(buckets=[{"name": "a", "where": "TRUE", "share": 1, "max_repeats": 0}])]}, "max_repeats"),
        ({"stages": [stage(buckets=[{"name": "a", "where": "", "share": 1}])]}, "where"),
        ({"stages": [stage(buckets=[{"name": "a b", "where": "TRUE", "share": 1}])]}, "bucket name"),
        ({"stages": [stage(buckets=[{"name": "a", "where": "TRUE", "weight": -1}])]}, "weight"),
        ({"stages": [stage(), stage()]}, "stage names repeat"),
        ({"stages": [stage()], "missing_annotations": "guess"}, "missing_annotations"),
    ],
)
def test_bad_recipes_are_config_errors(bad, match):
    with pytest.raises(ConfigError, match=match):
        recipe_from_dict(bad)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    docs, ann, _ = write_corpus(tmp_path_factory.mktemp("c"), 12)
    with open_corpus(docs, ann) as c:
        yield c


@pytest.mark.parametrize(
    "where, match",
    [
        ("colour = 'red'", "colour"),  # unknown column
        ("edu_score >>> 3", "bucket all where"),  # bad SQL
        ("TRUE) ; DROP TABLE documents; SELECT (1", "one SQL expression"),
        ("lang = 'en'", None),
    ],
)
def test_bucket_sql_is_checked_against_the_corpus_view(corpus, where, match):
    recipe = recipe_from_dict({"stages": [stage(buckets=[{"name": "all", "where": where, "share": 1.0}])]})
    if match is None:
        validate_sql(corpus, recipe)
        return
    with pytest.raises(ConfigError, match=match):
        validate_sql(corpus, recipe)


def test_default_recipes_validate_against_annotator_columns(corpus):
    validate_sql(corpus, default_recipe("qwen3"))


def test_bad_weight_expression(corpus):
    recipe = recipe_from_dict(
        {"stages": [stage(buckets=[{"name": "a", "where": "TRUE", "share": 1, "weight": "no_such_col * 2"}])]}
    )
    with pytest.raises(ConfigError, match="weight"):
        validate_sql(corpus, recipe)


def test_duplicate_annotation_rows_are_refused(tmp_path):
    import pyarrow.parquet as pq

    from corpusmill import storage
    from corpusmill.mixers.selection import check_unique_ids

    docs, ann, _ = write_corpus(tmp_path, 6)
    check_unique_ids(open_corpus(docs, ann))
    table = pq.read_table(f"{ann}/part-00000.parquet")
    storage.write_parquet(table.slice(0, 2), f"{ann}/part-00001.parquet")
    with pytest.raises(ConfigError, match="annotations hold 2 duplicate ids"):
        check_unique_ids(open_corpus(docs, ann))
