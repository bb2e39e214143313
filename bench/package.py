"""How big each function is once deployed: its own code plus every layer it runs with, unzipped, against
Lambda's limit of 250 MB (function and layers together, unzipped). Reads what ``sam build`` wrote.

    sam build && python -m bench.package     writes the "package" key of bench/results.json
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.harness import save_result
from local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
LIMIT_MB = 250.0                     # Lambda: function code and all its layers, unzipped


def _size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = Path(folder, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def _layers(value: Any) -> list[str]:
    """The logical ids of the layers a ``Layers`` list names with ``!Ref`` (ARNs of others' layers are not ours)."""
    return [item["Ref"] for item in value or [] if isinstance(item, dict) and "Ref" in item]


def run(build: Path = BUILD) -> dict[str, Any]:
    if not build.is_dir():
        raise SystemExit(f"{build} is missing: run sam build first (make build)")
    template = load_template(ROOT / "template.yaml")
    shared = _layers(template.get("Globals", {}).get("Function", {}).get("Layers"))
    layer_mb = {name: round(_size(build / name) / 1e6, 1) for name, resource in template["Resources"].items()
                if resource["Type"] == "AWS::Serverless::LayerVersion" and (build / name).is_dir()}
    functions: dict[str, dict[str, Any]] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function" or not (build / name).is_dir():
            continue
        layers = list(dict.fromkeys(shared + _layers(resource.get("Properties", {}).get("Layers"))))
        code = round(_size(build / name) / 1e6, 1)
        total = round(code + sum(layer_mb.get(layer, 0.0) for layer in layers), 1)
        functions[name] = {"code_mb": code, "layers": layers, "unzipped_mb": total,
                           "headroom_mb": round(LIMIT_MB - total, 1)}
    largest = max(functions.items(), key=lambda kv: kv[1]["unzipped_mb"])
    return {"limit_mb": LIMIT_MB, "layers_mb": layer_mb, "functions": functions,
            "largest": {"function": largest[0], "unzipped_mb": largest[1]["unzipped_mb"]},
            "within_limit": all(f["unzipped_mb"] <= LIMIT_MB for f in functions.values())}


def report(result: dict[str, Any]) -> str:
    lines = [f"package: largest {result['largest']['function']} {result['largest']['unzipped_mb']} MB unzipped "
             f"(limit {result['limit_mb']:.0f} MB, code and layers together)"]
    lines += [f"  layer {name:<22} {mb:>6} MB" for name, mb in sorted(result["layers_mb"].items())]
    lines += [f"  {name:<28} {f['unzipped_mb']:>6} MB ({f['code_mb']} MB own code; {', '.join(f['layers'])})"
              for name, f in sorted(result["functions"].items(), key=lambda kv: -kv[1]["unzipped_mb"])]
    return "\n".join(lines)


def main() -> None:
    result = run()
    print(report(result))
    save_result("package", result)


if __name__ == "__main__":
    main()
