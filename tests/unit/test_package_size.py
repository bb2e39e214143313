"""bench.package adds each function's own code to the layers it runs with (the template's global layers and its
own), as Lambda's 250 MB unzipped limit counts them."""

from __future__ import annotations

from bench import package

from local.template import load_template
from tests.support import ROOT


def _fill(path, size):
    path.mkdir(parents=True, exist_ok=True)
    (path / "blob.bin").write_bytes(b"\0" * size)


def test_a_function_counts_its_code_and_every_layer_it_runs_with(tmp_path):
    template = load_template(ROOT / "template.yaml")
    globals_ = [layer["Ref"] for layer in template["Globals"]["Function"]["Layers"]]
    own = {name: [layer["Ref"] for layer in r["Properties"]["Layers"] if isinstance(layer, dict) and "Ref" in layer]
           for name, r in template["Resources"].items()
           if r["Type"] == "AWS::Serverless::Function" and r.get("Properties", {}).get("Layers")}
    function, extra = next((name, [x for x in layers if x not in globals_]) for name, layers in own.items()
                           if set(layers) - set(globals_))
    for i, layer in enumerate(dict.fromkeys(globals_ + extra)):
        _fill(tmp_path / layer, (i + 1) * 1_000_000)
    plain = next(name for name, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function" and name not in own)
    _fill(tmp_path / function, 500_000)
    _fill(tmp_path / plain, 200_000)

    result = package.run(tmp_path)

    layers_mb = sum(range(1, len(dict.fromkeys(globals_ + extra)) + 1))
    assert result["functions"][function]["unzipped_mb"] == round(0.5 + layers_mb, 1)
    assert result["functions"][function]["layers"] == list(dict.fromkeys(globals_ + extra))
    globals_mb = sum(range(1, len(globals_) + 1))
    assert result["functions"][plain]["unzipped_mb"] == round(0.2 + globals_mb, 1)
    assert result["largest"]["function"] == function
    assert result["within_limit"] is True
